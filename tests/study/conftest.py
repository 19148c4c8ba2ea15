"""A student with a finished exam behind them, and a timed block open elsewhere on demand."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from exams import services
from exams.models import Attempt
from tests.exams.conftest import (  # noqa: F401 - fixtures
    bank,
    exam,
    practice_open,
    short_blueprint,
)


def _wrong(key: int) -> int:
    return (key + 1) % 5


@pytest.fixture
def finished(examinee, exam, practice_open, t0):  # noqa: F811
    """Block 1: item 1 missed, 2 right after a change, 3 marked and right, 4 right, 5 omitted.
    Block 2: every item right, item 1 with a note. The attempt is finished."""
    attempt = services.attempt_start(user=examinee, exam=exam, now=t0, rng=random.Random(1))
    now = t0 + timedelta(minutes=1)
    services.tutorial_end(attempt=attempt, now=now)
    services.block_start(attempt=attempt, now=now)
    seq = 0

    def save(position: int, **fields):
        nonlocal seq
        seq += 1
        services.answer_save(attempt=attempt, position=position, seq=seq, now=now, **fields)

    keys = {
        r.position: r.version.key_index
        for r in attempt.responses.filter(block__number=1).select_related("version")
    }
    save(1, choice=_wrong(keys[1]))
    save(2, choice=_wrong(keys[2]))
    save(2, choice=keys[2])
    save(3, choice=keys[3], is_marked=True)
    save(4, choice=keys[4], note="Remember: beta blockers first")
    services.block_end(attempt=attempt, now=now + timedelta(minutes=5))
    now = now + timedelta(minutes=6)
    services.block_start(attempt=attempt, now=now)
    keys2 = {
        r.position: r.version.key_index
        for r in attempt.responses.filter(block__number=2).select_related("version")
    }
    for position, key in keys2.items():
        save(position, choice=key)
    save(1, note="Murmur radiating to the carotids")
    services.block_end(attempt=attempt, now=now + timedelta(minutes=5))
    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.FINISHED
    return attempt


@pytest.fixture
def open_block_elsewhere(examinee, t0):
    """A timed practice block opened later, holding the one item missed by answer (item 1)."""

    def open_it(now):
        return services.practice_create(
            user=examinee,
            disciplines=[],
            systems=[],
            pool="incorrect",
            count=1,
            mode="timed",
            now=now,
            rng=random.Random(2),
        )

    return open_it

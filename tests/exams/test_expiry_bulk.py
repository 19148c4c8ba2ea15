"""The beat sweep closes a whole cohort's expired blocks in set-based statements, exactly as the
one-by-one reference (`clock.expire_locked`, via `attempt_refresh`) would close each."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exams import answers, attempts, clock
from exams.models import Attempt, AttemptBlock, Response

pytestmark = pytest.mark.django_db


def sitting(django_user_model, exam, t0, n: int, *, prefix: str, in_block_2: bool = False):
    """n examinees who start block 1 together and move to another item at different times;
    with in_block_2 they end block 1 early and are inside block 2 (their last block)."""
    out = []
    for i in range(n):
        user = django_user_model.objects.create_user(
            username=f"{prefix}{i}", password="x", role="examinee"
        )
        a = attempts.attempt_start(user=user, exam=exam, now=t0, rng=random.Random(i))
        clock.tutorial_end(attempt=a, now=t0 + timedelta(minutes=1))
        a = clock.block_start(attempt=a, now=t0 + timedelta(minutes=1))
        if in_block_2:
            a = clock.block_end(attempt=a, now=t0 + timedelta(minutes=3))
            a = clock.block_start(attempt=a, now=t0 + timedelta(minutes=4))
        moved = t0 + timedelta(minutes=5, seconds=i, milliseconds=123 * i)
        answers.item_visit(attempt_uuid=a.uuid, user_id=user.pk, position=2, now=moved)
        out.append(a)
    return out


def snapshot(attempt: Attempt) -> dict:
    attempt.refresh_from_db()
    return {
        "attempt": (attempt.state, attempt.finished_at, attempt.break_started_at),
        "blocks": list(
            attempt.blocks.order_by("number").values_list(
                "number",
                "state",
                "started_at",
                "deadline_at",
                "closed_at",
                "close_reason",
                "current_since",
                "current_position",
                "analytics_state",
            )
        ),
        "times": list(
            Response.objects.filter(attempt=attempt)
            .order_by("block__number", "position")
            .values_list("block__number", "position", "time_spent_ms")
        ),
    }


@pytest.mark.parametrize("in_block_2", [False, True], ids=["to-break", "to-finished"])
def test_sweep_closes_expired_blocks_as_the_one_by_one_path_would(
    django_user_model, exam, t0, in_block_2
):
    swept = sitting(django_user_model, exam, t0, 3, prefix="s", in_block_2=in_block_2)
    late = t0 + timedelta(minutes=30)  # past both blocks' deadlines + grace, inside the day
    assert clock.close_expired_blocks(now=late) == 3

    # The reference: the same timelines, closed attempt by attempt by expire_locked.
    twins = sitting(django_user_model, exam, t0, 3, prefix="t", in_block_2=in_block_2)
    for a in twins:
        clock.attempt_refresh(attempt=a, now=late)
    for a, twin in zip(swept, twins, strict=True):
        got, want = snapshot(a), snapshot(twin)
        assert got == want
        assert got["attempt"][0] == (
            Attempt.State.FINISHED if in_block_2 else Attempt.State.BETWEEN_BLOCKS
        )
        assert any(ms > 0 for _, _, ms in got["times"])


def test_sweep_cost_does_not_grow_with_the_cohort(django_user_model, exam, t0):
    def sweep_queries(n: int, prefix: str, late) -> int:
        sitting(django_user_model, exam, t0, n, prefix=prefix)
        with CaptureQueriesContext(connection) as ctx:
            assert clock.close_expired_blocks(now=late) == n
        return len(ctx.captured_queries)

    few = sweep_queries(2, "few", t0 + timedelta(minutes=30))
    many = sweep_queries(8, "many", t0 + timedelta(minutes=30, seconds=1))
    assert many == few
    assert many <= 12


def test_sweep_queues_each_closed_blocks_analytics_on_commit(
    django_user_model, exam, t0, django_capture_on_commit_callbacks
):
    cohort = sitting(django_user_model, exam, t0, 4, prefix="q")
    with django_capture_on_commit_callbacks() as callbacks:
        assert clock.close_expired_blocks(now=t0 + timedelta(minutes=30)) == 4
    assert len(callbacks) == 4
    for a in cohort:
        assert a.blocks.get(number=1).analytics_state == AttemptBlock.AnalyticsState.PENDING


def test_sweep_leaves_blocks_in_their_grace_open(django_user_model, exam, t0):
    cohort = sitting(django_user_model, exam, t0, 2, prefix="g")
    deadline = cohort[0].blocks.get(number=1).deadline_at
    assert clock.close_expired_blocks(now=deadline + clock.grace()) == 0
    assert AttemptBlock.objects.filter(state="active").count() == 2

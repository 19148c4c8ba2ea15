"""Races on real PostgreSQL: two tabs saving at once, end-block twice at once, a double start.

Each thread has its own database connection, so the row locks in exams/clock.py and exams/answers.py are what
keeps these correct, not the test's ordering.
"""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
from django.db import connection

from exams import answers, attempts, clock
from exams.errors import BlockClosed
from exams.models import Attempt, AttemptBlock, Response

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _analytics_in_process():
    """Run the analytics of blocks closed here in this process, not on the worker.

    These tests commit for real; with a broker, their block closes would be computed by the
    suite's Celery worker while pytest-django truncates the tables after the test, and the two
    can deadlock. The worker path has its own tests (tests/analytics/test_tasks.py).
    """
    from config.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


def run_together(*targets) -> list[BaseException]:
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def wrap(fn):
        def runner():
            try:
                barrier.wait(timeout=10)
                fn()
            except BaseException as exc:  # collected and re-raised by the test
                errors.append(exc)
            finally:
                connection.close()

        return runner

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


@pytest.fixture
def running(examinee, exam, t0):
    attempt = attempts.attempt_start(user=examinee, exam=exam, now=t0, rng=random.Random(11))
    clock.tutorial_end(attempt=attempt, now=t0)
    return clock.block_start(attempt=attempt, now=t0)


def test_two_tabs_saving_concurrently_keep_every_newest_value(running, t0):
    now = t0 + timedelta(minutes=1)

    def tab(seqs):
        def go():
            for seq in seqs:
                position = seq % 5 + 1
                answers.answer_save(
                    attempt_uuid=running.uuid,
                    user_id=running.user_id,
                    position=position,
                    seq=seq,
                    choice=seq % 4,
                    now=now,
                )

        return go

    errors = run_together(tab(range(1, 200, 2)), tab(range(2, 201, 2)))
    assert errors == []
    for position in range(1, 6):
        newest = max(s for s in range(1, 201) if s % 5 + 1 == position)
        r = Response.objects.get(attempt=running, block__number=1, position=position)
        assert r.choice == newest % 4, position
        assert r.field_seqs["choice"] == newest
    attempt = Attempt.objects.get(pk=running.pk)
    assert clock.block_last_seq(attempt=attempt, block=attempt.blocks.get(number=1)) == 200


def test_end_block_submitted_twice_at_once_closes_it_once(running, t0):
    now = t0 + timedelta(minutes=2)
    errors = run_together(
        lambda: clock.block_end(attempt=running, now=now),
        lambda: clock.block_end(attempt=running, now=now + timedelta(seconds=1)),
    )
    assert errors == []
    blocks = {b.number: b for b in running.blocks.all()}
    assert blocks[1].state == AttemptBlock.State.CLOSED
    # Whichever request won the lock closed it; the other found it closed and did nothing.
    assert blocks[1].closed_at in {now, now + timedelta(seconds=1)}
    assert blocks[2].state == AttemptBlock.State.PENDING


def test_save_racing_the_expiry_sweep_is_either_stored_or_refused(running, t0):
    deadline = running.blocks.get(number=1).deadline_at
    late = deadline + timedelta(seconds=30)
    outcome = {}

    def save():
        try:
            answers.answer_save(
                attempt_uuid=running.uuid,
                user_id=running.user_id,
                position=1,
                seq=1,
                choice=1,
                now=late,
            )
            outcome["save"] = "stored"
        except BlockClosed:
            outcome["save"] = "refused"

    errors = run_together(save, lambda: clock.close_expired_blocks(now=late))
    assert errors == []
    # Arriving 30 s after the deadline it must be refused, whoever won the lock.
    assert outcome["save"] == "refused"
    assert Response.objects.get(attempt=running, block__number=1, position=1).choice is None
    assert running.blocks.get(number=1).closed_at == deadline


def test_double_click_on_start_makes_one_attempt(examinee, exam, t0):
    started = []
    errors = run_together(
        lambda: started.append(attempts.attempt_start(user=examinee, exam=exam, now=t0).pk),
        lambda: started.append(attempts.attempt_start(user=examinee, exam=exam, now=t0).pk),
    )
    assert errors == []
    # Even a public exam (unlimited attempts) has one open attempt per examinee: the second
    # start, serialised behind the first by the locks, resumes it.
    attempt = Attempt.objects.get(user=examinee)
    assert started == [attempt.pk, attempt.pk]
    assert Response.objects.filter(attempt=attempt).count() == 10

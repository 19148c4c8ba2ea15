import os
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from analytics import tasks
from analytics.models import BlockPerformance, ItemStatistic
from config.celery import app
from exams.models import AttemptBlock

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


def _reset_producer_pool() -> None:
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps producer pools per connection in a process-wide registry; a closed one left
    # there would be handed to the next publish or ping ("Acquire on closed pool").
    pools.reset()


@pytest.fixture
def unreachable_broker():
    """Point this process's Celery app at a port where nothing listens (Redis is 'down')."""
    if app.conf.task_always_eager:
        pytest.skip("needs a configured broker (CELERY_BROKER_URL)")
    saved = os.environ.get("CELERY_BROKER_URL")
    tasks.wait_for_publishes()
    # Celery reads the broker URL from the environment before its settings.
    os.environ["CELERY_BROKER_URL"] = UNREACHABLE_BROKER
    _reset_producer_pool()
    try:
        yield
    finally:
        tasks.wait_for_publishes()
        if saved is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved
        _reset_producer_pool()


def _close(block) -> None:
    """What the exam engine does when a block closes, inside its transaction."""
    AttemptBlock.objects.filter(id=block.id).update(
        state="closed",
        closed_at=timezone.now(),
        close_reason="expired",
        analytics_state="pending",
    )
    tasks.queue_block_analytics(block_id=block.id)


def _rows(block) -> tuple:
    return (
        sorted(
            BlockPerformance.objects.filter(block=block).values_list("tag_id", "correct", "total")
        ),
        sorted(
            ItemStatistic.objects.values_list(
                "version_id", "responses", "answered", "correct", "option_counts"
            )
        ),
    )


@pytest.mark.django_db
def test_running_the_task_twice_leaves_the_same_rows(build, examinee):
    v1 = build.question(key=0, tags=("system:renal", "discipline:medicine"))
    v2 = build.question(key=1, tags=("system:renal",))
    block = build.closed_block(user=examinee, answers=[(v1, 0), (v2, 3)])

    assert tasks.compute_block_analytics(block.id) == "done"
    first = _rows(block)
    assert tasks.compute_block_analytics(block.id) == "skipped"

    assert _rows(block) == first
    assert first[0] != []
    block.refresh_from_db()
    assert block.analytics_state == "done"


@pytest.mark.django_db
def test_task_leaves_a_block_claimed_by_a_live_worker_alone(build, examinee):
    v1 = build.question(key=0, tags=("system:renal",))
    block = build.closed_block(user=examinee, answers=[(v1, 0)])
    AttemptBlock.objects.filter(id=block.id).update(
        analytics_state="claimed", analytics_claimed_at=timezone.now()
    )

    assert tasks.compute_block_analytics(block.id) == "skipped"
    assert not BlockPerformance.objects.exists()


@pytest.mark.django_db
def test_task_takes_over_a_claim_whose_worker_died(build, examinee):
    v1 = build.question(key=0, tags=("system:renal",))
    block = build.closed_block(user=examinee, answers=[(v1, 0)])
    AttemptBlock.objects.filter(id=block.id).update(
        analytics_state="claimed", analytics_claimed_at=timezone.now() - timedelta(hours=1)
    )

    assert tasks.compute_block_analytics(block.id) == "done"
    assert BlockPerformance.objects.filter(block=block).count() == 1


@pytest.mark.django_db
def test_block_closes_while_the_broker_is_down_and_the_sweep_catches_up(
    build, examinee, other_examinee, unreachable_broker, django_capture_on_commit_callbacks
):
    v1 = build.question(key=0, tags=("system:cardiovascular",))
    v2 = build.question(key=2, tags=("system:cardiovascular",))
    attempt = build.attempt(user=examinee, finished=False)
    block = build.block(attempt=attempt, closed=False)
    build.response(block=block, position=1, version=v1, choice=0)
    build.response(block=block, position=2, version=v2, choice=1)

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        _close(block)
    tasks.wait_for_publishes()

    assert len(callbacks) == 1
    block.refresh_from_db()
    assert block.state == "closed"
    assert block.analytics_state == "pending"
    assert not BlockPerformance.objects.exists()

    assert tasks.sweep_missing_analytics() == 1

    block.refresh_from_db()
    assert block.analytics_state == "done"
    perf = BlockPerformance.objects.get(block=block)
    assert (perf.tag.slug, perf.correct, perf.total) == ("cardiovascular", 1, 2)
    assert ItemStatistic.objects.get(version=v2).option_counts == [0, 1, 0, 0, 0]


@pytest.mark.django_db
def test_a_rolled_back_close_queues_nothing(build, examinee, django_capture_on_commit_callbacks):
    v1 = build.question(key=0, tags=("system:renal",))
    attempt = build.attempt(user=examinee, finished=False)
    block = build.block(attempt=attempt, closed=False)
    build.response(block=block, position=1, version=v1, choice=0)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _close(block)
        raise RuntimeError("the close failed")

    assert callbacks == []
    block.refresh_from_db()
    assert block.analytics_state == "not_due"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_computes_a_closed_block(build, examinee, celery_worker_process):
    v1 = build.question(key=0, tags=("system:renal", "task:diagnosis"))
    v2 = build.question(key=1, tags=("system:renal",))
    attempt = build.attempt(user=examinee, finished=False)
    block = build.block(attempt=attempt, closed=False)
    build.response(block=block, position=1, version=v1, choice=0)
    build.response(block=block, position=2, version=v2, choice=None)

    with transaction.atomic():
        _close(block)

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        block.refresh_from_db()
        if block.analytics_state == "done":
            break
        time.sleep(0.2)
    assert block.analytics_state == "done"
    rows = {
        p.tag.slug: (p.correct, p.total)
        for p in BlockPerformance.objects.filter(block=block).select_related("tag")
    }
    assert rows == {"renal": (1, 2), "diagnosis": (1, 1)}
    # The cohort statistics follow in their own (coalesced) task.
    while time.monotonic() < deadline and not ItemStatistic.objects.filter(version=v2).exists():
        time.sleep(0.2)
    assert ItemStatistic.objects.get(version=v2).answered == 0


@pytest.mark.django_db
def test_one_task_takes_the_waiting_backlog_in_a_batch(build, examinee, other_examinee):
    v1 = build.question(key=0, tags=("system:renal",))
    blocks = [
        build.closed_block(user=user, answers=[(v1, choice)])
        for user, choice in ((examinee, 0), (other_examinee, 1))
    ]
    AttemptBlock.objects.filter(id__in=[b.id for b in blocks]).update(analytics_state="pending")

    assert tasks.compute_block_analytics(blocks[0].id) == "done"
    # The second block was waiting too: it was computed in the same batch.
    assert set(AttemptBlock.objects.values_list("analytics_state", flat=True)) == {"done"}
    assert tasks.compute_block_analytics(blocks[1].id) == "skipped"
    assert BlockPerformance.objects.filter(block=blocks[1], correct=0, total=1).exists()
    assert BlockPerformance.objects.filter(block=blocks[0], correct=1, total=1).exists()

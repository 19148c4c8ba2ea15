from datetime import timedelta

import pytest

from analytics import services
from analytics.models import BlockPerformance, ItemStatistic
from exams.models import AttemptBlock
from tests.analytics.conftest import compute_block_and_items

pytestmark = pytest.mark.django_db


def _performance(block) -> dict[str, tuple[int, int]]:
    return {
        f"{p.tag.kind}:{p.tag.slug}": (p.correct, p.total)
        for p in BlockPerformance.objects.filter(block=block).select_related("tag")
    }


def _stat(version) -> tuple:
    s = ItemStatistic.objects.get(version=version)
    return (s.responses, s.answered, s.correct, s.option_counts, s.median_time_ms)


@pytest.fixture
def four_items(build):
    v1 = build.question(
        key=0, tags=("discipline:medicine", "system:cardiovascular", "task:diagnosis")
    )
    v2 = build.question(key=1, tags=("discipline:medicine", "system:renal"))
    v3 = build.question(key=2, tags=("discipline:surgery", "system:cardiovascular"))
    v4 = build.question(
        key=0, tags=("discipline:surgery", "system:cardiovascular", "topic:murmurs")
    )
    return v1, v2, v3, v4


def test_block_performance_counts_correct_and_total_per_outline_tag(
    build, examinee, four_items, t0
):
    v1, v2, v3, v4 = four_items
    # right, wrong, omitted, right
    block = build.closed_block(user=examinee, answers=[(v1, 0), (v2, 0), (v3, None), (v4, 0)])

    compute_block_and_items(block=block, now=t0)

    assert _performance(block) == {
        "discipline:medicine": (1, 2),
        "discipline:surgery": (1, 2),
        "system:cardiovascular": (2, 3),
        "system:renal": (0, 1),
        "task:diagnosis": (1, 1),
    }


def test_unanswered_item_counts_as_wrong(build, examinee, t0):
    v = build.question(key=3, tags=("system:renal",))
    block = build.closed_block(user=examinee, answers=[(v, None)])

    compute_block_and_items(block=block, now=t0)

    assert _performance(block) == {"system:renal": (0, 1)}
    assert _stat(v) == (1, 0, 0, [0, 0, 0, 0, 0], None)


def test_item_statistics_pool_every_closed_block_and_ignore_open_ones(
    build, examinee, other_examinee, instructor, four_items, t0
):
    v1, v2, *_ = four_items
    earlier = build.attempt(user=other_examinee)
    earlier_block = build.block(attempt=earlier)
    build.response(block=earlier_block, position=1, version=v1, choice=1, time_ms=30_000)
    build.response(block=earlier_block, position=2, version=v2, choice=1, time_ms=90_000)
    in_progress = build.attempt(user=instructor, finished=False)
    open_block = build.block(attempt=in_progress, closed=False)
    build.response(block=open_block, position=1, version=v1, choice=0, time_ms=5_000)
    mine = build.attempt(user=examinee)
    block = build.block(attempt=mine)
    build.response(block=block, position=1, version=v1, choice=0, time_ms=60_000)
    build.response(block=block, position=2, version=v2, choice=None, time_ms=70_000)

    compute_block_and_items(block=block, now=t0)

    # v1: A once (mine, right), B once (earlier); median of 30 s and 60 s.
    assert _stat(v1) == (2, 2, 1, [1, 1, 0, 0, 0], 45_000)
    # v2: my omission counts as a response but not an answer, nor in the median time.
    assert _stat(v2) == (2, 1, 1, [0, 1, 0, 0, 0], 90_000)


def test_computing_a_block_twice_gives_the_same_rows(build, examinee, four_items, t0):
    v1, v2, v3, v4 = four_items
    block = build.closed_block(user=examinee, answers=[(v1, 0), (v2, 0), (v3, None), (v4, 1)])

    compute_block_and_items(block=block, now=t0)
    first = (_performance(block), [_stat(v) for v in four_items])
    compute_block_and_items(block=block, now=t0 + timedelta(minutes=1))

    assert (_performance(block), [_stat(v) for v in four_items]) == first
    assert BlockPerformance.objects.filter(block=block).count() == 5
    assert ItemStatistic.objects.count() == 4


def test_compute_marks_the_block_done(build, examinee, four_items, t0):
    block = build.closed_block(user=examinee, answers=[(four_items[0], 0)])

    compute_block_and_items(block=block, now=t0)

    block.refresh_from_db()
    assert block.analytics_state == AttemptBlock.AnalyticsState.DONE
    assert block.analytics_done_at == t0


def test_compute_refuses_a_block_that_is_still_open(build, examinee, four_items, t0):
    attempt = build.attempt(user=examinee, finished=False)
    block = build.block(attempt=attempt, closed=False)
    build.response(block=block, position=1, version=four_items[0], choice=0)

    with pytest.raises(ValueError, match="not closed"):
        compute_block_and_items(block=block, now=t0)
    assert not ItemStatistic.objects.exists()


def test_a_later_block_updates_the_statistics_of_shared_items(
    build, examinee, other_examinee, four_items, t0
):
    v1 = four_items[0]
    first = build.closed_block(user=examinee, answers=[(v1, 0)])
    compute_block_and_items(block=first, now=t0)
    second = build.closed_block(user=other_examinee, answers=[(v1, 2)])
    compute_block_and_items(block=second, now=t0)

    assert _stat(v1) == (2, 2, 1, [1, 0, 1, 0, 0], 60_000)


def test_only_one_claim_wins_until_it_goes_stale(build, examinee, four_items, t0):
    block = build.closed_block(user=examinee, answers=[(four_items[0], 0)])

    assert services.block_analytics_claim(block_id=block.id, now=t0)
    assert not services.block_analytics_claim(block_id=block.id, now=t0 + timedelta(minutes=1))
    later = t0 + services.CLAIM_STALE_AFTER + timedelta(seconds=1)
    assert services.block_analytics_claim(block_id=block.id, now=later)


def test_open_or_finished_blocks_cannot_be_claimed(build, examinee, four_items, t0):
    attempt = build.attempt(user=examinee, finished=False)
    open_block = build.block(attempt=attempt, closed=False, analytics_state="pending")
    done = build.block(attempt=attempt, number=2, analytics_state="done")

    assert not services.block_analytics_claim(block_id=open_block.id, now=t0)
    assert not services.block_analytics_claim(block_id=done.id, now=t0)


def test_sweep_computes_pending_and_stale_blocks_but_not_fresh_claims(
    build, examinee, other_examinee, instructor, four_items, t0
):
    v1 = four_items[0]
    pending = build.closed_block(user=examinee, answers=[(v1, 0)])
    stale = build.closed_block(user=other_examinee, answers=[(v1, 1)])
    fresh = build.closed_block(user=instructor, answers=[(v1, 2)])
    AttemptBlock.objects.filter(id=stale.id).update(
        analytics_state="claimed", analytics_claimed_at=t0 - timedelta(hours=1)
    )
    AttemptBlock.objects.filter(id=fresh.id).update(
        analytics_state="claimed", analytics_claimed_at=t0 - timedelta(seconds=10)
    )

    assert services.analytics_sweep(now=t0) == 2

    states = dict(
        AttemptBlock.objects.filter(id__in=[pending.id, stale.id, fresh.id]).values_list(
            "id", "analytics_state"
        )
    )
    assert states == {pending.id: "done", stale.id: "done", fresh.id: "claimed"}
    assert set(BlockPerformance.objects.values_list("block_id", flat=True)) == {
        pending.id,
        stale.id,
    }
    # The statistic reads every closed block, including the one still claimed elsewhere.
    assert _stat(v1)[:4] == (3, 3, 1, [1, 1, 1, 0, 0])


def test_block_analytics_leave_item_statistics_due_for_one_batch(build, examinee, four_items, t0):
    from analytics import services as analytics_services
    from analytics.models import ItemStatistic, ItemStatisticDue

    v1, v2, v3, v4 = four_items
    closed_block = build.closed_block(
        user=examinee, answers=[(v1, 0), (v2, 1), (v3, None), (v4, 0)]
    )
    analytics_services.block_analytics_compute(block=closed_block, now=t0)
    assert closed_block.performance.exists()
    due = set(ItemStatisticDue.objects.values_list("version_id", flat=True))
    assert due == {v1.id, v2.id, v3.id, v4.id}
    assert not ItemStatistic.objects.exists()
    assert analytics_services.item_statistics_refresh_due(now=t0) == len(due)
    assert not ItemStatisticDue.objects.exists()
    assert set(ItemStatistic.objects.values_list("version_id", flat=True)) == due

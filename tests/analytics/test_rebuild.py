import random

import pytest
from django.core.management import call_command

from analytics import services
from analytics.models import BlockPerformance, ItemStatistic
from exams.models import AttemptBlock
from tests.analytics.conftest import compute_block_and_items

pytestmark = pytest.mark.django_db

TAGS = [
    ("discipline:medicine", "system:renal", "task:diagnosis"),
    ("discipline:surgery", "system:cardiovascular"),
    ("discipline:pediatrics", "system:renal", "task:management"),
    ("discipline:medicine", "system:respiratory", "topic:asthma"),
]


def _snapshot() -> tuple:
    performance = sorted(
        BlockPerformance.objects.values_list("block_id", "attempt_id", "tag_id", "correct", "total")
    )
    statistics = sorted(
        ItemStatistic.objects.values_list(
            "version_id", "responses", "answered", "correct", "option_counts", "median_time_ms"
        )
    )
    return performance, statistics


@pytest.fixture
def cohort(build, django_user_model):
    """Eight examinees, each with a closed block of six random items, and one open block."""
    rng = random.Random(20260601)
    versions = [build.question(key=rng.randrange(5), tags=TAGS[i % len(TAGS)]) for i in range(12)]
    blocks = []
    for n in range(9):
        user = django_user_model.objects.create_user(username=f"cohort{n}", password="x")
        attempt = build.attempt(user=user, finished=n < 8)
        block = build.block(attempt=attempt, closed=n < 8)
        for position, version in enumerate(rng.sample(versions, 6), start=1):
            choice = rng.choice([None, 0, 1, 2, 3, 4, version.key_index, version.key_index])
            build.response(
                block=block,
                position=position,
                version=version,
                choice=choice,
                time_ms=rng.randrange(5_000, 200_000),
            )
        blocks.append(block)
    return blocks


def test_rebuild_gives_exactly_the_incremental_numbers(cohort, t0):
    for block in cohort:
        if block.state == "closed":
            compute_block_and_items(block=block, now=t0)
    incremental = _snapshot()
    assert incremental[0] and incremental[1]
    BlockPerformance.objects.all().delete()
    ItemStatistic.objects.update(correct=0, responses=0, option_counts=[])

    call_command("rebuild_analytics", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert _snapshot() == incremental


def test_rebuild_completes_pending_blocks_and_drops_rows_with_no_closed_source(
    cohort, build, examinee, t0
):
    orphan = build.question(key=0, tags=("system:renal",))
    ItemStatistic.objects.create(
        version=orphan, responses=9, answered=9, correct=9, option_counts=[9], computed_at=t0
    )
    open_block = cohort[-1]
    BlockPerformance.objects.create(
        block=open_block,
        attempt=open_block.attempt,
        tag=build.tag("system", "renal"),
        correct=1,
        total=1,
        computed_at=t0,
    )

    result = services.analytics_rebuild(now=t0)

    assert result["blocks"] == 8
    assert not ItemStatistic.objects.filter(version=orphan).exists()
    assert not BlockPerformance.objects.filter(block=open_block).exists()
    states = set(
        AttemptBlock.objects.filter(state="closed").values_list("analytics_state", flat=True)
    )
    assert states == {"done"}
    assert AttemptBlock.objects.get(id=open_block.id).analytics_state == "not_due"


def test_rebuild_twice_changes_nothing(cohort, t0):
    services.analytics_rebuild(now=t0)
    first = _snapshot()

    services.analytics_rebuild(now=t0)

    assert _snapshot() == first

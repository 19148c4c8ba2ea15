"""Writes of the analytics app: per-block performance, cohort item statistics, the sweep.

Every number here is derived from stored responses, so any of it can be thrown away and rebuilt
(`manage.py rebuild_analytics`). The incremental path (one block at a time, from the Celery task)
and the rebuild share the same aggregate queries, which is what keeps their results identical.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Q

from analytics.models import BlockPerformance, ItemStatistic, ItemStatisticDue
from exams.models import AttemptBlock, Response
from questions.models import Question, QuestionVersion, Tag

logger = logging.getLogger(__name__)

# A claim older than this is taken to belong to a worker that died mid-task.
CLAIM_STALE_AFTER = timedelta(minutes=5)
# Tag kinds that get a row in BlockPerformance (topics are too fine-grained for a profile).
PROFILE_TAG_KINDS = (Tag.Kind.DISCIPLINE, Tag.Kind.SYSTEM, Tag.Kind.TASK)
# Versions per statement in the rebuild; keeps the ANY(...) arrays and upserts a sane size.
REBUILD_BATCH = 500
# Namespace for pg_advisory_xact_lock(int, int): serialises recomputation of one version's
# statistics, so two blocks closing together cannot overwrite each other with a stale count.
_ITEMSTAT_LOCK_NAMESPACE = 0x4D42_0001

_CLOSED = AttemptBlock.State.CLOSED
_DUE = Q(analytics_state=AttemptBlock.AnalyticsState.PENDING)


def _stale_claim(now: datetime) -> Q:
    return Q(
        analytics_state=AttemptBlock.AnalyticsState.CLAIMED,
        analytics_claimed_at__lt=now - CLAIM_STALE_AFTER,
    )


def block_analytics_claim(*, block_id: int, now: datetime) -> bool:
    """Claim a closed block's analytics for this worker; False when someone else has them."""
    claimed = (
        AttemptBlock.objects.filter(id=block_id, state=_CLOSED)
        .filter(_DUE | _stale_claim(now))
        .update(analytics_state=AttemptBlock.AnalyticsState.CLAIMED, analytics_claimed_at=now)
    )
    return claimed == 1


def block_analytics_release(*, block_id: int, claimed_at: datetime) -> None:
    """Hand a claim back after a transient failure, so a retry or the sweep can take it."""
    AttemptBlock.objects.filter(
        id=block_id,
        analytics_state=AttemptBlock.AnalyticsState.CLAIMED,
        analytics_claimed_at=claimed_at,
    ).update(analytics_state=AttemptBlock.AnalyticsState.PENDING)


def _tag_performance_rows(block_ids: Iterable[int]) -> list[dict]:
    """correct/total per (block, tag) over the profile tags; unanswered items count as wrong.

    Two indexed reads (the blocks' responses, then their questions' tags) and a count in
    Python: a single join lets the planner start from the whole tag table, which grows with
    the bank, instead of from the block's twenty responses.
    """
    responses = list(
        Response.objects.filter(block_id__in=list(block_ids))
        .order_by()
        .values_list(
            "block_id",
            "attempt_id",
            "question_id",
            "choice",
            "version__key_index",
            "version__is_voided",
        )
    )
    tags_of: dict[int, list[int]] = defaultdict(list)
    for question_id, tag_id in Question.tags.through.objects.filter(
        question_id__in={r[2] for r in responses}, tag__kind__in=PROFILE_TAG_KINDS
    ).values_list("question_id", "tag_id"):
        tags_of[question_id].append(tag_id)
    totals: dict[tuple[int, int, int], list[int]] = {}
    for block_id, attempt_id, question_id, choice, key, is_voided in responses:
        for tag_id in tags_of[question_id]:
            row = totals.setdefault((block_id, attempt_id, tag_id), [0, 0])
            row[0] += 1
            row[1] += int(is_voided or (choice is not None and choice == key))
    return [
        {"block_id": b, "attempt_id": a, "tag_id": t, "total": total, "correct": correct}
        for (b, a, t), (total, correct) in totals.items()
    ]


def _replace_block_performance(*, block_ids: list[int], now: datetime) -> int:
    BlockPerformance.objects.filter(block_id__in=block_ids).delete()
    rows = [
        BlockPerformance(
            block_id=row["block_id"],
            attempt_id=row["attempt_id"],
            tag_id=row["tag_id"],
            correct=row["correct"],
            total=row["total"],
            computed_at=now,
        )
        for row in _tag_performance_rows(block_ids)
    ]
    BlockPerformance.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _lock_versions(version_ids: list[int]) -> None:
    with connection.cursor() as cursor:
        # Sorted, so two transactions locking overlapping sets cannot deadlock.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, v::int) FROM "
            "(SELECT v FROM unnest(%s::bigint[]) AS v ORDER BY v) AS s",
            [_ITEMSTAT_LOCK_NAMESPACE, sorted(version_ids)],
        )


def _median_times(version_ids: list[int]) -> dict[int, int]:
    """Median time on the item among examinees who answered it, per version, in closed blocks."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT r.version_id,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY r.time_spent_ms)
            FROM {Response._meta.db_table} r
            JOIN {AttemptBlock._meta.db_table} b ON b.id = r.block_id
            WHERE r.version_id = ANY(%s) AND b.state = %s AND r.choice IS NOT NULL
            GROUP BY r.version_id
            """,  # noqa: S608 - table names come from model metadata, values are parameters
            [version_ids, _CLOSED],
        )
        return {version_id: round(median) for version_id, median in cursor.fetchall()}


def item_statistics_refresh(*, version_ids: Iterable[int], now: datetime) -> int:
    """Recompute ItemStatistic for these versions from every response in a closed block."""
    version_ids = sorted(set(version_ids))
    if not version_ids:
        return 0
    with transaction.atomic():
        return _refresh_locked(version_ids=version_ids, now=now)


def _refresh_locked(*, version_ids: list[int], now: datetime) -> int:
    _lock_versions(version_ids)
    versions = {
        v["id"]: v
        for v in QuestionVersion.objects.filter(id__in=version_ids).values(
            "id", "key_index", "is_voided", "options"
        )
    }
    counts: dict[int, dict[int | None, int]] = {}
    for row in (
        Response.objects.filter(version_id__in=version_ids, block__state=_CLOSED)
        .values("version_id", "choice")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts.setdefault(row["version_id"], {})[row["choice"]] = row["n"]
    medians = _median_times(version_ids)

    stats = []
    for version_id in version_ids:
        by_choice = counts.get(version_id)
        if not by_choice:
            continue
        version = versions[version_id]
        option_counts = [by_choice.get(i, 0) for i in range(len(version["options"]))]
        responses = sum(by_choice.values())
        stats.append(
            ItemStatistic(
                version_id=version_id,
                responses=responses,
                answered=responses - by_choice.get(None, 0),
                # A voided item credits everyone it was shown to, answered or not.
                correct=responses
                if version["is_voided"]
                else by_choice.get(version["key_index"], 0),
                option_counts=option_counts,
                median_time_ms=medians.get(version_id),
                computed_at=now,
            )
        )
    ItemStatistic.objects.bulk_create(
        stats,
        update_conflicts=True,
        unique_fields=["version"],
        update_fields=[
            "responses",
            "answered",
            "correct",
            "option_counts",
            "median_time_ms",
            "computed_at",
        ],
    )
    # A version with no responses left in closed blocks has no statistic, as in the rebuild.
    ItemStatistic.objects.filter(version_id__in=version_ids).exclude(
        version_id__in=[s.version_id for s in stats]
    ).delete()
    return len(stats)


def block_analytics_compute(*, block: AttemptBlock, now: datetime) -> None:
    """Replace a closed block's performance rows, mark its items' statistics due, mark it done.

    The cohort statistics are left to `item_statistics_refresh_due`: when a whole cohort's block
    time runs out at once, recomputing each item per block would queue hundreds of overlapping
    recomputations ahead of the next examinee's own results.
    """
    blocks_analytics_compute(block_ids=[block.id], now=now)


def blocks_analytics_compute(*, block_ids: list[int], now: datetime) -> None:
    """`block_analytics_compute` for several closed blocks in one transaction and few queries."""
    with transaction.atomic():
        blocks = list(
            AttemptBlock.objects.select_for_update().filter(id__in=block_ids).order_by("id")
        )
        open_blocks = [b.id for b in blocks if b.state != _CLOSED]
        if open_blocks or len(blocks) != len(set(block_ids)):
            raise ValueError(f"blocks {open_blocks or block_ids} are not closed; not due")
        _replace_block_performance(block_ids=block_ids, now=now)
        ItemStatisticDue.objects.bulk_create(
            [
                ItemStatisticDue(version_id=v, queued_at=now)
                for v in set(
                    Response.objects.filter(block_id__in=block_ids)
                    .order_by()
                    .values_list("version_id", flat=True)
                )
            ],
            ignore_conflicts=True,
        )
        AttemptBlock.objects.filter(id__in=block_ids).update(
            analytics_state=AttemptBlock.AnalyticsState.DONE, analytics_done_at=now
        )


def block_analytics_claim_more(*, now: datetime, limit: int) -> list[int]:
    """Claim other closed blocks whose analytics are waiting, so one task does them together.

    When a cohort's blocks all expire in the same sweep, hundreds of tasks are queued at once;
    the first to run takes the whole backlog in one batch and the rest find nothing to do.
    SKIP LOCKED lets several workers share a backlog without waiting on each other.
    """
    with transaction.atomic():
        ids = list(
            AttemptBlock.objects.select_for_update(skip_locked=True)
            .filter(state=_CLOSED, analytics_state=AttemptBlock.AnalyticsState.PENDING)
            .order_by("closed_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        AttemptBlock.objects.filter(id__in=ids).update(
            analytics_state=AttemptBlock.AnalyticsState.CLAIMED, analytics_claimed_at=now
        )
    return ids


def item_statistics_refresh_due(*, now: datetime, limit: int = 5000) -> int:
    """Recompute the statistics of every version marked due, in one batch; returns the count.

    The due rows are taken with SKIP LOCKED and deleted in the same transaction as the
    recomputation, so two workers never do the same version and a failure leaves them due.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                DELETE FROM {ItemStatisticDue._meta.db_table} WHERE version_id IN (
                    SELECT version_id FROM {ItemStatisticDue._meta.db_table}
                    ORDER BY version_id LIMIT %s FOR UPDATE SKIP LOCKED
                ) RETURNING version_id
                """,  # noqa: S608 - the table name comes from model metadata
                [limit],
            )
            version_ids = sorted(row[0] for row in cursor.fetchall())
        if not version_ids:
            return 0
        return _refresh_locked(version_ids=version_ids, now=now)


def blocks_due_for_analytics(*, now: datetime, limit: int) -> list[int]:
    """Closed blocks whose analytics were never computed, oldest first."""
    return list(
        AttemptBlock.objects.filter(state=_CLOSED)
        .filter(_DUE | _stale_claim(now))
        .order_by("closed_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def analytics_sweep(*, now: datetime, limit: int = 200) -> int:
    """Compute every overdue block's analytics in-process; returns how many were computed."""
    done = 0
    for block_id in blocks_due_for_analytics(now=now, limit=limit):
        # The claim is the same one the task makes, so a task arriving late finds nothing to do.
        if not block_analytics_claim(block_id=block_id, now=now):
            continue
        try:
            block_analytics_compute(block=AttemptBlock(id=block_id), now=now)
        except Exception:
            block_analytics_release(block_id=block_id, claimed_at=now)
            logger.exception("analytics sweep: block %s failed; it stays due", block_id)
            continue
        done += 1
    item_statistics_refresh_due(now=now)
    return done


def analytics_rebuild(*, now: datetime) -> dict[str, int]:
    """Throw away and recompute every analytics row from stored responses.

    Runs in batches, each in its own transaction, so a large rebuild never holds thousands of
    locks at once; blocks closing meanwhile are still covered by their own task or the sweep.
    """
    closed = AttemptBlock.objects.filter(state=_CLOSED)
    closed_ids = list(closed.order_by("id").values_list("id", flat=True))
    BlockPerformance.objects.exclude(block__state=_CLOSED).delete()
    performance = 0
    for start in range(0, len(closed_ids), REBUILD_BATCH):
        with transaction.atomic():
            performance += _replace_block_performance(
                block_ids=closed_ids[start : start + REBUILD_BATCH], now=now
            )
    delivered = Response.objects.filter(block__state=_CLOSED).values("version_id")
    ItemStatistic.objects.exclude(version_id__in=delivered).delete()
    version_ids = sorted(set(delivered.order_by().values_list("version_id", flat=True)))
    statistics = 0
    ItemStatisticDue.objects.filter(version_id__in=version_ids).delete()
    for start in range(0, len(version_ids), REBUILD_BATCH):
        statistics += item_statistics_refresh(
            version_ids=version_ids[start : start + REBUILD_BATCH], now=now
        )
    # Only blocks seen at the start: one closing later keeps its pending state for its task.
    for start in range(0, len(closed_ids), REBUILD_BATCH):
        AttemptBlock.objects.filter(id__in=closed_ids[start : start + REBUILD_BATCH]).exclude(
            analytics_state=AttemptBlock.AnalyticsState.DONE
        ).update(analytics_state=AttemptBlock.AnalyticsState.DONE, analytics_done_at=now)
    return {
        "blocks": len(closed_ids),
        "performance_rows": performance,
        "item_statistics": statistics,
    }

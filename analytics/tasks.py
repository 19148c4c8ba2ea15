"""Celery tasks of the analytics app. Each one takes ids and calls one service."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from celery import current_app, shared_task
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from analytics import rescore, services

logger = logging.getLogger(__name__)

# Retries after a transient database error: 2 s, 4 s, 8 s ... capped, then the sweep takes over.
MAX_RETRIES = 5
RETRY_BACKOFF_CAP_SECONDS = 60
SWEEP_LIMIT = 200
# Blocks one task may take along from the backlog (each adds ~1 ms of work to the batch).
BATCH_LIMIT = 100


# One background thread publishes the analytics messages: with Redis down, a publish waits for
# the connect timeout, and that wait must not land on the examinee's "End block" request.
_publisher: ThreadPoolExecutor | None = None
_publisher_lock = threading.Lock()


def _publisher_executor() -> ThreadPoolExecutor:
    global _publisher
    with _publisher_lock:
        if _publisher is None:
            _publisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analytics-publish")
        return _publisher


def _publish(block_id: int) -> None:
    try:
        compute_block_analytics.apply_async(args=[block_id])
        refresh_item_statistics.apply_async()
    except Exception:
        logger.warning(
            "could not queue analytics for block %s; the sweep will compute them",
            block_id,
            exc_info=True,
        )


def queue_block_analytics(*, block_id: int) -> None:
    """Ask for a block's analytics once the caller's transaction commits.

    Called by the exam engine inside the transaction that closes the block (which has set
    analytics_state to pending). A broker outage never fails or delays the close: the message is
    published from a background thread, a failure is logged, and the beat sweep computes the
    block later. In eager mode (tests that keep the work in their own process) the task runs
    after the commit.
    """

    def publish() -> None:
        if current_app.conf.task_always_eager:
            _publish(block_id)
        else:
            _publisher_executor().submit(_publish, block_id)

    transaction.on_commit(publish, robust=True)


def wait_for_publishes(timeout: float = 10.0) -> None:
    """Block until every publish queued so far has been attempted (tests, shutdown hooks)."""
    _publisher_executor().submit(lambda: None).result(timeout=timeout)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, ignore_result=True)
def compute_block_analytics(self, block_id: int) -> str:
    now = timezone.now()
    claimed: list[int] = []
    try:
        if services.block_analytics_claim(block_id=block_id, now=now):
            claimed.append(block_id)
        # Take along whatever else is waiting: a burst of block ends becomes a few batches.
        claimed += services.block_analytics_claim_more(now=now, limit=BATCH_LIMIT)
        if not claimed:
            return "skipped"
        services.blocks_analytics_compute(block_ids=claimed, now=now)
    except (OperationalError, InterfaceError) as exc:
        for claimed_id in claimed:
            try:
                services.block_analytics_release(block_id=claimed_id, claimed_at=now)
            except DatabaseError:
                # The claim goes stale and the sweep takes the block over.
                logger.warning("could not release the analytics claim on block %s", claimed_id)
        countdown = min(2 ** (self.request.retries + 1), RETRY_BACKOFF_CAP_SECONDS)
        raise self.retry(exc=exc, countdown=countdown) from exc
    # These blocks have just marked their versions due. The refresh queued beside this task may
    # have run before that, on another worker process; without this one the statistics would
    # wait for the next beat round.
    try:
        refresh_item_statistics.apply_async()
    except Exception:
        logger.warning("could not queue the item statistics; beat will", exc_info=True)
    return "done"


@shared_task(acks_late=True, ignore_result=True)
def refresh_item_statistics() -> int:
    """Recompute the cohort statistics of every question version marked due, in one batch.

    Queued after each block's analytics and by beat; when many blocks close together, the first
    of these tasks does the whole batch and the rest find nothing due.
    """
    return services.item_statistics_refresh_due(now=timezone.now())


@shared_task(acks_late=True, ignore_result=True)
def sweep_missing_analytics() -> int:
    """Beat task: compute analytics that never ran (broker or worker outage, a crashed task)."""
    computed = services.analytics_sweep(now=timezone.now(), limit=SWEEP_LIMIT)
    if computed:
        logger.info("analytics sweep computed %s block(s)", computed)
    return computed


@shared_task(acks_late=True, ignore_result=True)
def rescore_key_change(key_change_id: int) -> str:
    """Rebuild the analytics a key fix touched; the claim makes a redelivered message a no-op."""
    now = timezone.now()
    if not rescore.key_change_claim(key_change_id=key_change_id, now=now):
        return "skipped"
    rescore.key_change_recompute(key_change_id=key_change_id, now=now)
    return "done"

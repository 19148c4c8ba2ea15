"""Celery beat that is harmless to run twice (docs/scaling.md, "Beat").

Every periodic job is idempotent, but two beats would still send each job twice per interval.
Before sending a due job, each beat claims it in Redis with `SET key NX PX`, the key living for
CLAIM_FRACTION (0.9) of the job's interval: the first beat to claim sends it, any other beat that
comes due within that window skips it. So with two (or more) beats each job is sent at most
once per 0.9 interval, the same cadence as with one; if a beat dies, the other's next claim
succeeds, with no election and no failover delay beyond one interval. One beat never skips its
own runs, because its timer fires a whole interval after its last claim, which has expired.
"""

from __future__ import annotations

import logging
import os
import socket

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)

CLAIM_FRACTION = 0.9
# For schedules without a fixed interval (crontab): they fire at most once a minute.
DEFAULT_CLAIM_SECONDS = 50.0
KEY_PREFIX = "mockboard:beat:"


def claim_seconds(entry) -> float:
    run_every = getattr(entry.schedule, "run_every", None)
    if run_every is None:
        return DEFAULT_CLAIM_SECONDS
    return max(0.05, run_every.total_seconds() * CLAIM_FRACTION)


class SlotClaimingScheduler(PersistentScheduler):
    def __init__(self, *args, **kwargs):
        self._redis = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=2
        )
        self._identity = f"{socket.gethostname()}:{os.getpid()}"
        super().__init__(*args, **kwargs)

    def claim(self, entry) -> bool:
        try:
            return bool(
                self._redis.set(
                    f"{KEY_PREFIX}{settings.CELERY_TASK_DEFAULT_QUEUE}:{entry.name}",
                    self._identity,
                    nx=True,
                    px=int(claim_seconds(entry) * 1000),
                )
            )
        except redis.RedisError:
            # The broker is this Redis, so the send will fail too and be logged; the jobs are
            # idempotent, so trying costs nothing.
            logger.warning("beat: could not claim %s; sending anyway", entry.name)
            return True

    def apply_entry(self, entry, producer=None):
        if not self.claim(entry):
            logger.info("beat: %s was sent by another beat; skipped", entry.name)
            return
        super().apply_entry(entry, producer=producer)

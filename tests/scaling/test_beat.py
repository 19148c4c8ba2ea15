"""Two beats running at once send each periodic job about once per interval, as one beat does
(config/beat.py), not twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import redis
from django.conf import settings

from config.beat import CLAIM_FRACTION

ROOT = Path(__file__).resolve().parent.parent.parent
INTERVAL = 1
WINDOW_SECONDS = 6
JOBS = ("exams.tasks.close_expired_blocks", "analytics.tasks.refresh_item_statistics")


def _sent(client: redis.Redis, queue: str) -> Counter:
    return Counter(json.loads(m)["headers"]["task"] for m in client.lrange(queue, 0, -1))


def test_two_beats_send_each_job_at_most_once_per_claim_window(tmp_path):
    queue = f"beat-test-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, SWEEP_INTERVAL_SECONDS=str(INTERVAL), CELERY_QUEUE=queue)
    logs = [tmp_path / f"beat-{n}.log" for n in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO"]
            + [f"--schedule={tmp_path / f'beat-{n}'}", f"--pidfile={tmp_path / f'{n}.pid'}"],
            env=env,
            cwd=ROOT,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for n, log in enumerate(logs)
    ]
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        # Both beats must be ticking before the window opens.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(
            "Sending due task" in log.read_text() or "another beat" in log.read_text()
            for log in logs
        ):
            time.sleep(0.2)
        before = _sent(client, queue)
        time.sleep(WINDOW_SECONDS)
        after = _sent(client, queue)
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        client.delete(queue)
    texts = [log.read_text()[-1500:] for log in logs]
    assert all("another beat" in text or "Sending" in text for text in texts), texts
    # One beat sends a job WINDOW/INTERVAL times; two uncoordinated beats twice that. Claims
    # last CLAIM_FRACTION of the interval, so two beats send at most one per claim window.
    most = int(WINDOW_SECONDS / (INTERVAL * CLAIM_FRACTION)) + 1
    for job in JOBS:
        sent = after[job] - before[job]
        assert WINDOW_SECONDS // 2 <= sent <= most, (job, sent, most, texts)
    # And the second beat really was running: it skipped jobs the first had claimed.
    assert sum("another beat" in text for text in texts) >= 1, texts

"""Faults injected into real processes: no acknowledged answer is lost, no exam time is gained,
and analytics are complete after recovery. Run with `make test` (marker `faults`)."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.services import analytics_sweep
from bench import procs
from bench.faultlib import SaveLoop, lost_answers
from exams import clock
from exams.models import Attempt, AttemptBlock
from tests.faults.conftest import ITEMS

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def _deadlines(uuids) -> dict:
    return dict(
        AttemptBlock.objects.filter(attempt__uuid__in=uuids).values_list("id", "deadline_at")
    )


def _analytics_complete() -> int:
    analytics_sweep(now=timezone.now(), limit=1000)
    closed = AttemptBlock.objects.filter(state="closed")
    assert closed.exists()
    return closed.exclude(analytics_state="done").count()


def test_killing_a_worker_mid_save_loses_no_acknowledged_answer(server, in_block):
    master, _ = server
    clients = [in_block(f"kill{i}") for i in range(4)]
    before = _deadlines([c.attempt for c in clients])
    loops = [SaveLoop(c, ITEMS) for c in clients]
    for loop in loops:
        loop.start()
    time.sleep(1.5)
    victims = procs.gunicorn_workers(master)
    assert victims, "gunicorn has no workers"
    os.kill(victims[0], signal.SIGKILL)
    time.sleep(2.5)
    for loop in loops:
        loop.stop()
    acks = [a for c in clients for a in c.acks]
    assert len(acks) > 20
    assert lost_answers(acks) == []
    assert _deadlines([c.attempt for c in clients]) == before
    # The master replaces the dead worker.
    deadline = time.monotonic() + 10
    while len(procs.gunicorn_workers(master)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(procs.gunicorn_workers(master)) == 2


def test_broker_down_saves_and_block_ends_succeed_and_the_sweep_catches_up(
    server, in_block, own_redis
):
    clients = [in_block(f"redis{i}") for i in range(3)]
    before = _deadlines([c.attempt for c in clients])
    own_redis.stop()
    try:
        down_at = time.monotonic()
        for c in clients:
            for pos in range(1, ITEMS + 1):
                assert c.save(pos, pos, pos % 5, retry_for=0) == 200
            t = time.perf_counter()
            assert c.end_block() == 302
            # The publish happens on a background thread: the broker's timeout is not ours.
            assert time.perf_counter() - t < 2.0
        time.sleep(max(0.0, 5 - (time.monotonic() - down_at)))
        assert not [f for c in clients for f in c.failures]
    finally:
        own_redis.start()
    assert lost_answers([a for c in clients for a in c.acks]) == []
    blocks = AttemptBlock.objects.filter(attempt__uuid__in=[c.attempt for c in clients], number=1)
    assert set(blocks.values_list("state", flat=True)) == {"closed"}
    assert _deadlines([c.attempt for c in clients]) == before
    assert _analytics_complete() == 0


def test_worker_stopped_across_block_ends_catches_up_when_restarted(
    server, server_env, in_block, tmp_path
):
    clients = [in_block(f"wrk{i}") for i in range(3)]
    # A worker that is then stopped hard: the block ends queue up in the broker meanwhile.
    worker = procs.start_celery(server_env, tmp_path / "w1.log", name="faults-w1")
    try:
        time.sleep(2)
        procs.stop(worker, signal.SIGKILL)
        for c in clients:
            assert c.save(1, 1, 3, retry_for=0) == 200
            assert c.end_block() == 302
        ids = AttemptBlock.objects.filter(
            attempt__uuid__in=[c.attempt for c in clients], number=1
        ).values_list("id", flat=True)
        assert set(
            AttemptBlock.objects.filter(id__in=ids).values_list("analytics_state", flat=True)
        ) == {"pending"}
        worker = procs.start_celery(server_env, tmp_path / "w2.log", name="faults-w2")
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            if not AttemptBlock.objects.filter(id__in=ids).exclude(analytics_state="done"):
                break
            time.sleep(0.5)
    finally:
        procs.stop(worker)
    assert _analytics_complete() == 0
    assert lost_answers([a for c in clients for a in c.acks]) == []


def test_two_tabs_with_interleaved_seqs_keep_the_newest_answer(in_block):
    tab_a = in_block("tabs")
    tab_b = type(tab_a)(
        port=tab_a.port, session=tab_a.session, csrf=tab_a.csrf, attempt=tab_a.attempt
    )
    go = threading.Barrier(2)

    def run(tab, parity):
        go.wait()
        for seq in range(parity, 80, 2):
            tab.save(seq % ITEMS + 1, seq, (seq * 7) % 5)

    threads = [threading.Thread(target=run, args=(t, p)) for t, p in ((tab_a, 1), (tab_b, 2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    acks = tab_a.acks + tab_b.acks
    assert len(acks) == 79
    assert lost_answers(acks) == []
    attempt = Attempt.objects.get(uuid=tab_a.attempt)
    assert clock.block_last_seq(attempt=attempt, block=attempt.blocks.get(number=1)) == 79


def test_end_block_submitted_twice_at_once_closes_it_once(in_block):
    c = in_block("double")
    assert c.save(2, 1, 4) == 200
    before = _deadlines([c.attempt])
    go = threading.Barrier(4)
    statuses = []

    def end():
        go.wait()
        statuses.append(c.end_block())

    threads = [threading.Thread(target=end) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [302] * 4
    blocks = {b.number: b for b in AttemptBlock.objects.filter(attempt__uuid=c.attempt)}
    assert blocks[1].state == "closed" and blocks[1].close_reason == "ended"
    assert blocks[2].state == "pending"  # the second click did not end the next block
    assert Attempt.objects.get(uuid=c.attempt).state == "between_blocks"
    assert _deadlines([c.attempt]) == before
    assert lost_answers(c.acks) == []
    assert _analytics_complete() == 0


def test_a_client_clock_hours_off_changes_nothing_the_server_decides(in_block):
    ahead = in_block("clock_ahead")
    ahead.extra_headers = {"Date": "Wed, 01 Jan 2031 17:00:00 GMT"}
    before = _deadlines([ahead.attempt])
    assert ahead.save(1, 1, 2, retry_for=0) == 200
    clock = ahead.clock()
    assert 590 <= clock["block_remaining"] <= 600  # 10 minutes by the server's clock
    # A block whose deadline passed 30 s ago by server time: the client claims it is hours
    # earlier, and the save is still refused and the block closed at its deadline.
    behind = in_block("clock_behind", started_ago=timedelta(minutes=10, seconds=30))
    behind.extra_headers = {"Date": "Mon, 01 Jan 2024 05:00:00 GMT"}
    behind_before = _deadlines([behind.attempt])
    assert behind.save(1, 1, 2, retry_for=0) == 409
    block = AttemptBlock.objects.get(attempt__uuid=behind.attempt, number=1)
    assert block.state == "closed" and block.close_reason == "expired"
    assert block.closed_at == block.deadline_at
    assert block.responses.get(position=1).choice is None
    assert _deadlines([ahead.attempt]) == before
    assert _deadlines([behind.attempt]) == behind_before
    assert lost_answers(ahead.acks) == []

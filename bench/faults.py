"""`make bench`, part 3: the heavier fault injections, against a private PostgreSQL cluster and a
private Redis (the shared servers other people's tests use are never stopped or restarted).

    python bench/faults.py [--redis-down 60] [--clients 8]

Timeline, with every client saving continuously (retrying an unanswered save with the same seq):
  t≈3 s   kill -9 one gunicorn worker
  t≈6 s   PostgreSQL restarted (`pg_ctl stop -m immediate` = crash, then start)
  t≈10 s  Celery worker killed and Redis stopped; every examinee ends block 1 and starts block 2
          while the broker is down, and keeps answering for --redis-down seconds
  then    Redis and the worker come back; block 2 is ended; the analytics sweep runs
Checks: no acknowledged answer lost, block deadlines unchanged, closed blocks stayed closed with
the same closed_at, and every closed block's analytics are done. Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import procs  # noqa: E402

OUT = procs.ROOT / "var" / "bench"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--redis-down", type=float, default=60.0)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    pg = procs.OwnPostgres(port=procs.free_port())
    redis = procs.OwnRedis(port=procs.free_port())
    gunicorn = worker = None
    loops = []
    try:
        pg.init()
        pg.start()
        pg.createdb("mb_faults")
        redis.start()
        env = dict(os.environ)
        env.update(
            DATABASE_URL=pg.url("mb_faults"),
            CELERY_BROKER_URL=redis.url(0),
            DJANGO_SETTINGS_MODULE="bench.bench_settings",
            SECRET_KEY="faults-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",  # noqa: S106
            DEBUG="0",
            HTTPS="0",
            STATIC_NO_MANIFEST="1",
            LOG_LEVEL="WARNING",
        )
        os.environ.update(env)
        procs.run_py(env, "manage.py", "migrate", "--noinput", "-v0")

        import django

        django.setup()
        from django.db import connection
        from django.utils import timezone

        from analytics.services import analytics_sweep
        from bench import seed_cohort
        from bench.faultlib import ExamClient, SaveLoop, login_session, lost_answers
        from exams import services
        from exams.models import AttemptBlock, Exam

        seed_cohort.bank()
        exam = Exam.objects.get(title="bench-cohort")
        port = procs.free_port()
        gunicorn = procs.start_gunicorn(env, port, workers=4, log=OUT / "faults-gunicorn.log")
        worker = procs.start_celery(env, OUT / "faults-celery.log", name="mb-faults")
        clients = []
        for u in seed_cohort._users("bfault", args.clients):
            a = services.attempt_start(user=u, exam=exam, now=timezone.now(), rng=random.Random())
            a = services.block_start(attempt=a, now=timezone.now())
            session, csrf = login_session(u)
            clients.append(ExamClient(port=port, session=session, csrf=csrf, attempt=str(a.uuid)))
        uuids = [c.attempt for c in clients]

        def deadlines() -> dict:
            return dict(
                AttemptBlock.objects.filter(
                    attempt__uuid__in=uuids, deadline_at__isnull=False
                ).values_list("id", "deadline_at")
            )

        before = deadlines()
        loops = [SaveLoop(c, 10) for c in clients]
        t0 = time.monotonic()
        for loop in loops:
            loop.start()
        events = {}
        time.sleep(3)
        victim = procs.gunicorn_workers(gunicorn)[0]
        os.kill(victim, signal.SIGKILL)
        events["gunicorn_worker_killed_at_s"] = round(time.monotonic() - t0, 1)
        time.sleep(3)
        pg_down = time.monotonic()
        pg.restart("immediate")
        events["postgres_restart_s"] = round(time.monotonic() - pg_down, 2)
        connection.close()
        time.sleep(4)
        procs.stop(worker, signal.SIGKILL)
        redis.stop()
        redis_down = time.monotonic()
        for loop in loops:
            loop.pause()
        mark = [len(c.latencies) for c in clients]
        for c in clients:
            assert c.end_block() == 302, "end block failed with the broker down"
            assert c.start_block() == 302, "start block failed with the broker down"
        for loop in loops:
            loop.resume()
        closed_1 = dict(
            AttemptBlock.objects.filter(attempt__uuid__in=uuids, number=1).values_list(
                "id", "closed_at"
            )
        )
        before.update(deadlines())  # block 2's deadlines, set when it started
        time.sleep(max(0.0, args.redis_down - (time.monotonic() - redis_down)))
        outage_lat = [x for c, m in zip(clients, mark, strict=True) for x in c.latencies[m:]]
        redis.start()
        worker = procs.start_celery(env, OUT / "faults-celery.log", name="mb-faults")
        events["redis_down_s"] = round(time.monotonic() - redis_down, 1)
        for loop in loops:
            loop.pause()
        for c in clients:
            assert c.end_block() == 302
        for loop in loops:
            loop.stop()
        deadline = time.monotonic() + 60
        closed = AttemptBlock.objects.filter(attempt__uuid__in=uuids, state="closed")
        while closed.exclude(analytics_state="done").exists() and time.monotonic() < deadline:
            time.sleep(1)
        pending_before_sweep = closed.exclude(analytics_state="done").count()
        swept = analytics_sweep(now=timezone.now(), limit=1000)
        acks = [a for c in clients for a in c.acks]
        failures = [f for c in clients for f in c.failures]
        result = {
            "events": events,
            "acknowledged_saves": len(acks),
            "lost": len(lost_answers(acks)),
            "unanswered_attempts_retried": len(failures),
            "failure_kinds": sorted({f.split(" ")[0] + " " + f.split(" ")[1] for f in failures}),
            "deadlines_unchanged": deadlines() == before,
            "closed_blocks_stayed_closed": dict(
                AttemptBlock.objects.filter(attempt__uuid__in=uuids, number=1).values_list(
                    "id", "closed_at"
                )
            )
            == closed_1,
            "blocks_closed": closed.count(),
            "analytics_pending_before_sweep": pending_before_sweep,
            "swept": swept,
            "analytics_not_done": closed.exclude(analytics_state="done").count(),
            "requests_during_redis_outage": len(outage_lat),
            "p50_ms_during_redis_outage": round(statistics.median(outage_lat) * 1000, 1),
            "max_ms_during_redis_outage": round(max(outage_lat) * 1000, 1),
        }
        ok = (
            result["lost"] == 0
            and result["deadlines_unchanged"]
            and result["closed_blocks_stayed_closed"]
            and result["analytics_not_done"] == 0
            and result["blocks_closed"] == 2 * len(clients)
        )
        result["ok"] = ok
        print(json.dumps(result, indent=1, default=str))
        (OUT / "faults.json").write_text(json.dumps(result, indent=1, default=str))
        return 0 if ok else 1
    finally:
        for loop in loops:
            loop.stop_event.set()
        procs.stop(gunicorn)
        procs.stop(worker)
        redis.stop()
        pg.destroy()


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`, part 1 and 2: answer-save benchmark (wrk) and cohort load test (bench/cohort.py).

    python bench/run_bench.py [--quick] [--floor]

--floor adds, at 16 connections, the framework-free floor (bench/floor.py: the save's session
check and statement under the same gunicorn settings) beside the bare Django view, and reports
the save, visit and clock throughput as ratios to it.

Runs against BENCH_DATABASE_URL and BENCH_CELERY_BROKER_URL (scripts/bench.sh sets them); for
either one unset it starts a PostgreSQL / Redis of its own from the wheels (config/embedded.py,
durable: fsync on) in a temp dir and stops and removes it at the end. The database the URL names
(default `mb_bench`) is dropped and created from scratch and the broker's Redis db is flushed.
Starts gunicorn (sync, 2 workers per core, DEBUG off, persistent connections) and a Celery worker
with embedded beat, and always stops them. Results go to var/bench/results.json and a markdown
summary to var/bench/results.md (copied by hand into docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procs import ROOT, free_port, run_py, start_celery, start_gunicorn, stop  # noqa: E402
from config import embedded  # noqa: E402

OUT = ROOT / "var" / "bench"
DB = "mb_bench"


@contextlib.contextmanager
def services():
    """BENCH_DATABASE_URL / BENCH_CELERY_BROKER_URL, or private servers from the wheels."""
    missing = [
        v for v in ("BENCH_DATABASE_URL", "BENCH_CELERY_BROKER_URL") if not os.environ.get(v)
    ]
    if not missing:
        yield
        return
    base = Path(tempfile.mkdtemp(prefix="mb-bench-"))
    try:
        # Not ephemeral: the saves are measured with fsync and synchronous commit on.
        embedded.start(
            base,
            postgres="BENCH_DATABASE_URL" in missing,
            redis="BENCH_CELERY_BROKER_URL" in missing,
        )
        if "BENCH_DATABASE_URL" in missing:
            os.environ["BENCH_DATABASE_URL"] = embedded.database_url(base, DB)
        if "BENCH_CELERY_BROKER_URL" in missing:
            os.environ["BENCH_CELERY_BROKER_URL"] = embedded.broker_url(base, 8)
        yield
    finally:
        embedded.stop(base)
        shutil.rmtree(base, ignore_errors=True)
        for name in missing:
            os.environ.pop(name, None)


def admin_conninfo() -> str:
    """The benchmark's server, connected to its maintenance database `postgres`."""
    from psycopg.conninfo import make_conninfo

    return make_conninfo(os.environ["BENCH_DATABASE_URL"], dbname="postgres")


def bench_db() -> str:
    from psycopg.conninfo import conninfo_to_dict

    return conninfo_to_dict(os.environ["BENCH_DATABASE_URL"])["dbname"]


def broker():
    import redis

    return redis.Redis.from_url(os.environ["BENCH_CELERY_BROKER_URL"])


def env() -> dict:
    e = dict(os.environ)
    e.update(
        DATABASE_URL=os.environ["BENCH_DATABASE_URL"],
        CELERY_BROKER_URL=os.environ["BENCH_CELERY_BROKER_URL"],
        DJANGO_SETTINGS_MODULE="bench.bench_settings",
        SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",  # noqa: S106
        DEBUG="0",
        HTTPS="0",
        STATIC_ROOT=str(OUT / "static"),
        LOG_LEVEL="WARNING",
        # wrk sends saves far faster than any examinee: keep the per-attempt limiter's Redis
        # round trip in the measurement, but not its refusals.
        EXAM_RATE_LIMIT_PER_SECOND="1000000",
    )
    e.pop("STATIC_NO_MANIFEST", None)
    return e


def sh(*args: str, **kw) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    versions = {
        "python": platform.python_version(),
        "django": run_py(env(), "-c", "import django; print(django.__version__)").stdout.strip(),
        "gunicorn": run_py(env(), "-m", "gunicorn", "--version").stdout.strip(),
        "celery": run_py(env(), "-c", "import celery; print(celery.__version__)").stdout.strip(),
        "postgresql": server_version(),
        "redis": broker().info("server")["redis_version"],
        "wrk": (
            subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
            or subprocess.run(["wrk", "-v"], capture_output=True, text=True).stderr
        ).splitlines()[0],
    }
    return {
        "nproc": os.cpu_count(),
        "mem_gb": round(int(mem) / 1024 / 1024, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "versions": {k: v.strip() for k, v in versions.items()},
        "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
    }


def server_version() -> str:
    import psycopg

    with psycopg.connect(admin_conninfo()) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def prepare(e: dict, save_users: int, cohort_users: int) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_conninfo(), autocommit=True) as conn:
        name = sql.Identifier(bench_db())
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    broker().flushdb()
    run_py(e, "manage.py", "migrate", "--noinput", "-v0")
    run_py(e, "manage.py", "collectstatic", "--noinput", "-v0")
    run_py(e, "bench/seed_cohort.py", "save-users", str(save_users), str(OUT / "save.tsv"))
    run_py(e, "bench/seed_cohort.py", "cohort-users", str(cohort_users), str(OUT / "cohort.tsv"))


def wrk(url: str, mode: str, conns: int, seconds: int, seq_base: int, ack_dir: Path) -> dict:
    ack_dir.mkdir(parents=True, exist_ok=True)
    out = sh(
        "wrk",
        f"-t{conns}",
        f"-c{conns}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(ROOT / "bench" / "save.lua"),
        url,
        "--",
        str(OUT / "save.tsv"),
        mode,
        str(seq_base),
        str(ack_dir),
        str(conns),
    )
    return json.loads(out.strip().splitlines()[-1])


def save_bench(url: str, e: dict, seconds: int) -> dict:
    results: dict = {"runs": []}
    ack_dir = OUT / "acks"
    shutil.rmtree(ack_dir, ignore_errors=True)
    for n, conns in enumerate((1, 16, 64)):
        # Bare and save back to back, so other load on the machine hits both alike.
        bare = wrk(url, "bare", conns, seconds, 0, ack_dir / "bare")
        save = wrk(url, "save", conns, seconds, (n + 1) * 10_000_000, ack_dir / f"c{conns}")
        results["runs"].append({"connections": conns, "bare": bare, "save": save})
        print(f"saves c={conns}: save {save} | bare {bare}", flush=True)
    check = run_py(
        e, "bench/seed_cohort.py", "verify-saves", str(OUT / "save.tsv"), str(ack_dir), check=False
    )
    results["verify"] = json.loads(check.stdout.strip().splitlines()[-1])
    results["verify_ok"] = check.returncode == 0
    return results


def floor_bench(url: str, floor_url: str, e: dict, seconds: int, conns: int = 16) -> dict:
    """Floor, bare, save, visit and clock back to back at one concurrency, so load from
    elsewhere on the machine hits them alike; throughput as a ratio to the floor's."""
    ack_dir = OUT / "acks"
    runs = {
        "floor": wrk(floor_url, "floor", conns, seconds, 40_000_000, ack_dir / "floor"),
        "bare": wrk(url, "bare", conns, seconds, 0, ack_dir / "bare"),
        "save": wrk(url, "save", conns, seconds, 50_000_000, ack_dir / "floor-save"),
        "visit": wrk(url, "visit", conns, seconds, 0, ack_dir / "visit"),
        "clock": wrk(url, "clock", conns, seconds, 0, ack_dir / "clock"),
    }
    floor_rps = runs["floor"]["rps"] or 1
    for name, r in runs.items():
        r["ratio_to_floor"] = round(r["rps"] / floor_rps, 3)
        print(f"floor c={conns}: {name} {r}", flush=True)
    # Every save the floor and the app acknowledged is in the database (all runs so far).
    check = run_py(
        e, "bench/seed_cohort.py", "verify-saves", str(OUT / "save.tsv"), str(ack_dir), check=False
    )
    return {
        "connections": conns,
        "runs": runs,
        "verify": json.loads(check.stdout.strip().splitlines()[-1]),
        "verify_ok": check.returncode == 0,
    }


def cohort(url: str, e: dict, think: float, spike: float) -> dict:
    p = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "cohort.py"),
            "--users",
            str(OUT / "cohort.tsv"),
            "--url",
            url,
            "--out",
            str(OUT / "cohort.json"),
            "--think",
            str(think),
            "--spike",
            str(spike),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    summary = json.loads(p.stdout)
    # The worker computes each closed block's analytics; give it a minute, then check.
    deadline = time.monotonic() + 90
    while True:
        check = run_py(
            e, "bench/seed_cohort.py", "verify-cohort", str(OUT / "cohort.json"), check=False
        )
        verify = json.loads(check.stdout.strip().splitlines()[-1])
        if verify["blocks_analytics_done"] >= verify["blocks_closed"] or (
            time.monotonic() > deadline
        ):
            break
        time.sleep(5)
    summary["verify"] = verify
    summary["verify_ok"] = check.returncode == 0
    return summary


def markdown(res: dict) -> str:
    m = res["machine"]
    lines = [
        f"Run {res['started']} · load average before: {' '.join(m['loadavg_before'])}",
        "",
        "| machine | |",
        "|---|---|",
        f"| CPU | {m['cpu']} × {m['nproc']} (nproc) |",
        f"| memory | {m['mem_gb']} GB |",
        f"| kernel | {m['kernel']} |",
    ]
    lines += [f"| {k} | {v} |" for k, v in m["versions"].items()]
    if "saves" in res:
        lines += [
            "",
            "| connections | view | req/s | p50 ms | p99 ms | max ms | non-2xx | socket errors |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for run in res["saves"]["runs"]:
            for view in ("bare", "save"):
                r = run[view]
                errs = sum(v for k, v in r["errors"].items() if k != "status")
                lines.append(
                    f"| {run['connections']} | {view} | {r['rps']} | {r['p50_ms']} | {r['p99_ms']} | "
                    f"{r['max_ms']} | {r['errors']['status']} | {errs} |"
                )
        r16 = next(r for r in res["saves"]["runs"] if r["connections"] == 16)
        lines += [
            "",
            f"Save/bare throughput ratio at 16 connections: "
            f"**{r16['save']['rps'] / r16['bare']['rps']:.2f}** (goal ≥ 0.8); "
            f"save p99 {r16['save']['p99_ms']} ms (goal ≤ 40 ms).",
            "",
            f"Acknowledged-save check: `{json.dumps(res['saves']['verify'])}`",
        ]
    if "floor" in res:
        f = res["floor"]
        lines += [
            "",
            f"Against the floor (bench/floor.py), {f['connections']} connections:",
            "",
            "| endpoint | req/s | ratio to floor | p50 ms | p99 ms | non-2xx |",
            "|---|---|---|---|---|---|",
        ]
        for name, r in f["runs"].items():
            lines.append(
                f"| {name} | {r['rps']} | {r['ratio_to_floor']} | {r['p50_ms']} | "
                f"{r['p99_ms']} | {r['errors']['status']} |"
            )
        lines += ["", f"Acknowledged-save check after the floor runs: `{json.dumps(f['verify'])}`"]
    c = res.get("cohort")
    if c:
        lines += [
            "",
            f"Cohort: {c['examinees']} examinees, think time mean {c['think_mean_s']} s "
            f"(compression ×{c['compression']:.0f}), wall {c['wall_s']} s, "
            f"{c['requests']} requests, errors {c['error_count']} {c['errors']}.",
            f"Steady-state answers/s: {c['steady_saves_per_s']} → equivalent to "
            f"**{c['equivalent_examinees']}** concurrent real examinees (1 answer / 90 s each).",
            f"Load generator CPU: {c['loadgen_cpu_s']} s = {c['loadgen_cpu_share_of_machine']:.1%}"
            " of the machine over the run.",
            "",
            "| endpoint | n | p50 ms | p99 ms | max ms |",
            "|---|---|---|---|---|",
        ]
        for name, v in c["endpoints"].items():
            lines.append(
                f"| {name} | {v['n']} | {v['p50_ms']} | {v['p99_ms']} | {round(v['max_ms'], 1)} |"
            )
        lines += ["", f"Database check after the run: `{json.dumps(c['verify'])}`"]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="5 s wrk runs, 200 examinees")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--examinees", type=int, default=1000)
    ap.add_argument("--think", type=float, default=9.0)
    ap.add_argument("--skip-cohort", action="store_true")
    ap.add_argument("--skip-saves", action="store_true")
    ap.add_argument("--floor", action="store_true", help="also the framework-free floor")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.examinees = 5, 200
    OUT.mkdir(parents=True, exist_ok=True)
    with services():
        return run(args)


def run(args: argparse.Namespace) -> int:
    e = env()
    res = {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": machine()}
    print("preparing database (migrate, seed)...", flush=True)
    prepare(e, 256, args.examinees)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    workers = 2 * (os.cpu_count() or 1)
    celery = gunicorn = floor = None
    try:
        celery = start_celery(e, OUT / "celery.log", beat=True, name="mb-bench", nice=10)
        gunicorn = start_gunicorn(e, port, workers=workers, log=OUT / "gunicorn.log")
        res["gunicorn_workers"] = workers
        if args.floor:
            floor_port = free_port()
            floor = start_gunicorn(
                e, floor_port, workers=workers, log=OUT / "floor.log", app="bench.floor:application"
            )
        if not args.skip_saves:
            res["saves"] = save_bench(url, e, args.seconds)
        if args.floor:
            res["floor"] = floor_bench(url, f"http://127.0.0.1:{floor_port}", e, args.seconds)
            stop(floor)
        if not args.skip_cohort:
            print("cohort load test...", flush=True)
            # The start spike is a minute at ×10 (think 9 s); a faster clock shrinks it with
            # everything else, so the run has the same shape, only compressed further.
            res["cohort"] = cohort(url, e, args.think, 60.0 * args.think / 9.0)
    finally:
        stop(floor)
        stop(gunicorn)
        stop(celery)
    res["machine"]["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    (OUT / "results.json").write_text(json.dumps(res, indent=1, default=str))
    md = markdown(res)
    (OUT / "results.md").write_text(md)
    print(md)
    ok = (
        (args.skip_saves or res["saves"]["verify_ok"])
        and res.get("floor", {}).get("verify_ok", True)
        and (args.skip_cohort or res["cohort"]["verify_ok"])
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

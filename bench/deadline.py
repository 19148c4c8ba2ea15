"""`make bench`, part 3: a whole cohort crossing a block deadline at once.

    python bench/deadline.py [--examinees 200] [--block-minutes 1] [--vanished 0.1]
                             [--browser wait|poll]

N examinees start the 2-block deadline exam (bench/seed_cohort.py, "bench-deadline") within the
same --window seconds (10), answer a few items of block 1 and then wait out its full time, so
every block ends on the server's deadline. As exam.js does at zero, each sends the answer it
still has queued (it lands in the grace window, ANSWER_GRACE_SECONDS), then waits until the
server closes the block (deadline + grace, plus up to a second at random) and loads the break
screen once (--browser poll: as exam.js did before #18, it polls the clock once a second until
the server has closed the block). Then each starts block 2 at once: block start and the
redirects the server sends, item 1 as a full page (the "first item on screen"), then, after
exam.js' random pause of 1.5 to 9.5 s, the block's bundle.
A --vanished share of examinees close their tab at the deadline instead: only the beat sweep
(exams.tasks.close_expired_blocks, every SWEEP_INTERVAL_SECONDS) closes their blocks.

Measured:
  * deadline -> item 1 of block 2 received (p50, p99, max), and the same from the end of the
    grace window, since the server closes nothing before it (the floor is the grace itself);
  * the sweep's duration and blocks closed per run, from the Celery worker's log;
  * the latency of the saves sent inside the grace window, and how many were refused (goal 0);
  * every acknowledged answer is in the database afterwards (verify-cohort).

Runs against BENCH_DATABASE_URL / BENCH_CELERY_BROKER_URL like bench/run_bench.py (the database
is dropped and recreated), or against private servers from the wheels when they are unset.
Results: var/bench/deadline.json and var/bench/deadline.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import re
import sys
import threading
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cohort import ATTEMPT_RE, JSON, pct, redirect_chain  # noqa: E402
from bench.procs import free_port, run_py, start_celery, start_gunicorn, stop  # noqa: E402
from bench.run_bench import OUT, admin_conninfo, bench_db, broker, env, services  # noqa: E402

SWEEP_RE = re.compile(
    r"^\[?(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+).*"
    r"exams\.tasks\.close_expired_blocks\[[^\]]+\] succeeded in (?P<s>[\d.e\-]+)s: (?P<n>\d+)"
)


RELOAD_RE = re.compile(rb'http-equiv="refresh" content="(\d+)"')


class Examinee:
    def __init__(self, row, host, port, rec, lock, grace_s: float, browser: str) -> None:
        self.user, self.session, self.csrf, _, self.exam = row
        self.host, self.port, self.rec, self.lock = host, port, rec, lock
        self.grace_s = grace_s
        self.browser = browser
        self.seq = 0
        self.attempt = ""

    def request(self, name, method, path, body="", extra=None):
        headers = {
            "Cookie": f"sessionid={self.session}; csrftoken={self.csrf}",
            "X-CSRFToken": self.csrf,
        }
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers.update(extra or {})
        start = time.perf_counter()
        status, data = 0, b""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status = resp.status
            location = resp.getheader("Location", "")
        except OSError as exc:
            status, location = type(exc).__name__, ""
        finally:
            conn.close()
        ms = (time.perf_counter() - start) * 1000
        with self.lock:
            self.rec["lat"][name].append(round(ms, 2))
            if not (isinstance(status, int) and status < 400):
                self.rec["errors"][f"{name} {status}"] += 1
        return status, location, data, ms

    def save(self, block: int, pos: int, name: str = "save"):
        self.seq += 1
        choice = random.randrange(5)
        sent = time.time()
        status, _, data, ms = self.request(
            name,
            "POST",
            f"/exams/a/{self.attempt}/item/{pos}/save/",
            f"seq={self.seq}&choice={choice}",
            JSON,
        )
        ok = status == 200 and b'"ok": true' in data
        with self.lock:
            if ok:
                self.rec["acks"].append((self.attempt, block, pos, self.seq, choice))
            if name == "grace_save":
                self.rec["grace_saves"].append((self.attempt, sent, round(ms, 2), status, ok))

    def clock(self) -> dict:
        status, _, data, _ = self.request(
            "clock", "GET", f"/exams/a/{self.attempt}/clock/", extra=JSON
        )
        return json.loads(data) if status == 200 else {}

    def start_block(self, a: str) -> float:
        """Start the next block the way the browser does; returns when item 1 was received."""
        _, loc, _, _ = self.request("block_start", "POST", f"{a}/blocks/start/")
        # The redirects the server sends: item 1 (through the attempt page before #18).
        redirect_chain(self.request, loc)
        on_screen = time.time()
        # exam.js waits 1.5 to 9.5 s before it fetches the bundle, so that a cohort's bundles
        # do not all arrive in the same second; the examinee reads item 1 meanwhile.
        time.sleep(1.5 + random.random() * 8)
        self.request("block_items", "GET", f"{a}/block/items/", extra={"HX-Request": "true"})
        return on_screen

    def run(self, start_at: float, items: int, vanish: bool) -> None:
        time.sleep(max(0.0, start_at - time.time()))
        status, loc, _, _ = self.request("exam_start", "POST", f"/exams/{self.exam}/start/")
        m = ATTEMPT_RE.search(loc or "")
        if status != 302 or not m:
            return
        self.attempt = m.group(1)
        a = f"/exams/a/{self.attempt}"
        self.request("attempt_page", "GET", f"{a}/")
        self.start_block(a)
        c = self.clock()
        if c.get("block_remaining") is None:
            return
        # The server's figure is whole seconds, rounded down: the deadline is within 1 s after.
        deadline = time.time() + c["block_remaining"]
        # When the server closes the block, to the millisecond (the clock has it since #18).
        closes_at = time.time() + c["closes_in_ms"] / 1000 if c.get("closes_in_ms") else None
        # Answer a few items across the first half of the block, then sit on the last one.
        answered = min(items, 5)
        gap = max(0.5, (deadline - time.time()) / 2 / answered)
        for pos in range(1, answered + 1):
            if pos > 1:
                self.request("visit", "POST", f"{a}/item/{pos}/visit/", extra=JSON)
            time.sleep(random.uniform(0.5, 1.5) * gap)
            self.save(1, pos)
        # The block runs out: the browser flushes the answer it still holds, which lands after
        # the deadline but well inside the grace window.
        time.sleep(max(0.0, deadline + 1 + random.uniform(0, self.grace_s / 3) - time.time()))
        self.save(1, answered, "grace_save")
        if vanish:
            return  # the tab is gone: only the beat sweep closes this block
        if self.browser == "poll":
            # exam.js before #18: poll the clock each second until the server has closed the
            # block, then load the attempt page.
            give_up = time.time() + 60
            while time.time() < give_up:
                if self.clock().get("state") not in ("in_block", None):
                    break
                time.sleep(1.0)
            self.request("attempt_page", "GET", f"{a}/")  # the break screen
        else:
            # exam.js awaitServerClose: wait until the server closes the block (the clock's
            # closes_in_ms), plus a random part of a second, then load the attempt page once.
            # Early, it is the "time is up" page, which reloads itself after the grace.
            close = closes_at or deadline + self.grace_s + 1
            time.sleep(max(0.0, close + 0.1 + random.random() - time.time()))
            for _ in range(5):
                status, _, data, _ = self.request("attempt_page", "GET", f"{a}/")
                m = RELOAD_RE.search(data or b"")
                if status != 200 or not m:
                    break
                time.sleep(int(m.group(1)))
        on_screen = self.start_block(a)
        with self.lock:
            self.rec["next_item_at"][self.attempt] = on_screen
        self.save(2, 1)
        self.request("block_end", "POST", f"{a}/blocks/end/")


def worker(rows, total, url, t0, window, items, vanished, grace_s, browser, out_q) -> None:
    u = urlparse(url)
    rec = {
        "lat": defaultdict(list),
        "errors": defaultdict(int),
        "acks": [],
        "grace_saves": [],
        "next_item_at": {},
    }
    lock = threading.Lock()
    threads = []
    for idx, row in rows:
        e = Examinee(row, u.hostname, u.port, rec, lock, grace_s, browser)
        start_at = t0 + window * idx / max(1, total)
        vanish = idx < int(total * vanished)
        t = threading.Thread(target=e.run, args=(start_at, items, vanish), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    cpu = os.times()
    rec["cpu_s"] = cpu.user + cpu.system
    rec["lat"], rec["errors"] = dict(rec["lat"]), dict(rec["errors"])
    out_q.put(rec)


def load(args, url: str, grace_s: float) -> dict:
    rows = [line.split("\t") for line in (OUT / "deadline.tsv").read_text().splitlines() if line]
    random.seed(2026)
    t0 = time.time() + 2
    q: mp.Queue = mp.Queue()
    procs = []
    for p in range(args.procs):
        mine = [(i, rows[i]) for i in range(p, len(rows), args.procs)]
        proc = mp.Process(
            target=worker,
            args=(
                mine,
                len(rows),
                url,
                t0,
                args.window,
                10,
                args.vanished,
                grace_s,
                args.browser,
                q,
            ),
        )
        proc.start()
        procs.append(proc)
    recs = [q.get() for _ in procs]
    for proc in procs:
        proc.join()
    merged: dict = {
        "lat": defaultdict(list),
        "errors": defaultdict(int),
        "acks": [],
        "grace_saves": [],
        "next_item_at": {},
        "cpu_s": 0.0,
    }
    for r in recs:
        for k, v in r["lat"].items():
            merged["lat"][k].extend(v)
        for k, v in r["errors"].items():
            merged["errors"][k] += v
        merged["acks"] += r["acks"]
        merged["grace_saves"] += r["grace_saves"]
        merged["next_item_at"].update(r["next_item_at"])
        merged["cpu_s"] += r["cpu_s"]
    return merged


def sweeps(log: Path, since: float) -> list[dict]:
    runs = []
    for line in log.read_text(errors="replace").splitlines():
        m = SWEEP_RE.search(line)
        if not m:
            continue
        at = datetime.strptime(m["at"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        if at >= since:
            runs.append({"at": round(at, 1), "seconds": float(m["s"]), "closed": int(m["n"])})
    return runs


def stats(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": round(pct(values, 50), 3),
        "p99": round(pct(values, 99), 3),
        "max": round(max(values), 3) if values else 0,
    }


def summarise(args, merged: dict, report: dict, sweep_runs: list[dict], grace_s: float) -> dict:
    to_item, after_grace = [], []
    for uuid, at in merged["next_item_at"].items():
        deadline = report.get(uuid, {}).get("1", {}).get("deadline")
        if deadline:
            to_item.append(at - deadline)
            after_grace.append(at - deadline - grace_s)
    in_grace, refused, outside = [], 0, 0
    for uuid, sent, ms, _status, ok in merged["grace_saves"]:
        deadline = report.get(uuid, {}).get("1", {}).get("deadline")
        if not deadline or not (deadline <= sent <= deadline + grace_s):
            outside += 1  # sent before the deadline or after the grace: not this measure
            continue
        in_grace.append(ms)
        refused += not ok
    reasons: dict[str, int] = defaultdict(int)
    for blocks in report.values():
        reasons[f"block1 {blocks.get('1', {}).get('reason') or 'open'}"] += 1
    return {
        "examinees": args.examinees,
        "block_minutes": args.block_minutes,
        "start_window_s": args.window,
        "vanished_share": args.vanished,
        "browser": args.browser,
        "grace_s": grace_s,
        "deadline_to_next_item_s": stats(to_item),
        "grace_end_to_next_item_s": stats(after_grace),
        "grace_saves_ms": stats(in_grace),
        "grace_saves_refused": refused,
        "grace_saves_not_in_window": outside,
        "sweeps": sweep_runs,
        "sweep_max_s": max((s["seconds"] for s in sweep_runs), default=0),
        "sweep_closed_total": sum(s["closed"] for s in sweep_runs),
        "block_closes": dict(reasons),
        "errors": dict(merged["errors"]),
        "error_count": sum(merged["errors"].values()),
        "endpoints": {k: stats(v) for k, v in sorted(merged["lat"].items())},
        "loadgen_cpu_s": round(merged["cpu_s"], 1),
    }


def markdown(res: dict) -> str:
    s = res["summary"]
    d, g, v = s["deadline_to_next_item_s"], s["grace_end_to_next_item_s"], s["grace_saves_ms"]
    lines = [
        f"Run {res['started']} · load average before: {' '.join(res['loadavg_before'])}, "
        f"after: {' '.join(res['loadavg_after'])}",
        "",
        f"{s['examinees']} examinees started within {s['start_window_s']} s, {s['block_minutes']}"
        f"-minute blocks, grace {s['grace_s']} s, {s['vanished_share']:.0%} vanish at the "
        f"deadline (closed by the sweep only), browser at zero: {s.get('browser', 'poll')}. "
        f"Errors: {s['error_count']} {s['errors']}.",
        "",
        "| measure | n | p50 | p99 | max |",
        "|---|---|---|---|---|",
        f"| deadline → item 1 of next block (s) | {d['n']} | {d['p50']} | {d['p99']} | {d['max']} |",
        f"| end of grace → item 1 of next block (s) | {g['n']} | {g['p50']} | {g['p99']} | "
        f"{g['max']} |",
        f"| save inside the grace window (ms) | {v['n']} | {v['p50']} | {v['p99']} | {v['max']} |",
        "",
        f"Saves in grace refused: **{s['grace_saves_refused']}** (goal 0). "
        f"Sweep runs after the first deadline: {len(s['sweeps'])}, longest "
        f"{s['sweep_max_s']:.3f} s, blocks closed by the sweep {s['sweep_closed_total']}. "
        f"Block 1 closes: {s['block_closes']}.",
        "",
        "| endpoint | n | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {k} | {e['n']} | {e['p50']} | {e['p99']} | {e['max']} |"
        for k, e in s["endpoints"].items()
    ]
    lines += ["", f"Database check after the run: `{json.dumps(res['verify'])}`"]
    return "\n".join(lines) + "\n"


def prepare(e: dict, n: int, minutes: int) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_conninfo(), autocommit=True) as conn:
        name = sql.Identifier(bench_db())
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    broker().flushdb()
    run_py(e, "manage.py", "migrate", "--noinput", "-v0")
    run_py(e, "manage.py", "collectstatic", "--noinput", "-v0")
    run_py(e, "bench/seed_cohort.py", "deadline-users", str(n), str(OUT / "deadline.tsv"),
           str(minutes))  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examinees", type=int, default=200)
    ap.add_argument("--block-minutes", type=int, default=1)
    ap.add_argument("--window", type=float, default=10.0, help="start spread, seconds")
    ap.add_argument("--vanished", type=float, default=0.1)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument(
        "--browser",
        choices=["wait", "poll"],
        default="wait",
        help="at zero, wait out the grace (exam.js since #18) or poll the clock each second "
        "(before it: to measure an older checkout)",
    )
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with services():
        return run(args)


def run(args) -> int:
    e = env()
    grace_s = float(e.get("ANSWER_GRACE_SECONDS", 5))
    res: dict = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
    }
    print("deadline bench: preparing database (migrate, seed)...", flush=True)
    prepare(e, args.examinees, args.block_minutes)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = OUT / "deadline-celery.log"
    celery = gunicorn = None
    try:
        celery = start_celery(e, log, beat=True, name="mb-deadline", nice=10)
        gunicorn = start_gunicorn(
            e, port, workers=2 * (os.cpu_count() or 1), log=OUT / "deadline-gunicorn.log"
        )
        print(f"deadline bench: {args.examinees} examinees...", flush=True)
        t_start = time.time()
        merged = load(args, url, grace_s)
        # Let the beat sweep close the vanished examinees' blocks (one interval and a margin).
        sweep_wait = float(e.get("SWEEP_INTERVAL_SECONDS", 15)) + 10
        deadline = time.monotonic() + sweep_wait
        while time.monotonic() < deadline:
            report = json.loads(
                run_py(e, "bench/seed_cohort.py", "deadline-report").stdout.strip() or "{}"
            )
            if all(b.get("1", {}).get("state") == "closed" for b in report.values()):
                break
            time.sleep(2)
    finally:
        stop(gunicorn)
        stop(celery)
    (OUT / "deadline-acks.json").write_text(json.dumps({"acks": merged["acks"]}))
    check = run_py(
        e, "bench/seed_cohort.py", "verify-cohort", str(OUT / "deadline-acks.json"), "bdl",
        check=False,
    )  # fmt: skip
    res["verify"] = json.loads(check.stdout.strip().splitlines()[-1])
    res["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    first_deadline = min(
        (b["1"]["deadline"] for b in report.values() if b.get("1", {}).get("deadline")),
        default=t_start,
    )
    res["summary"] = summarise(args, merged, report, sweeps(log, first_deadline), grace_s)
    (OUT / "deadline.json").write_text(json.dumps(res, indent=1))
    md = markdown(res)
    (OUT / "deadline.md").write_text(md)
    print(md)
    s = res["summary"]
    ok = check.returncode == 0 and s["grace_saves_refused"] == 0 and s["error_count"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

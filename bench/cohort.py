"""Cohort load test: simulated examinees sitting the 2 x 10-item bench exam over HTTP.

    python bench/cohort.py --users USERS.tsv --url http://127.0.0.1:PORT --out RESULT.json \
        [--procs 4] [--think 9] [--spike 60]

Plain Python (no Django): each examinee is a thread with its own session cookie; examinees are
spread over --procs processes. Each one sends what the browser sends (exam.js, and the page
loads that follow each redirect):
  * starts the exam within the first --spike seconds (the start spike), then the attempt page;
  * per block: starts it, follows the redirect (attempt page, then item 1 as a full page) and
    fetches the block's items for the offline cache in one request (exams:block_items);
  * per item after the first: the browser shows it from its cache and only POSTs the visit;
    then thinks, and POSTs the answer (JSON);
  * polls the clock after 60 s of real time (60 / compression here) without a server reply;
  * after the last item ends the block (and loads the break screen), then block 2 the same way.
The think time is exponential with mean --think seconds; a real examinee spends ~90 s per item,
so the compression is 90/think and a run with U examinees stands for U * 90 / think examinees
in real time (the report uses the measured save rate).

Every acknowledged answer is recorded as (attempt, position, seq, choice) for the database
check; every request's latency is recorded per endpoint; each process reports its own CPU time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import re
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

ATTEMPT_RE = re.compile(r"/exams/a/([0-9a-f-]{36})/")
ITEM_RE = re.compile(r"/exams/a/[0-9a-f-]{36}/item/\d+/$")


def redirect_chain(request, location: str) -> None:
    """GET each redirect target in turn, as the browser does, named by the screen it is (an
    item page or the attempt page): the chain is whatever the server answers, not assumed."""
    for _ in range(5):
        if not location:
            return
        path = urlparse(location).path
        reply = request("item" if ITEM_RE.search(path) else "attempt_page", "GET", path)
        status, location = reply[0], reply[1]
        if status not in (301, 302, 303):
            return


REAL_SECONDS_PER_ITEM = 90
CLOCK_POLL_REAL_S = 60  # static/js/exam.js: a poll after 60 s without a clock from the server
JSON = {"Accept": "application/json"}


class Examinee:
    def __init__(self, row: list[str], host: str, port: int, rec: dict, lock) -> None:
        self.user, self.session, self.csrf, _, self.exam = row
        self.host, self.port = host, port
        self.rec, self.lock = rec, lock
        self.seq = 0
        self.attempt = None

    def request(self, name: str, method: str, path: str, body: str = "", extra=None):
        headers = {
            "Cookie": f"sessionid={self.session}; csrftoken={self.csrf}",
            "X-CSRFToken": self.csrf,
        }
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers.update(extra or {})
        start = time.perf_counter()
        status, location, data = 0, "", b""
        for attempt in range(3):  # a refused connect (full backlog) is retried, and counted
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                conn.request(method, path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status, location = resp.status, resp.getheader("Location", "")
                break
            except OSError as exc:
                status = f"{type(exc).__name__}"
                if attempt == 2 or method == "POST":
                    break
            finally:
                conn.close()
        ms = (time.perf_counter() - start) * 1000
        with self.lock:
            self.rec["lat"][name].append(round(ms, 2))
            ok = isinstance(status, int) and status < 400
            if not ok:
                self.rec["errors"][f"{name} {status}"] += 1
        return status, location, data

    def save(self, block: int, pos: int) -> None:
        self.seq += 1
        choice = random.randrange(5)
        status, _, data = self.request(
            "save",
            "POST",
            f"/exams/a/{self.attempt}/item/{pos}/save/",
            f"seq={self.seq}&choice={choice}",
            {"Accept": "application/json"},
        )
        if status == 200 and b'"ok": true' in data:
            with self.lock:
                self.rec["acks"].append((self.attempt, block, pos, self.seq, choice))
                self.rec["save_times"].append(time.time())

    def run(self, start_at: float, think: float, items: int, blocks: int) -> None:
        time.sleep(max(0.0, start_at - time.time()))
        status, loc, _ = self.request("exam_start", "POST", f"/exams/{self.exam}/start/")
        m = ATTEMPT_RE.search(loc or "")
        if status != 302 or not m:
            return
        self.attempt = m.group(1)
        a = f"/exams/a/{self.attempt}"
        htmx = {"HX-Request": "true"}
        # The browser follows each redirect: the attempt page (the screen before block 1).
        self.request("attempt_page", "GET", f"{a}/")
        # exam.js polls after 60 s of real time with no reply; compressed like the think time.
        quiet = CLOCK_POLL_REAL_S * think / REAL_SECONDS_PER_ITEM
        for block in range(1, blocks + 1):
            _, loc, _ = self.request("block_start", "POST", f"{a}/blocks/start/")
            # → item 1 as a full page (through the attempt page before #18), then its bundle.
            redirect_chain(self.request, loc)
            self.request("block_items", "GET", f"{a}/block/items/", extra=htmx)
            for pos in range(1, items + 1):
                if pos > 1:  # item 1 is on screen already
                    self.request("visit", "POST", f"{a}/item/{pos}/visit/", extra=JSON)
                wake = time.monotonic() + random.expovariate(1 / think)
                while time.monotonic() + quiet < wake:
                    time.sleep(quiet)
                    self.request("clock", "GET", f"{a}/clock/", extra=JSON)
                time.sleep(max(0.0, wake - time.monotonic()))
                self.save(block, pos)
            self.request("block_end", "POST", f"{a}/blocks/end/")
            self.request("attempt_page", "GET", f"{a}/")  # the break screen, or "finished"


def worker(rows, total_rows, url, t0, spike, think, items, blocks, out_q) -> None:
    u = urlparse(url)
    rec = {"lat": defaultdict(list), "errors": defaultdict(int), "acks": [], "save_times": []}
    lock = threading.Lock()
    threads = []
    for idx, row in rows:
        e = Examinee(row, u.hostname, u.port, rec, lock)
        start_at = t0 + spike * idx / max(1, total_rows)
        t = threading.Thread(target=e.run, args=(start_at, think, items, blocks), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    cpu = os.times()
    rec["cpu_s"] = cpu.user + cpu.system
    rec["lat"] = dict(rec["lat"])
    rec["errors"] = dict(rec["errors"])
    out_q.put(rec)


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--think", type=float, default=9.0)
    ap.add_argument("--spike", type=float, default=60.0)
    ap.add_argument("--items", type=int, default=10)
    ap.add_argument("--blocks", type=int, default=2)
    args = ap.parse_args()
    rows = [line.split("\t") for line in Path(args.users).read_text().splitlines() if line]
    random.seed(2026)
    order = list(range(len(rows)))
    t0 = time.time() + 2
    q: mp.Queue = mp.Queue()
    procs = []
    wall0 = time.time()
    for p in range(args.procs):
        mine = [(i, rows[i]) for i in order[p :: args.procs]]
        proc = mp.Process(
            target=worker,
            args=(
                mine,
                len(rows),
                args.url,
                t0,
                args.spike,
                args.think,
                args.items,
                args.blocks,
                q,
            ),
        )
        proc.start()
        procs.append(proc)
    recs = [q.get() for _ in procs]
    for proc in procs:
        proc.join()
    wall = time.time() - wall0
    lat: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    acks, save_times, cpu = [], [], 0.0
    for r in recs:
        for k, v in r["lat"].items():
            lat[k].extend(v)
        for k, v in r["errors"].items():
            errors[k] += v
        acks.extend(r["acks"])
        save_times.extend(r["save_times"])
        cpu += r["cpu_s"]
    # Steady state: from the end of the start spike to the first examinee finishing.
    save_times.sort()
    lo, hi = t0 + args.spike, t0 + args.blocks * args.items * args.think * 0.9
    steady = [t for t in save_times if lo <= t < hi]
    steady_rate = len(steady) / (hi - lo) if hi > lo else 0.0
    total_requests = sum(len(v) for v in lat.values())
    summary = {
        "examinees": len(rows),
        "think_mean_s": args.think,
        "compression": REAL_SECONDS_PER_ITEM / args.think,
        "wall_s": round(wall, 1),
        "requests": total_requests,
        "errors": dict(errors),
        "error_count": sum(errors.values()),
        "steady_saves_per_s": round(steady_rate, 1),
        "equivalent_examinees": int(steady_rate * 90),
        "loadgen_cpu_s": round(cpu, 1),
        "loadgen_cpu_share_of_machine": round(cpu / (wall * os.cpu_count()), 3),
        "endpoints": {
            k: {
                "n": len(v),
                "p50_ms": pct(v, 50),
                "p99_ms": pct(v, 99),
                "max_ms": max(v) if v else 0,
            }
            for k, v in sorted(lat.items())
        },
        "acks": [list(a) for a in acks],
    }
    with open(args.out, "w") as f:
        json.dump(summary, f)
    printable = {k: v for k, v in summary.items() if k != "acks"}
    print(json.dumps(printable, indent=1))


if __name__ == "__main__":
    main()

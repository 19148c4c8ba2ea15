"""Mockboard on several hosts, on this machine: network namespaces, HAProxy, PgBouncer, a node
killed mid-block (docs/scaling.md, "The multi-host test"). Needs root, `ip netns`, and Debian's
haproxy and pgbouncer; `make multihost` runs it, `make test` runs its small version
(tests/scaling/test_multihost.py).

    python bench/multihost.py [--examinees 50] [--items 5] [--blocks 2] [--think 0.6] \
        [--kill-at 0.4] [--json OUT.json]
    python bench/multihost.py --compare ...   # one node, then two, no kill: the measured point
    python bench/multihost.py --no-kill --web-hosts 1|2 ...   # one of the two

DATABASE_URL must name a PostgreSQL on a unix socket (the embedded one of `make test`); a
database of this run is created on it and dropped at the end. Hosts, each its own namespace,
on one bridge in a private /24 that exists only inside namespaces this script creates:

    client 10.77.0.30 -> lb 10.77.0.10 (HAProxy: :80 both nodes, :8001 web1 only, :8002 web2)
    web1 10.77.0.11, web2 10.77.0.12 (gunicorn)  -> db 10.77.0.20 (PgBouncer :6432, Redis :6379)
    work 10.77.0.13 (Celery worker and beat)      -> db
    PgBouncer reaches PostgreSQL through its unix socket (a file, shared by every namespace).

Scenarios, in order: an upload through web1 imported by the worker host and its image served
through web2; a login throttle tripped through web1 that holds on web2; a cohort through the
balancer, with web1 SIGKILLed once --kill-at of the answers are acknowledged. It prints the
answers acknowledged and lost, the failover gap and the per-node request split, and exits 1 if
an acknowledged answer is lost, a deadline moved or a scenario failed. With --no-kill it
measures instead: the cohort through HAProxy to web1 alone (--web-hosts 1) or to both nodes,
nothing killed and scenarios 1-2 skipped, with per endpoint p50/p99, throughput, failed
requests, answers acknowledged and lost, and the CPU the web nodes and PostgreSQL spent per
request; --compare runs one node then two back to back on the same stack (the examinees
re-seeded between them) and prints a line for each. Every wait is bounded,
and everything it started (namespaces included) is removed on the way out.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import csv
import hashlib
import io
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
NET = "10.77.0"
HOSTS = {"lb": 10, "web1": 11, "web2": 12, "work": 13, "db": 20, "client": 30}
CHECK_INTER_MS = 1000
CHECK_FALL = 2
SKIP = 77  # the exit code the test reads as "cannot run here"


def addr(host: str) -> str:
    return f"{NET}.{HOSTS[host]}"


def preflight() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for tool in ("ip", "haproxy", "pgbouncer"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"{tool} is not installed (scripts/services.sh installs it as root)"
    probe = f"mbprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` fails here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    url = urlparse(os.environ.get("DATABASE_URL", ""))
    if not url.hostname or not unquote(url.hostname).startswith("/"):
        return "DATABASE_URL must name a PostgreSQL on a unix socket (the embedded one)"
    return None


class Lab:
    """The namespaces, the processes in them, and their removal."""

    def __init__(self, workdir: Path) -> None:
        self.tag = str(os.getpid())[-5:]
        self.workdir = workdir
        self.namespaces: list[str] = []
        self.procs: dict[str, subprocess.Popen] = {}

    def ns(self, host: str) -> str:
        return f"mb{self.tag}-{host}"

    def sh(self, *args: str, ns: str | None = None) -> None:
        cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
        subprocess.run(cmd, check=True, capture_output=True, timeout=20)

    def network(self) -> None:
        switch = self.ns("sw")
        self.sh("ip", "netns", "add", switch)
        self.namespaces.append(switch)
        self.sh("ip", "link", "add", "br0", "type", "bridge", ns=switch)
        self.sh("ip", "link", "set", "br0", "up", ns=switch)
        for index, host in enumerate(HOSTS):
            name = self.ns(host)
            self.sh("ip", "netns", "add", name)
            self.namespaces.append(name)
            inner, outer = f"m{self.tag}{index}h", f"m{self.tag}{index}s"
            self.sh("ip", "link", "add", inner, "type", "veth", "peer", "name", outer)
            self.sh("ip", "link", "set", inner, "netns", name)
            self.sh("ip", "link", "set", outer, "netns", switch)
            self.sh("ip", "link", "set", outer, "master", "br0", "up", ns=switch)
            self.sh("ip", "addr", "add", f"{addr(host)}/24", "dev", inner, ns=name)
            self.sh("ip", "link", "set", inner, "up", ns=name)
            self.sh("ip", "link", "set", "lo", "up", ns=name)

    def start(self, name: str, host: str, args: list[str], env: dict, user: str | None = None):
        log = open(self.workdir / f"{name}.log", "w")  # noqa: SIM115 - closed with the lab
        cmd = ["ip", "netns", "exec", self.ns(host)] + args
        self.procs[name] = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self.procs[name]

    def kill(self, name: str) -> None:
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def close(self) -> None:
        for name in list(self.procs):
            with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
                self.kill(name)
        for name in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=20)


class Database:
    def __init__(self, url: str, name: str) -> None:
        import psycopg

        self.psycopg = psycopg
        parsed = urlparse(url)
        self.socket_dir = unquote(parsed.hostname)
        self.port = parsed.port or 5432
        self.user = parsed.username or "postgres"
        self.name = name
        self.admin_url = url
        self.url = parsed._replace(path=f"/{name}").geturl()

    def create(self, template: str | None = None) -> bool:
        """Create the run's database; True if copied from an already migrated template."""
        with self.psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            if template:
                try:
                    conn.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{template}"')
                    return True
                except self.psycopg.errors.Error:
                    pass  # in use by another session: migrate instead
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return False

    def drop(self) -> None:
        with self.psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def rows(self, sql: str, params=()) -> list[tuple]:
        with self.psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()


SEED = """
import json, sys
from accounts.models import User
from questions.services import bank_create
teacher = User.objects.create_user(username="mh_teacher", password=sys.argv[1], role="instructor")
User.objects.create_user(username="mh_examinee", password=sys.argv[1], role="examinee")
bank = bank_create(slug="mh-bank", name="Multi-host", owner=teacher)
print(json.dumps({"bank": str(bank.uuid)}))
"""


def wait_for(what: str, check, timeout: float, every: float = 0.2, lab: Lab | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = [n for n, p in (lab.procs.items() if lab else []) if p.poll() is not None]
        if dead:
            raise RuntimeError(f"{', '.join(dead)} exited while waiting for {what}")
        value = check()
        if value:
            return value
        time.sleep(every)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def haproxy_servers(sock: Path) -> dict[str, str]:
    """{"web/web1": "UP", ...} from HAProxy's stats socket (a file, reachable from here)."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(1)
            s.connect(str(sock))
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError:
        return {}
    rows = csv.reader(io.StringIO(data.decode().lstrip("# ")))
    header = next(rows, [])
    out = {}
    for row in rows:
        item = dict(zip(header, row, strict=False))
        if item.get("svname") not in ("FRONTEND", "BACKEND", None):
            out[f"{item['pxname']}/{item['svname']}"] = item.get("status", "")
    return out


def haproxy_config(sock: Path, workers: int) -> str:
    web1, web2 = f"{addr('web1')}:8000", f"{addr('web2')}:8000"
    lb = addr("lb")
    # maxconn = the node's sync workers: extra requests wait in HAProxy's queue, not in the
    # node's accept backlog, where they would hold up the health check until it timed out.
    check = f"check inter {CHECK_INTER_MS} fall {CHECK_FALL} rise 2 maxconn {workers}"
    return f"""
global
    maxconn 4000
    stats socket {sock} mode 600 level admin
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout check 2s
    timeout queue 30s
    retries 3
    # A request that could not be delivered (refused, reset before sending) goes to the other
    # node; one that was delivered is never replayed, so a POST is sent at most once.
    option redispatch 1
    option forwardfor
    # The request id every log line carries, from here to the web node and its tasks.
    unique-id-format %{{+X}}o%ci:%cp_%fi:%fp_%Ts_%rt:%pid
    unique-id-header X-Request-ID
    option httpchk
    http-check send meth GET uri /livez ver HTTP/1.1 hdr Host mockboard
    http-check expect status 200
frontend balanced
    bind {lb}:80
    default_backend web
frontend via_web1
    bind {lb}:8001
    default_backend web1
    http-response set-header X-Served-By %s
frontend via_web2
    bind {lb}:8002
    default_backend web2
    http-response set-header X-Served-By %s
backend web
    balance roundrobin
    http-response set-header X-Served-By %s
    server web1 {web1} {check}
    server web2 {web2} {check}
backend web1
    http-response set-header X-Served-By %s
    server web1 {web1} {check}
backend web2
    http-response set-header X-Served-By %s
    server web2 {web2} {check}
"""


def client(lab: Lab, env: dict, *args: str, timeout: float = 120) -> dict:
    cmd = ["ip", "netns", "exec", lab.ns("client"), PY, "bench/multihost_client.py", *args]
    result = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    try:
        return json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": result.stdout[-500:] + result.stderr[-1500:], "rc": result.returncode}


def picture_upload(path: Path) -> bytes:
    picture = (ROOT / "tests/questions/samples/ecg.png").read_bytes()
    question = {
        "external_id": "mh1",
        "stem": '<p>Read the ECG.</p><img src="media:ecg.png">',
        "options": ["A1", "B1", "C1"],
        "key": "B",
        "media": [
            {
                "name": "ecg.png",
                "content_type": "image/png",
                "data_base64": base64.b64encode(picture).decode(),
            }
        ],
    }
    path.write_text(json.dumps(question) + "\n")
    return picture


def scenarios(lab, db, base_env, workdir, bank, password, via_a, via_b, report) -> None:
    """Scenarios 1 and 2: an upload across hosts, a login throttle across nodes."""
    # 1. Upload through web1, import on the worker host, the image served through web2.
    upload_file = workdir / "picture.jsonl"
    picture = picture_upload(upload_file)
    cred = ["--user", "mh_teacher", "--password", password]
    uploaded = client(
        lab,
        base_env,
        "upload",
        "--url",
        via_a,
        *cred,
        "--bank",
        bank,
        "--file",
        str(upload_file),
    )
    job = None
    if "job" in uploaded:
        job = wait_for(
            "the import job on the worker host",
            lambda: (
                (r := db.rows("SELECT status FROM questions_importjob"))
                and r[0][0] in ("done", "failed")
                and r[0][0]
            ),
            timeout=60,
        )
    media = db.rows("SELECT uuid FROM questions_media")
    fetched = (
        client(
            lab,
            base_env,
            "fetch",
            "--url",
            via_b,
            *cred,
            "--path",
            f"/questions/media/{media[0][0]}/",
        )
        if media
        else {"error": "no media row"}
    )
    report["upload"] = {
        "client": {k: v for k, v in uploaded.items() if k != "served_by"},
        "uploaded_via": uploaded.get("served_by"),
        "job": job,
        "served_via": fetched.get("served_by"),
        "status": fetched.get("status"),
        "same_bytes": fetched.get("sha256") == hashlib.sha256(picture).hexdigest(),
    }
    report["upload"]["ok"] = bool(
        job == "done"
        and report["upload"]["same_bytes"]
        and uploaded.get("served_by") == "web1"
        and fetched.get("served_by") == "web2"
    )

    # 2. A login throttle tripped through web1 holds on web2.
    throttled = client(
        lab,
        base_env,
        "throttle",
        "--url-a",
        via_a,
        "--url-b",
        via_b,
        "--user",
        "mh_examinee",
        "--password",
        password,
        "--failures",
        "5",
    )
    report["throttle"] = throttled
    report["throttle"]["ok"] = bool(
        throttled.get("held")
        and {n for _, n in throttled.get("failures_on_a", [])} == {"web1"}
        and throttled.get("served_by") == "web2"
    )


def reseed(env: dict, examinees: int, users_tsv: Path) -> None:
    """The cohort's examinees with nothing started (their old attempts deleted), new sessions."""
    subprocess.run(
        [PY, "bench/seed_cohort.py", "cohort-users", str(examinees), str(users_tsv)],
        env=dict(env, DJANGO_SETTINGS_MODULE="bench.bench_settings"),
        cwd=ROOT,
        check=True,
        timeout=300,
        capture_output=True,
    )


TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pids: set[int] | None = None, pgids: set[int] | None = None) -> dict[int, float]:
    """{pid: user + system CPU seconds} of the given processes or process groups (/proc)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        pid, pgrp = int(entry.name), int(fields[2])
        if (pids and pid in pids) or (pgids and pgrp in pgids):
            out[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICK, sum(values[:8]) / TICK


def pg_backends(db: Database) -> set[int]:
    """The PostgreSQL backends serving the run's database (PgBouncer's server connections)."""
    rows = db.rows(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (db.name,),
    )
    return {pid for (pid,) in rows}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def endpoint_stats(requests: list) -> dict:
    """Per endpoint: requests answered, p50/p99 in ms, failed attempts (refused, 502-504)."""
    by_name: dict[str, list] = defaultdict(list)
    failed: Counter = Counter()
    for _, name, _, _, ok, *rest in requests:
        if ok and rest:
            by_name[name].append(rest[0] * 1000)
        elif not ok:
            failed[name] += 1
    order = ["exam_start", "block_start", "item", "visit", "save", "block_end"]
    return {
        name: {
            "n": len(by_name[name]),
            "p50_ms": round(percentile(by_name[name], 0.50) or 0, 1),
            "p99_ms": round(percentile(by_name[name], 0.99) or 0, 1),
            "failed": failed[name],
        }
        for name in sorted(
            set(by_name) | set(failed),
            key=lambda n: (n not in order, order.index(n) if n in order else 0, n),
        )
    }


def run_cohort(lab, db, sock, env, args, users_tsv, url, workdir, *, kill: bool) -> dict:
    """One cohort through `url`; with `kill`, web1 is SIGKILLed once --kill-at of the answers
    are acknowledged. Returns the cohort's report (answers, requests, latency, CPU)."""
    out = workdir / "cohort.json"
    out.unlink(missing_ok=True)
    expected = args.examinees * args.items * args.blocks
    kill_after = max(1, int(expected * args.kill_at))
    cohort_cmd = [
        "ip", "netns", "exec", lab.ns("client"), PY, "bench/multihost_client.py", "cohort",
        "--users", str(users_tsv), "--url", url, "--out", str(out),
        "--think", str(args.think), "--items", str(args.items), "--blocks", str(args.blocks),
        "--spike", str(args.spike), "--timeout", str(args.timeout),
    ]  # fmt: skip
    webs = {lab.procs[w].pid for w in ("web1", "web2") if w in lab.procs}
    backends = pg_backends(db)
    cpu_web0, cpu_pg0 = cpu_of(pgids=webs), cpu_of(pids=backends)
    busy0, total0 = machine_busy()
    load_before = os.getloadavg()
    t_cohort = time.time()
    proc = subprocess.Popen(
        cohort_cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True,
        stderr=open(workdir / "cohort.err", "a"),  # noqa: SIM115
        start_new_session=True,
    )  # fmt: skip
    lab.procs["cohort"] = proc  # killed with the lab if this run is interrupted
    killed_at = None
    deadlines_before: dict = {}
    snapshot_taken = False
    down_at: list[float] = []

    def watch_down() -> None:
        limit = time.monotonic() + 15
        while time.monotonic() < limit:
            if haproxy_servers(sock).get("web/web1", "UP") != "UP":
                down_at.append(time.time())
                return
            time.sleep(0.05)

    killer = threading.Timer(args.timeout + 30, proc.kill)
    killer.start()
    for line in proc.stdout:
        if not line.startswith("ACKS "):
            continue
        if int(line.split()[1]) >= kill_after and not snapshot_taken:
            snapshot_taken = True
            deadlines_before = dict(
                db.rows(
                    "SELECT id, deadline_at FROM exams_attemptblock WHERE deadline_at IS NOT NULL"
                )
            )
            if kill:
                lab.kill("web1")
                killed_at = time.time()
                threading.Thread(target=watch_down, daemon=True).start()
    proc.wait()
    killer.cancel()
    lab.procs.pop("cohort", None)
    t_done = time.time()
    load_after = os.getloadavg()
    busy1, total1 = machine_busy()
    # PgBouncer may have opened backends during the run: count those from zero.
    cpu_web = cpu_spent(cpu_web0, cpu_of(pgids=webs))
    cpu_pg = cpu_spent(cpu_pg0, cpu_of(pids=backends | pg_backends(db)))
    result = json.loads(out.read_text())
    deadlines_after = dict(db.rows("SELECT id, deadline_at FROM exams_attemptblock"))
    moved = [i for i, d in deadlines_before.items() if deadlines_after.get(i) != d]

    last: dict = {}
    for a, b, p, s, c in result["acks"]:
        if (a, b, p) not in last or s > last[(a, b, p)][0]:
            last[(a, b, p)] = (s, c)
    stored = {
        (str(u), b, p): (c, (fs or {}).get("choice", 0))
        for u, b, p, c, fs in db.rows(
            "SELECT a.uuid, b.number, r.position, r.choice, r.field_seqs"
            " FROM exams_response r JOIN exams_attempt a ON a.id = r.attempt_id"
            " JOIN exams_attemptblock b ON b.id = r.block_id"
        )
    }
    lost = [
        k
        for k, (seq, choice) in last.items()
        if k not in stored or stored[k][1] < seq or (stored[k][1] == seq and stored[k][0] != choice)
    ]
    requests = result["requests"]
    split = Counter(r[3] for r in requests if r[4] and r[3])
    split_after = Counter(
        r[3] for r in requests if r[4] and r[3] and killed_at and r[0] > killed_at + 0.5
    )
    failed = [(r[0], r[1], r[2]) for r in requests if not r[4]]
    failed_after = [f for f in failed if killed_at and f[0] >= killed_at - 1]
    last_failure = max((t for t, _, _ in failed_after), default=None)
    gap = round(last_failure - killed_at, 2) if (last_failure and killed_at) else 0.0
    by_status: dict[str, int] = defaultdict(int)
    for _, name, status in failed:
        by_status[f"{name} {status}"] += 1
    answered = [r for r in requests if r[4]]
    first = min((r[0] for r in requests), default=t_cohort)
    end = max((r[0] + (r[5] if len(r) > 5 else 0) for r in requests), default=t_done)
    active = max(0.001, end - first)
    cores = os.cpu_count() or 1
    report = {
        "examinees": args.examinees,
        "answers_expected": expected,
        "answers_acknowledged": len(result["acks"]),
        "distinct_answers_acknowledged": len(last),
        "answers_lost": len(lost),
        "killed_web1_after_acks": kill_after if killed_at else None,
        "killed_at_s": round(killed_at - t_cohort, 2) if killed_at else None,
        "haproxy_marked_down_after_s": round(down_at[0] - killed_at, 2)
        if down_at and killed_at
        else None,
        "failover_gap_s": gap,
        "failed_requests_retried": len(failed),
        "failed_by_kind": dict(by_status),
        "unfinished_examinees": result.get("unfinished"),
        "client_failures": result["failures"][:10],
        "client_failure_count": len(result["failures"]),
        "requests": len(requests),
        "requests_per_node": dict(split),
        "requests_per_node_after_kill": dict(split_after),
        "deadlines_checked": len(deadlines_before),
        "deadlines_moved": len(moved),
        "wall_s": round(t_done - t_cohort, 1),
        "active_s": round(active, 1),
        "requests_per_s": round(len(answered) / active, 1),
        "saves_per_s": round(sum(1 for r in answered if r[1] == "save") / active, 1),
        "endpoints": endpoint_stats(requests),
        # CPU seconds over the run: the web nodes' gunicorn (masters and workers), the
        # PostgreSQL backends of this database, and the whole machine (every engineer's work).
        "web_cpu_s": round(cpu_web, 2),
        "web_cpu_ms_per_request": round(1000 * cpu_web / max(1, len(answered)), 2),
        "pg_cpu_s": round(cpu_pg, 2),
        "pg_cpu_ms_per_request": round(1000 * cpu_pg / max(1, len(answered)), 2),
        "machine_busy_pct": round(100 * (busy1 - busy0) / max(0.001, total1 - total0), 1),
        "machine_cores": cores,
        "load_before": [round(v, 2) for v in load_before],
        "load_after": [round(v, 2) for v in load_after],
    }
    if kill:
        check_window = CHECK_INTER_MS * CHECK_FALL / 1000 + 1
        report["ok"] = bool(
            killed_at
            and not lost
            and not moved
            and len(last) == expected
            and gap <= check_window
            and split_after.get("web1", 0) == 0
            and split.get("web1", 0) > 0
        )
    else:
        report["ok"] = bool(not lost and not moved and len(last) == expected)
    return report


def run(args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="mb-multihost-"))
    workdir.chmod(0o711)  # PgBouncer, not root, must reach its own files below
    lab = Lab(workdir)
    db = Database(os.environ["DATABASE_URL"], f"mb_multihost_{lab.tag}")
    report: dict = {"ok": False, "workdir": str(workdir)}
    timings: dict[str, float] = {}
    t_start = time.monotonic()
    try:
        copied = db.create(args.template)
        password = secrets.token_urlsafe(12)
        base_env = {
            k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "CELERY_QUEUE")
        }
        base_env.update(
            SECRET_KEY=secrets.token_urlsafe(40),
            HTTPS="0",
            DEBUG="0",
            STATIC_NO_MANIFEST="1",
            ALLOWED_HOSTS="*",
            TRUSTED_PROXY_COUNT="1",
            SWEEP_INTERVAL_SECONDS="5",
            PYTHONUNBUFFERED="1",
        )
        local = dict(base_env, DATABASE_URL=db.url)
        subprocess.run(
            [PY, "manage.py", "migrate", "--no-input", "-v", "0"],
            env=local,
            cwd=ROOT,
            check=True,
            timeout=300,
        )  # a no-op on a copy of a migrated template
        timings["from_template"] = copied
        timings["migrate_s"] = round(time.monotonic() - t_start, 1)
        users_tsv = workdir / "users.tsv"
        reseed(local, args.examinees, users_tsv)
        seeded = subprocess.run(
            [PY, "-c", "import django; django.setup()\n" + SEED, password],
            env=dict(local, DJANGO_SETTINGS_MODULE="config.settings"),
            cwd=ROOT,
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        )
        bank = json.loads(seeded.stdout.strip().splitlines()[-1])["bank"]
        timings["seed_s"] = round(time.monotonic() - t_start, 1)

        lab.network()
        # PgBouncer will not run as root: it runs as the cluster's owner, who may use its socket.
        owner = pwd.getpwuid(Path(db.socket_dir).stat().st_uid).pw_name
        bouncer = workdir / "pgbouncer"
        bouncer.mkdir()
        (bouncer / "users.txt").write_text(f'"{db.user}" ""\n')
        (bouncer / "pgbouncer.ini").write_text(
            f"""[databases]
mb = host={db.socket_dir} port={db.port} dbname={db.name} user={db.user}
[pgbouncer]
listen_addr = {addr("db")}
listen_port = 6432
unix_socket_dir =
auth_type = trust
auth_file = {bouncer / "users.txt"}
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options
logfile = {bouncer / "pgbouncer.log"}
pidfile = {bouncer / "pgbouncer.pid"}
"""
        )
        shutil.chown(bouncer, user=owner)
        for item in bouncer.iterdir():
            shutil.chown(item, user=owner)
        pgbouncer = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        lab.start(
            "pgbouncer", "db", [pgbouncer, "-u", owner, str(bouncer / "pgbouncer.ini")], base_env
        )
        from config.embedded import redis_server_binary

        lab.start(
            "redis",
            "db",
            [str(redis_server_binary()), "--bind", addr("db"), "--port", "6379", "--save", ""]
            + ["--appendonly", "no", "--protected-mode", "no"],
            base_env,
        )
        remote = dict(
            base_env,
            DATABASE_URL=f"postgres://{db.user}@{addr('db')}:6432/mb",
            DATABASE_PREPARE_THRESHOLD="none",
            CELERY_BROKER_URL=f"redis://{addr('db')}:6379/0",
        )
        for web in ("web1", "web2"):
            lab.start(
                web,
                web,
                [PY, "-m", "gunicorn", "config.wsgi:application", "--bind", f"{addr(web)}:8000"]
                + ["--workers", str(args.web_workers), "--log-level", "warning"],
                remote,
            )
        lab.start(
            "worker",
            "work",
            [PY, "-m", "celery", "-A", "config", "worker", "--concurrency=1"]
            + ["--without-gossip", "--without-mingle", "--loglevel=INFO", "-n", "work@mh"],
            remote,
        )
        lab.start(
            "beat",
            "work",
            [PY, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO"]
            + [f"--schedule={workdir / 'beat-schedule'}", f"--pidfile={workdir / 'beat.pid'}"],
            remote,
        )
        sock = workdir / "haproxy.sock"
        (workdir / "haproxy.cfg").write_text(haproxy_config(sock, args.web_workers))
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        lab.start("haproxy", "lb", [haproxy, "-db", "-f", str(workdir / "haproxy.cfg")], base_env)
        # Each backend checks its servers on its own: the one-node frontends (8001, 8002) are
        # usable only once their own backend has seen its node rise too.
        wait_for(
            "both web nodes UP in every HAProxy backend",
            lambda: (
                (s := haproxy_servers(sock))
                and all(
                    s.get(name) == "UP"
                    for name in ("web/web1", "web/web2", "web1/web1", "web2/web2")
                )
            ),
            timeout=90,
            lab=lab,
        )
        timings["stack_up_s"] = round(time.monotonic() - t_start, 1)

        lb = addr("lb")
        via_a, via_b = f"http://{lb}:8001", f"http://{lb}:8002"
        if not args.no_kill:
            scenarios(lab, db, base_env, workdir, bank, password, via_a, via_b, report)

        # 3. The cohort through the balancer; web1 dies once --kill-at of the answers are in.
        # With --no-kill (or --compare) it is a measurement: the same cohort through one node
        # (HAProxy's web1-only frontend) and/or through both, nothing killed.
        kill = not args.no_kill
        plan = [1, 2] if args.compare else [args.web_hosts]
        runs = []
        for index, hosts in enumerate(plan):
            if index:  # the same examinees again, from nothing started, with fresh sessions
                reseed(local, args.examinees, users_tsv)
            url = f"http://{lb}:80" if hosts == 2 else via_a
            cohort = run_cohort(lab, db, sock, base_env, args, users_tsv, url, workdir, kill=kill)
            cohort["web_hosts"] = hosts
            runs.append(cohort)
        if kill:
            report["cohort"] = runs[0]
            report["ok"] = all(report[k]["ok"] for k in ("upload", "throttle", "cohort"))
        else:
            report["runs"] = runs
            report["ok"] = all(r["ok"] for r in runs)
    except Exception as exc:  # the report says what broke; the logs stay in workdir
        report["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        lab.close()
        try:
            db.drop()
        except Exception as exc:
            report["drop_error"] = str(exc)
    timings["total_s"] = round(time.monotonic() - t_start, 1)
    report["timings"] = timings
    return report


def run_line(r: dict) -> str:
    """One measured run, as a line: per endpoint p50/p99, throughput, errors, answers, CPU."""
    endpoints = "; ".join(
        f"{name} {e['p50_ms']}/{e['p99_ms']} ms"
        + (f" ({e['failed']} failed)" if e["failed"] else "")
        for name, e in r["endpoints"].items()
    )
    return (
        f"multihost: {r['web_hosts']} web host(s), {r['examinees']} examinees: p50/p99 {endpoints}; "
        f"{r['requests_per_s']} requests/s ({r['saves_per_s']} saves/s) over {r['active_s']} s; "
        f"failed requests {r['failed_requests_retried']}, client failures "
        f"{r['client_failure_count']}; answers acknowledged {r['distinct_answers_acknowledged']} "
        f"of {r['answers_expected']}, lost {r['answers_lost']}; requests per node "
        f"{r['requests_per_node']}; web CPU {r['web_cpu_ms_per_request']} ms/request, "
        f"PostgreSQL {r['pg_cpu_ms_per_request']} ms/request; machine busy "
        f"{r['machine_busy_pct']} % of {r['machine_cores']} cores; load {r['load_before']} -> "
        f"{r['load_after']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--examinees", type=int, default=50)
    parser.add_argument("--items", type=int, default=5)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--think", type=float, default=0.6)
    parser.add_argument("--spike", type=float, default=3.0)
    parser.add_argument("--kill-at", type=float, default=0.4)
    parser.add_argument(
        "--web-hosts",
        type=int,
        choices=(1, 2),
        default=2,
        help="the cohort through HAProxy to web1 only (1) or to both nodes (2); 1 needs --no-kill",
    )
    parser.add_argument(
        "--no-kill",
        action="store_true",
        help="a measurement: no node killed, and the upload and throttle scenarios skipped",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="--no-kill, the cohort through one node then through two, in one session",
    )
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=90)
    parser.add_argument("--json")
    parser.add_argument("--template", help="a migrated database to copy instead of migrating")
    args = parser.parse_args(argv)
    if args.compare:
        args.no_kill = True
    if args.web_hosts == 1 and not args.no_kill:
        parser.error("--web-hosts 1 needs --no-kill (killing the only node is not a failover)")
    reason = preflight()
    if reason:
        print(f"multihost: skipped: {reason}")
        return SKIP
    report = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    c = report.get("cohort", {})
    print(json.dumps(report, indent=1))
    if c:
        print(
            f"multihost: answers acknowledged {c['distinct_answers_acknowledged']}, lost "
            f"{c['answers_lost']}; failover gap {c['failover_gap_s']} s (HAProxy marked web1 down "
            f"after {c['haproxy_marked_down_after_s']} s); requests per node "
            f"{c['requests_per_node']}; deadlines moved {c['deadlines_moved']}"
        )
    for r in report.get("runs", []):
        print(run_line(r))
    if report["ok"]:
        shutil.rmtree(report["workdir"], ignore_errors=True)
    else:
        print(f"multihost: FAILED; logs in {report['workdir']}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

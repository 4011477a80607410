"""The production stack the benchmarks run against, and the machine it runs on.

One fresh PostgreSQL database (migrated to head, dropped at the end), one empty Redis logical
database of its own (broker queues; events on a channel of its own, since Redis pub/sub is
server-wide), the API under ``granian --interface asgi --workers N bench.ingest_app:app``,
Dramatiq worker processes started the way production starts them (``oncall worker``) and the
periodic scheduler (``oncall scheduler``). Production settings: JSON logs at WARNING, the
escalation and notification sweepers at their default periods and graces.

Used by ``bench/run_all.py`` (``make bench``) and by each benchmark script run on its own.
"""

from __future__ import annotations

import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx2
import psycopg
import redis
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("ONCALL_BENCH_PG_ADMIN", "host=127.0.0.1 user=postgres dbname=test")
PG_URL_BASE = os.environ.get("ONCALL_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS_HOST = os.environ.get("ONCALL_BENCH_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("ONCALL_BENCH_REDIS_PORT", "6379"))
# Db 12 first, as agreed; never 0 (Reflex state), 1 (the default broker db) or 15 (tests).
REDIS_DBS = (12, 13, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 14)
CLAIM_KEY = "oncall_bench:claimed"
BIN = Path(sys.executable).parent
CORES = os.cpu_count() or 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def libpq(url: str) -> str:
    """The psycopg (libpq) form of a SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def claim_redis_db() -> int:
    """An empty logical Redis database, claimed with a marker key (the integration tests'
    convention: they only take an empty one), flushed first."""
    for db in REDIS_DBS:
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db, socket_timeout=5)
        try:
            if client.dbsize() == 0 and client.set(CLAIM_KEY, "1", nx=True, ex=6 * 3600):
                client.flushdb()
                client.set(CLAIM_KEY, "1", ex=6 * 3600)
                return db
        finally:
            client.close()
    raise RuntimeError(f"no empty Redis logical database among {REDIS_DBS}")


def release_redis_db(db: int) -> None:
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


@dataclass
class Stack:
    """Everything the benchmarks need running; use as a context manager."""

    api_workers: int = 2
    worker_processes: int = 2
    worker_threads: int = 8
    pool_size: int = 20
    with_workers: bool = True
    db_name: str = ""
    db_url: str = ""
    redis_db: int = -1
    port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    # Extra ONCALL_* settings for every process of the stack (A/B runs of a setting).
    settings: dict[str, str] = field(default_factory=dict)
    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="oncall_bench_")))
    _processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Stack:
        # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so the database is dropped and
        # the processes in their own sessions are stopped rather than left running.
        signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.db_name = f"oncall_bench_{secrets.token_hex(4)}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        self.db_url = f"{PG_URL_BASE}/{self.db_name}"
        self.redis_db = claim_redis_db()
        self.port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ONCALL_")},
            "ONCALL_DATABASE__URL": self.db_url,
            "ONCALL_DATABASE__POOL_SIZE": str(self.pool_size),
            "ONCALL_REDIS__URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.redis_db}",
            "ONCALL_REDIS__BROKER_DB": str(self.redis_db),
            # Pub/sub channels are server-wide: keep our events away from anyone's running app.
            "ONCALL_REDIS__EVENTS_CHANNEL": f"oncall_bench:{self.db_name}:events",
            "ONCALL_SECRET_KEY": Fernet.generate_key().decode(),
            "ONCALL_OBSERVABILITY__LOG_JSON": "true",
            "ONCALL_OBSERVABILITY__LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            **self.settings,
        }
        self._run([str(BIN / "oncall"), "db", "upgrade", "--revision", "heads"])
        command = [str(BIN / "granian"), "--interface", "asgi", "--workers", str(self.api_workers)]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--no-log"]
        self._spawn("api", [*command, "bench.ingest_app:app"])
        if self.with_workers:
            counts = ["--processes", str(self.worker_processes)]
            counts += ["--threads", str(self.worker_threads)]
            self._spawn("worker", [str(BIN / "oncall"), "worker", *counts])
            self._spawn("scheduler", [str(BIN / "oncall"), "scheduler"])
        self._wait_ready()

    def stop(self) -> None:
        for _, process in reversed(self._processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in self._processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                print(f"  {name} did not stop on SIGTERM; killing it")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self._processes.clear()
        if self.redis_db >= 0:
            release_redis_db(self.redis_db)
            self.redis_db = -1
        if self.db_name:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            self.db_name = ""

    def check_alive(self) -> None:
        """Fail loudly if a stack process died (a benchmark against half a stack is wrong)."""
        for name, process in self._processes:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited ({process.returncode}):\n{self.logs(name)}")

    def profile(self, name: str, seconds: float, out: Path) -> subprocess.Popen[bytes]:
        """Start py-spy on stack process ``name`` and its children for ``seconds``; writes
        collapsed stacks (``--format raw``, one "frame;frame;... count" line each) to ``out``.
        Sampling is non-blocking, so the profiled processes keep their pace. Only the thread
        holding the GIL is sampled (``--gil``): what costs CPU, not threads waiting for it or
        for a socket (with 8 threads on one GIL those crowd out everything else)."""
        pid = next(p.pid for n, p in self._processes if n == name)
        command = [str(BIN / "py-spy"), "record", "--pid", str(pid), "--subprocesses"]
        command += ["--duration", str(max(1, round(seconds))), "--rate", "100"]
        command += ["--nonblocking", "--gil"]
        command += ["--format", "raw", "--output", str(out)]
        return subprocess.Popen(  # noqa: S603  # our own tool
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def cpu_seconds(self, name: str) -> float:
        """User + system CPU seconds used so far by stack process ``name`` and its live
        descendants (granian's and Dramatiq's worker processes), from /proc."""
        root = next(p.pid for n, p in self._processes if n == name)
        return process_tree_cpu(root)

    def logs(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    # --- in this process -------------------------------------------------------------------

    def use_here(self) -> None:
        """Point this process's backend (settings, engine, broker) at the stack, so setup and
        seeding go through the product's own services."""
        for key, value in self.env.items():
            if key.startswith("ONCALL_"):
                os.environ[key] = value
        sys.path.insert(0, str(ROOT))
        from backend.core import db
        from backend.core.settings import get_settings
        from backend.ingest import cache
        from jobs.broker import setup_broker

        get_settings.cache_clear()
        db.set_engine(db.build_engine(self.db_url))
        cache.clear_all()
        setup_broker()

    # --- helpers -----------------------------------------------------------------------------

    def _run(self, command: list[str]) -> None:
        subprocess.run(command, env=self.env, cwd=ROOT, check=True, capture_output=True)  # noqa: S603  # our own tools

    def _spawn(self, name: str, command: list[str]) -> None:
        log = (self.log_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603  # our own tools
            command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        self._processes.append((name, process))

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx2.get(f"{self.base}/api/health/live", timeout=1).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError(f"the API did not start:\n{self.logs('api')}")
        if self.with_workers:
            # Workers are ready once their consumers have fetched (they heartbeat on each fetch).
            client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=self.redis_db)
            try:
                while time.monotonic() < deadline:
                    self.check_alive()
                    if client.exists("dramatiq:__heartbeats__"):
                        return
                    time.sleep(0.2)
            finally:
                client.close()
            raise RuntimeError(f"the workers did not start:\n{self.logs('worker')}")


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def process_tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of ``root`` and every live descendant (Linux /proc)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name may hold spaces: split after its closing parenthesis.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited meanwhile
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / ticks
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(times.get(pid, 0.0) for pid in tree)


# --- the machine -----------------------------------------------------------------------------


def machine() -> dict[str, object]:
    """CPU model, cores, RAM and the versions that matter, for the results file and the docs."""
    cpu = platform.processor() or "unknown"
    try:
        info = Path("/proc/cpuinfo").read_text()
        match = re.search(r"model name\s*:\s*(.+)", info)
        cpu = match[1].strip() if match else cpu
    except OSError:
        pass
    ram_gb = 0.0
    try:
        match = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        ram_gb = round(int(match[1]) / 1024 / 1024, 1) if match else 0.0
    except OSError:
        pass
    with psycopg.connect(PG_ADMIN) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        pg_version = str(row[0]) if row else "?"
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=5)
    try:
        server: Any = client.info("server")  # a dict from the synchronous client
        redis_version = str(server.get("redis_version", "?"))
    finally:
        client.close()
    load = os.getloadavg()
    return {
        "cpu": cpu,
        "cores": CORES,
        "ram_gb": ram_gb,
        "os": _os_name(),
        "python": platform.python_version(),
        "postgresql": pg_version.split(" ")[0],
        "redis": redis_version,
        "wrk": shutil.which("wrk") is not None,
        "load_average_at_start": [round(x, 2) for x in load],
    }


def _os_name() -> str:
    try:
        match = re.search(r'PRETTY_NAME="([^"]+)"', Path("/etc/os-release").read_text())
        return match[1] if match else platform.platform()
    except OSError:
        return platform.platform()

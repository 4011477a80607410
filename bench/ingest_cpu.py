"""Server CPU per accepted alert, in process: the ingest route driven straight through ASGI.

Throughput on the shared 2-core box swings ±30 % with the neighbours' load; CPU time per
request does not (much). This calls the real API app (``create_api()``, production settings:
PostgreSQL, Redis event bus) with hand-built ASGI requests, one at a time, no HTTP client and
no socket, and reports ``time.process_time()`` per accepted alert (every thread of this
process: the event loop and the ingest thread) and the median over ``--runs`` rounds. The
PostgreSQL backend's CPU is not included (it is another process).

    .venv/bin/python bench/ingest_cpu.py --count 500 --runs 5
    .venv/bin/python bench/ingest_cpu.py --profile unique    # cProfile top functions (CPU time)

Noise-free instruction counts: run it under ``valgrind --tool=callgrind`` with ``--only
unique --runs 1`` at two ``--count`` values; the difference of the totals divided by the
difference of the counts is the instructions per alert (startup and warm-up cancel out).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import hmac
import json
import os
import pstats
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "host=127.0.0.1 user=postgres dbname=test"
PG = os.environ.get("ONCALL_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS = os.environ.get("ONCALL_BENCH_REDIS", "redis://127.0.0.1:6379/14")


def prepare(env: dict[str, str]) -> tuple[str, str]:
    script = """
import json
from alembic import command
from backend.cli import alembic_config
from tests.factories.ingest import make_integration
command.upgrade(alembic_config(), "heads")
created = make_integration()
print(json.dumps({"key": created.integration.key, "secret": created.secret}))
"""
    out = subprocess.run(  # noqa: S603  # our own interpreter and code
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data["key"], data["secret"]


def request(
    key: str, secret: str, scenario: str, run_id: str, i: int
) -> tuple[dict[str, Any], bytes]:
    if scenario == "unique":
        payload = {"title": f"unique alert {run_id}-{i}", "dedup_key": f"{run_id}-{i}"}
        payload["severity"] = "high"
        extra: list[tuple[bytes, bytes]] = []
    else:
        payload = {"title": "checkout down", "dedup_key": f"storm-{run_id}", "severity": "critical"}
        extra = [(b"idempotency-key", f"{run_id}-{i}".encode())]
    body = json.dumps(payload).encode()
    ts = str(int(time.time()))
    sig = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-oncall-timestamp", ts.encode()),
        (b"x-oncall-signature", f"v1={sig}".encode()),
        *extra,
    ]
    path = f"/api/v1/integrations/{key}/alerts"
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": headers, "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    return scope, body


async def call(app: Any, scope: dict[str, Any], body: bytes) -> int:
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def round_(app: Any, key: str, secret: str, scenario: str, count: int) -> tuple[float, float]:
    run_id = secrets.token_hex(4)
    requests = [request(key, secret, scenario, run_id, i) for i in range(count)]
    cpu, wall = time.process_time(), time.perf_counter()
    accepted = 0
    for scope, body in requests:
        accepted += await call(app, scope, body) == 202
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if accepted != count:
        raise RuntimeError(f"{count - accepted} of {count} not accepted")
    return cpu / count * 1000, wall / count * 1000


def profile(app: Any, key: str, secret: str, scenario: str, count: int) -> None:
    """cProfile of the event loop's side and, separately, of the ingest worker thread's."""
    from backend.ingest import service  # after the env is set

    # CPU time, not wall time: waits on the database and Redis do not count.
    loop_side = cProfile.Profile(time.process_time)
    thread_side = cProfile.Profile(time.process_time)
    inner = service.ingest

    def profiled(*args: Any) -> Any:
        thread_side.enable()
        try:
            return inner(*args)
        finally:
            thread_side.disable()

    service.ingest = profiled  # type: ignore[assignment]  # bench-only wrapper
    loop_side.enable()
    asyncio.run(round_(app, key, secret, scenario, count))
    loop_side.disable()
    service.ingest = inner  # type: ignore[assignment]
    for title, prof in (("event loop", loop_side), ("ingest thread", thread_side)):
        print(f"===== {title}")
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(70)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=500, help="alerts per round")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", choices=("unique", "identical"))
    parser.add_argument(
        "--only", choices=("unique", "identical"), help="one scenario (e.g. under callgrind)"
    )
    args = parser.parse_args()
    name = f"oncall_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        "ONCALL_DATABASE__URL": f"{PG}/{name}",
        "ONCALL_REDIS__URL": REDIS,
        "ONCALL_SECRET_KEY": Fernet.generate_key().decode(),
    }
    os.environ.update(env)
    try:
        key, secret = prepare({**os.environ, "PYTHONPATH": str(ROOT)})
        sys.path.insert(0, str(ROOT))
        from backend.api.app import create_api  # after the env is set
        from backend.core.logging import configure_logging

        configure_logging(json_output=True, level="WARNING")
        app = create_api()
        asyncio.run(round_(app, key, secret, "unique", 50))  # warm-up: caches, pool, imports
        if args.profile:
            profile(app, key, secret, args.profile, args.count)
            return
        print(f"server CPU per accepted alert, in process, {args.count} alerts x {args.runs}")
        for scenario in (args.only,) if args.only else ("unique", "identical"):
            rounds = [
                asyncio.run(round_(app, key, secret, scenario, args.count))
                for _ in range(args.runs)
            ]
            cpu = statistics.median(r[0] for r in rounds)
            wall = statistics.median(r[1] for r in rounds)
            spread = ", ".join(f"{r[0]:.2f}" for r in rounds)
            print(f"  {scenario:<10} cpu {cpu:.2f} ms/alert  wall {wall:.2f} ms  ({spread})")
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

"""Ingest benchmark: signed generic alerts over loopback to the API on PostgreSQL.

Server: ``granian --interface asgi --workers N bench.ingest_app:app`` (the FastAPI app from
``backend.api.app.create_api()``, production settings: PostgreSQL, Redis event bus, WARNING
logs) on a fresh PostgreSQL database migrated to head. Client: wrk (one thread; bodies
pre-signed here, sent once each by ``bench/ingest_wrk.lua``; ~0.5 % of the box's CPU), or the
in-process httpx2 client with ``--client httpx`` (about a core at 2,000 req/s: it caps what it
can measure). Scenarios: ``unique`` (a new dedup key per alert: a new incident each) and
``identical`` (one dedup key, distinct Idempotency-Keys: all join one incident, the contended
row). Only 202s count, and after each run the database must hold every alert answered 202
(committed). Prints accepted alerts/s, p50/p99 latency and the client's CPU share, the median
of ``--runs`` runs per cell, next to two ceilings measured in the same run at the top
concurrency: a trivial endpoint on the same server (GET /api/health/live, by wrk) and pgbench
with one single-row INSERT per transaction on the same PostgreSQL.

    .venv/bin/python bench/bench_ingest.py --workers 2 --runs 3 [--json]

The server, database and Redis come from ``bench/stack.py`` (shared with ``bench/run_all.py``,
which calls :func:`run` on its own stack with worker processes running). With ``--json`` the
last stdout line is one JSON object: ``name``, ``figures`` {metric: value}, ``targets``
{metric: target} (the convention of every script in ``bench/``).

Latest figures and their history: docs/benchmarks.md, "Alert ingest (issue 3)". On the 2-core
dev machine (2026-12-03, late evening, a slow night: trivial endpoint 5,000-7,600 req/s),
three interleaved single runs at concurrency 64 gave medians of 864 unique / 970 identical
committed alerts/s (610 / 685 at the day's start; the target, 1,000, was reached in one of
the three). The server's own Python (HTTP through ASGI, HMAC, JSON, the thread hop) is the
limit now; PostgreSQL commits the alerts in groups (ADR 0014).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import math
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.stack import CORES, Stack, libpq  # noqa: E402  # after the path fix above

REQUESTS = {1: 300, 16: 3000, 64: 4000}
WRK_LUA = ROOT / "bench" / "ingest_wrk.lua"
TARGET_RATE = 1000.0  # committed alerts/s at concurrency 64 (issue 3)
TARGET_PGBENCH_SHARE = 0.5  # of the pgbench ceiling at the same concurrency (issue 7)


def setup_integration() -> tuple[str, str]:
    """A team, a service (no escalation policy: ingest only) and a generic integration, made
    through the product's services in this process (``Stack.use_here`` first)."""
    from tests.factories.ingest import make_integration

    created = make_integration()
    return created.integration.key, created.secret


def signed(secret: str, body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-OnCall-Timestamp": ts,
        "X-OnCall-Signature": f"v1={sig}",
    }


async def run_cell(
    url: str, secret: str, scenario: str, concurrency: int, total: int
) -> tuple[float, float, float, int]:
    latencies: list[float] = []
    accepted = 0
    run_id = secrets.token_hex(4)
    counter = iter(range(total))
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal accepted
            for i in counter:
                if scenario == "unique":
                    payload = {
                        "title": f"unique alert {run_id}-{i}",
                        "dedup_key": f"{run_id}-{i}",
                        "severity": "high",
                    }
                    headers = {}
                else:
                    payload = {
                        "title": "checkout down",
                        "dedup_key": f"storm-{run_id}",
                        "severity": "critical",
                    }
                    headers = {"Idempotency-Key": f"{run_id}-{i}"}
                body = json.dumps(payload).encode()
                started = time.perf_counter()
                response = await client.post(
                    url, content=body, headers={**signed(secret, body), **headers}
                )
                latencies.append(time.perf_counter() - started)
                accepted += response.status_code == 202

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return accepted / elapsed, p50, p99, accepted


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def presign(secret: str, scenario: str, run_id: str, count: int, path: Path) -> None:
    """Write ``count`` signed alerts for wrk (signing in Lua is not practical)."""
    ts = str(int(time.time()))
    key = secret.encode()
    with path.open("w") as out:
        for i in range(count):
            if scenario == "unique":
                payload = {"title": f"unique alert {run_id}-{i}", "dedup_key": f"{run_id}-{i}"}
                payload["severity"] = "high"
                idem = ""
            else:
                payload = {"title": "checkout down", "dedup_key": f"storm-{run_id}"}
                payload["severity"] = "critical"
                idem = f"{run_id}-{i}"
            body = json.dumps(payload)
            sig = hmac.new(key, ts.encode() + b"." + body.encode(), hashlib.sha256).hexdigest()
            out.write(f"{ts}\t{sig}\t{idem}\t{body}\n")


def run_wrk_cell(
    base: str, path: str, secret: str, scenario: str, concurrency: int, seconds: int, db_url: str
) -> tuple[float, float, float, int, float]:
    """One wrk run; returns alerts/s, p50, p99 (ms), accepted, client CPU share of the box.

    Checks afterwards that every accepted alert is in the database (committed)."""
    run_id = secrets.token_hex(4)
    lines = Path(f"/tmp/oncall_bench_{run_id}.tsv")  # noqa: S108  # a throwaway bench file
    presign(secret, scenario, run_id, max(2000, concurrency * 50) * seconds, lines)
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency"]
    command += ["-s", str(WRK_LUA), base, "--", path, str(lines), "1"]
    cpu_before, started = _children_cpu(), time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    elapsed = time.perf_counter() - started
    client_share = (_children_cpu() - cpu_before) / (elapsed * CORES)
    lines.unlink()
    match = re.search(
        r"accepted=(\d+) other=(\d+) seconds=([\d.]+) p50=([\d.]+) p99=([\d.]+) exhausted=(\d)",
        out,
    )
    if match is None:
        raise RuntimeError(out)
    accepted, other = int(match[1]), int(match[2])
    if int(match[6]):
        print(f"  warning: {scenario} c={concurrency} used up its pre-signed alerts")
    if other:
        print(f"  warning: {other} responses were neither 202 nor 200")
    pattern = f"{run_id}-%" if scenario == "unique" else f"storm-{run_id}"
    with psycopg.connect(libpq(db_url)) as conn:
        row = conn.execute("SELECT count(*) FROM alert WHERE dedup_key LIKE %s", (pattern,))
        stored = int(row.fetchone()[0])  # type: ignore[index]
    if stored < accepted:
        raise RuntimeError(f"{accepted} alerts answered 202 but only {stored} are in the database")
    rate = accepted / float(match[3])
    return rate, float(match[4]), float(match[5]), accepted, client_share


def ceiling_trivial(base: str, concurrency: int, seconds: int = 5) -> float:
    """Requests/s of GET /api/health/live (no database) on the same server, by wrk."""
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", f"{base}/api/health/live"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(match[1]) if match else 0.0


def ceiling_pgbench_once(db_name: str, concurrency: int, seconds: int = 5) -> float:
    """Transactions/s of one single-row INSERT per transaction (fsync per commit, like ours)."""
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={db_name}", autocommit=True) as c:
        c.execute("CREATE TABLE IF NOT EXISTS bench_ceiling (id bigserial PRIMARY KEY, body text)")
    script = Path(f"/tmp/oncall_bench_{db_name}.sql")  # noqa: S108  # a throwaway bench file
    script.write_text("INSERT INTO bench_ceiling (body) VALUES ('x');\n")
    command = ["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-f", str(script)]
    threads = min(2, concurrency)
    command += ["-c", str(concurrency), "-j", str(threads), "-T", str(seconds), db_name]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    script.unlink()
    match = re.search(r"tps = ([\d.]+)", done.stdout)
    if done.returncode != 0 or match is None:
        # Typically "too many clients" on a PostgreSQL shared with other work: the ceiling is
        # unknown (n/a), which must not throw away the ingest figures themselves.
        print(f"  warning: pgbench -c {concurrency} failed: {done.stderr.strip()[-300:]}")
        return float("nan")
    return float(match[1])


def ceilings(
    stack: Stack, levels: list[int], runs: int, seconds: int
) -> dict[int, dict[str, float]]:
    """Both ceilings at each concurrency, median of ``runs``: {conc: {trivial, pgbench}}."""
    out: dict[int, dict[str, float]] = {}
    for concurrency in levels:
        trivial = statistics.median(
            ceiling_trivial(stack.base, concurrency, seconds) for _ in range(runs)
        )
        measured = [ceiling_pgbench_once(stack.db_name, concurrency, seconds) for _ in range(runs)]
        measured = [tps for tps in measured if not math.isnan(tps)]
        pg = statistics.median(measured) if measured else float("nan")
        out[concurrency] = {"trivial_rps": trivial, "pgbench_tps": pg}
    return out


def run(
    stack: Stack,
    *,
    runs: int = 3,
    seconds: int = 10,
    levels: tuple[int, ...] = (1, 16, 64),
    client: str = "wrk",
    ceiling_seconds: int = 5,
) -> dict[str, Any]:
    """The ingest benchmark on ``stack`` (``use_here`` done); returns the JSON result."""
    key, secret = setup_integration()
    base = stack.base
    path = f"/api/v1/integrations/{key}/alerts"
    asyncio.run(run_cell(base + path, secret, "unique", 8, 200))  # warm-up
    top = max(levels)
    limits = ceilings(stack, list(levels), runs, ceiling_seconds)
    print(f"ingest: granian --workers {stack.api_workers}, {CORES} cores, client {client},")
    print(f"median of {runs} runs. Ceilings (trivial endpoint req/s, pgbench INSERT tps):")
    for concurrency, values in limits.items():
        print(
            f"  c={concurrency:<3} trivial {values['trivial_rps']:>9,.0f}   "
            f"pgbench {values['pgbench_tps']:>9,.0f}"
        )
    header = f"{'scenario':<10}{'conc':>5}{'alerts/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
    print(header + f"{'accepted':>10}{'client':>8}{'/trivial':>10}{'/pgbench':>10}")
    cells: list[dict[str, Any]] = []
    figures: dict[str, float] = {}
    figure_ceilings: dict[str, dict[str, float]] = {}
    for scenario in ("unique", "identical"):
        for concurrency in levels:
            if client == "wrk":
                results = [
                    run_wrk_cell(base, path, secret, scenario, concurrency, seconds, stack.db_url)
                    for _ in range(runs)
                ]
            else:
                total = REQUESTS.get(concurrency, 2000)
                results = [
                    (*asyncio.run(run_cell(base + path, secret, scenario, concurrency, total)),
                     float("nan"))
                    for _ in range(runs)
                ]  # fmt: skip
            stack.check_alive()
            rate = statistics.median(r[0] for r in results)
            p50 = statistics.median(r[1] for r in results)
            p99 = statistics.median(r[2] for r in results)
            accepted = min(r[3] for r in results)
            share = statistics.median(r[4] for r in results)
            trivial = limits[concurrency]["trivial_rps"]
            pg = limits[concurrency]["pgbench_tps"]
            print(
                f"{scenario:<10}{concurrency:>5}{rate:>10.0f}{p50:>9.1f}{p99:>9.1f}{accepted:>10}"
                f"{share:>8.1%}{rate / trivial:>10.1%}{rate / pg:>10.1%}"
            )
            cells.append(
                {
                    "scenario": scenario,
                    "concurrency": concurrency,
                    "alerts_per_s": rate,
                    "p50_ms": p50,
                    "p99_ms": p99,
                    "accepted_min": accepted,
                    "client_cpu_share": share,
                    "trivial_rps": trivial,
                    "pgbench_tps": pg,
                    "runs": [list(r) for r in results],
                }
            )
            figures[f"{scenario}_c{concurrency}_alerts_per_s"] = rate
            figures[f"{scenario}_c{concurrency}_p99_ms"] = p99
            figure_ceilings[f"{scenario}_c{concurrency}_alerts_per_s"] = {
                "trivial endpoint req/s": trivial,
                "pgbench INSERT tps": pg,
            }
            if concurrency == top:
                figures[f"{scenario}_c{top}_share_of_pgbench"] = rate / pg
    return {
        "name": "ingest",
        "figures": figures,
        "targets": {
            f"unique_c{top}_alerts_per_s": f">= {TARGET_RATE:.0f}",
            f"identical_c{top}_alerts_per_s": f">= {TARGET_RATE:.0f}",
            f"unique_c{top}_share_of_pgbench": f">= {TARGET_PGBENCH_SHARE}",
            f"identical_c{top}_share_of_pgbench": f">= {TARGET_PGBENCH_SHARE}",
        },
        "ceilings": figure_ceilings,
        "ceilings_by_concurrency": {str(c): v for c, v in limits.items()},
        "cells": cells,
        "settings": {"runs": runs, "seconds": seconds, "client": client},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--ingest-concurrency", type=int, help="ONCALL_INGEST__CONCURRENCY of the server (A/B)"
    )
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--json", action="store_true", help="last line: the JSON result")
    parser.add_argument(
        "--client",
        choices=("wrk", "httpx"),
        default="wrk" if shutil.which("wrk") else "httpx",
        help="wrk (pre-signed bodies, ~1 %% of a core) or the in-process httpx2 client",
    )
    args = parser.parse_args()
    levels = tuple(int(c) for c in args.concurrency.split(","))
    settings: dict[str, str] = {}
    if args.ingest_concurrency:
        settings["ONCALL_INGEST__CONCURRENCY"] = str(args.ingest_concurrency)
    with Stack(api_workers=args.workers, with_workers=False, settings=settings) as stack:
        stack.use_here()
        result = run(stack, runs=args.runs, seconds=args.seconds, levels=levels, client=args.client)
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()

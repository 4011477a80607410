"""Alert -> first notification attempt: latency at a fixed arrival rate, and the books.

Signed generic alerts, each with a unique dedup key (so each opens an incident and pages),
leave an open-loop client (``bench/openloop.py``) at a fixed rate over loopback: 50/s and
200/s for ``--seconds`` each, then a burst at 10x the top rate for ``--burst-seconds``. The
service's policy pages one responder directly; the responder's verified e-mail goes to the
outbox provider. The API (granian), two Dramatiq worker processes and the scheduler run as in
production (``bench/stack.py``).

Latency is read from the database after the run, both ends on the same clock: the first
``delivery_attempt.at`` of the incident's page minus the alert's ``received_at``. Also shown:
the part up to the page request (ingest, the escalation message, the step) and from the
client's intended send time (what a monitoring system waiting on us would see, including
time queued before the server reads the request).

The books: every alert answered 202 must be stored, attached to an incident, that incident
paged, and the page's notification attempted. The bench waits until that is so, and fails
loudly (exit status 1) naming what is missing if progress stalls for ``--stall`` seconds.

Targets (issues 6 and 7): p99 <= 500 ms at 200 alerts/s; p99 <= 2 s during the burst.
Ceiling, same run: p99 of the trivial endpoint (GET /api/health/live) at the same rate with
the same client (the floor of this HTTP stack and client on this machine).

    .venv/bin/python bench/bench_paging.py [--runs 3] [--seconds 20] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import secrets
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.openloop import OpenLoop, Outcome, get_request, percentile, post_request  # noqa: E402
from bench.responders import OnCall, epoch, make_on_call, retire_incidents  # noqa: E402
from bench.stack import Stack, libpq  # noqa: E402

TARGET_P99_MS = 500.0  # at 200 alerts/s
TARGET_BURST_P99_MS = 2000.0
BOOKS = """
SELECT a.dedup_key, a.received_at, a.incident_id,
       (SELECT min(pr.created_at) FROM page_request pr WHERE pr.incident_id = a.incident_id),
       (SELECT count(*) FROM page_request pr JOIN notification n ON n.page_request_id = pr.id
         WHERE pr.incident_id = a.incident_id),
       (SELECT min(d.at) FROM page_request pr JOIN notification n ON n.page_request_id = pr.id
         JOIN delivery_attempt d ON d.notification_id = n.id WHERE pr.incident_id = a.incident_id)
FROM alert a WHERE a.integration_id = %s AND a.dedup_key LIKE %s
"""


class BooksError(RuntimeError):
    """An accepted alert was lost, or a due page was never attempted."""


@dataclass(frozen=True)
class Row:
    received: float
    incident_id: int | None
    paged: float | None
    notifications: int
    attempted: float | None


def _books(db_url: str, on_call: OnCall, run_id: str) -> dict[str, Row]:
    with psycopg.connect(libpq(db_url)) as conn:
        # Fresh statistics first: these tables grow by tens of thousands of rows within a
        # minute, before autovacuum analyses them, and with the stale counts the planner scanned
        # every notification once per alert (a 20,000-alert burst's check ran for minutes).
        conn.execute("ANALYZE alert, page_request, notification, delivery_attempt")
        rows = conn.execute(BOOKS, (on_call.integration_id, f"pg-{run_id}-%")).fetchall()
    return {
        str(key): Row(
            epoch(received),
            incident,
            epoch(paged) if paged else None,
            int(count),
            epoch(attempted) if attempted else None,
        )
        for key, received, incident, paged, count, attempted in rows
    }


def _sign(secret: bytes, body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-OnCall-Timestamp": ts,
        "X-OnCall-Signature": f"v1={digest}",
    }


def trivial_p99_ms(stack: Stack, rate: float, seconds: float) -> float:
    """The ceiling: p99 of GET /api/health/live at ``rate``/s with the same client."""
    host = f"127.0.0.1:{stack.port}"
    request = get_request("/api/health/live", host)
    client = OpenLoop("127.0.0.1", stack.port, lambda _: request)
    outcomes = asyncio.run(client.run(rate, seconds))
    return percentile([o.latency_s * 1000 for o in outcomes if o.status == 200], 0.99)


def _send(stack: Stack, on_call: OnCall, run_id: str, rate: float, seconds: float) -> list[Outcome]:
    path = f"/api/v1/integrations/{on_call.integration_key}/alerts"
    host, secret = f"127.0.0.1:{stack.port}", on_call.secret.encode()

    def build(i: int) -> bytes:
        body = json.dumps(
            {"title": f"paging bench {run_id}-{i}", "dedup_key": f"pg-{run_id}-{i}"}
            | {"severity": "critical"}
        ).encode()
        return post_request(path, host, _sign(secret, body), body)

    return asyncio.run(OpenLoop("127.0.0.1", stack.port, build).run(rate, seconds))


def _wait_for_books(
    stack: Stack, on_call: OnCall, run_id: str, accepted: set[str], stall_s: float
) -> dict[str, Row]:
    """Poll until every accepted alert's notification was attempted, or progress stalls."""
    progress, last_change = -1, time.monotonic()
    while True:
        stack.check_alive()
        books = _books(stack.db_url, on_call, run_id)
        done = sum(1 for key in accepted if key in books and books[key].attempted is not None)
        if done == len(accepted):
            return books
        if done != progress:
            progress, last_change = done, time.monotonic()
        elif time.monotonic() - last_change > stall_s:
            return books
        time.sleep(1.0)


def _check_books(books: dict[str, Row], accepted: set[str]) -> tuple[dict[str, int], list[str]]:
    """Counts along the way (stored, grouped, paged, planned, attempted) and what is missing."""
    stored = [books[k] for k in accepted if k in books]
    grouped = [r for r in stored if r.incident_id is not None]
    paged = [r for r in grouped if r.paged is not None]
    notified = [r for r in paged if r.notifications > 0]
    attempted = [r for r in notified if r.attempted is not None]
    counts = {
        "accepted": len(accepted),
        "stored": len(stored),
        "grouped": len(grouped),
        "paged": len(paged),
        "notifications_planned": len(notified),
        "attempted": len(attempted),
        "extra_stored": len(books) - len(stored),
    }
    problems = []
    if len(stored) < len(accepted):
        missing = sorted(accepted - set(books))[:5]
        problems.append(f"{len(accepted) - len(stored)} accepted alerts not stored, e.g. {missing}")
    for name, have, want in (
        ("not attached to an incident", len(grouped), len(stored)),
        ("incidents never paged", len(paged), len(grouped)),
        ("pages with no notification planned", len(notified), len(paged)),
        ("due notifications never attempted", len(attempted), len(notified)),
    ):
        if have < want:
            problems.append(f"{want - have} {name}")
    return counts, problems


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(values, 0.5),
        "p99": percentile(values, 0.99),
        "max": max(values) if values else float("nan"),
    }


def run_once(
    stack: Stack,
    on_call: OnCall,
    rate: float,
    seconds: float,
    stall_s: float,
    profile: Path | None = None,
) -> dict[str, Any]:
    """One open-loop run; waits for the books to balance; returns counts and latencies.

    With ``profile`` (a file prefix), py-spy samples the API and the workers while alerts
    are sent (``<prefix>-api.txt``, ``<prefix>-worker.txt``, collapsed stacks)."""
    run_id = secrets.token_hex(4)
    spies = []
    if profile is not None:
        for name in ("api", "worker"):
            out = profile.with_name(f"{profile.name}-{name}.txt")
            # The workers go on draining after the last alert is sent.
            spies.append(stack.profile(name, seconds + (2 if name == "api" else 10), out))
    cpu_before = {name: stack.cpu_seconds(name) for name in ("api", "worker")}
    outcomes = _send(stack, on_call, run_id, rate, seconds)
    for spy in spies:
        spy.wait(timeout=120)
    sent_done = time.time()
    accepted = {f"pg-{run_id}-{o.index}": o for o in outcomes if o.status == 202}
    refused: dict[str, int] = {}
    for o in outcomes:
        if o.status != 202:
            label = str(o.status) if o.status else o.error.split(":")[0]
            refused[label] = refused.get(label, 0) + 1
    books = _wait_for_books(stack, on_call, run_id, set(accepted), stall_s)
    drained_s = time.time() - sent_done
    # CPU per accepted alert: the cost of the path, much less sensitive than latency to
    # what else the machine is doing (includes the sweepers and pollers of the run's span).
    cpu_ms = {
        f"{name}_cpu_ms_per_alert": (stack.cpu_seconds(name) - before)
        * 1000
        / max(1, len(accepted))
        for name, before in cpu_before.items()
    }
    counts, problems = _check_books(books, set(accepted))
    counts = {"sent": len(outcomes), **counts}
    if problems:
        raise BooksError(
            f"books do not balance after {rate:g}/s x {seconds:g} s (run {run_id}): "
            + "; ".join(problems)
            + f"\n{json.dumps(counts)}\nworker log tail:\n{stack.logs('worker')[-1500:]}"
        )
    done = [(k, books[k]) for k in accepted]
    retire_incidents(stack.db_url, on_call.service_id)
    return {
        "rate": rate,
        "seconds": seconds,
        "counts": counts,
        "refused": refused,
        "drained_after_s": round(drained_s, 1),
        **cpu_ms,
        "latency_ms": _ms([((r.attempted or 0) - r.received) * 1000 for _, r in done]),
        "received_to_page_ms": _ms([((r.paged or 0) - r.received) * 1000 for _, r in done]),
        "page_to_attempt_ms": _ms([((r.attempted or 0) - (r.paged or 0)) * 1000 for _, r in done]),
        "intended_send_to_attempt_ms": _ms(
            [((r.attempted or 0) - accepted[k].intended_wall) * 1000 for k, r in done]
        ),
        "http_response_ms": _ms([o.latency_s * 1000 for o in accepted.values()]),
        "max_ms_by_second": _max_by_second(done),
    }


def _max_by_second(done: list[tuple[str, Row]]) -> list[int]:
    """The worst latency among the alerts received in each second of the run: tells a tail
    made by one stall (one bad second) from one spread over the run (saturation)."""
    if not done:
        return []
    first = min(r.received for _, r in done)
    worst: dict[int, float] = {}
    for _, r in done:
        second = int(r.received - first)
        worst[second] = max(worst.get(second, 0.0), ((r.attempted or 0) - r.received) * 1000)
    return [round(worst.get(i, 0.0)) for i in range(max(worst) + 1)]


def run(
    stack: Stack,
    *,
    runs: int = 3,
    seconds: float = 20.0,
    rates: tuple[float, ...] = (50.0, 200.0),
    burst_factor: float = 10.0,
    burst_seconds: float = 10.0,
    stall_s: float = 60.0,
    ceiling_seconds: float = 5.0,
    profile_dir: Path | None = None,
) -> dict[str, Any]:
    """The paging benchmark on ``stack`` (``use_here`` done); returns the JSON result.

    With ``profile_dir``, the first run of each scenario is sampled by py-spy."""
    on_call = make_on_call("paging")
    # Warm-up, not measured: enough alerts that every worker thread has opened its database
    # connection and run both jobs (a cold first second showed ~500 ms at 50/s; workers that
    # have run for a while have their connections and prepared statements).
    run_once(stack, on_call, min(rates), 4.0, stall_s)
    burst_rate = max(rates) * burst_factor
    scenarios = [(f"at_{r:g}_per_s", r, seconds) for r in rates]
    if burst_seconds > 0:
        scenarios.append((f"burst_{burst_rate:g}_per_s", burst_rate, burst_seconds))
    figures: dict[str, float] = {}
    details: dict[str, Any] = {}
    ceilings: dict[str, dict[str, float]] = {}
    for name, rate, duration in scenarios:
        ceiling = statistics.median(
            trivial_p99_ms(stack, rate, min(duration, ceiling_seconds)) for _ in range(runs)
        )
        results = []
        for n in range(runs):
            prefix = profile_dir / f"paging-{name}" if profile_dir and n == 0 else None
            results.append(run_once(stack, on_call, rate, duration, stall_s, prefix))
            time.sleep(2.0)  # let the sweepers and the delay queues settle between runs
        p50 = statistics.median(r["latency_ms"]["p50"] for r in results)
        p99 = statistics.median(r["latency_ms"]["p99"] for r in results)
        figures[f"{name}_p50_ms"] = p50
        figures[f"{name}_p99_ms"] = p99
        figures[f"{name}_from_send_p99_ms"] = statistics.median(
            r["intended_send_to_attempt_ms"]["p99"] for r in results
        )
        for part in ("api", "worker"):
            figures[f"{name}_{part}_cpu_ms_per_alert"] = statistics.median(
                r[f"{part}_cpu_ms_per_alert"] for r in results
            )
        ceilings[f"{name}_p99_ms"] = {"trivial endpoint p99 ms, same rate": ceiling}
        totals = {
            key: sum(r["counts"][key] for r in results)
            for key in ("sent", "accepted", "stored", "grouped", "paged", "attempted")
        }
        # Not accepted (any non-202 answer, or no answer): not lost, but not taken either.
        totals["refused"] = sum(sum(r["refused"].values()) for r in results)
        details[name] = {"rate": rate, "seconds": duration, "totals": totals, "runs": results}
        print(
            f"paging {name}: p50 {p50:,.0f} ms, p99 {p99:,.0f} ms (alert received -> first "
            f"attempt, median of {runs}); trivial endpoint p99 {ceiling:,.1f} ms; books {totals}"
        )
    top = max(rates)
    targets = {f"at_{top:g}_per_s_p99_ms": f"<= {TARGET_P99_MS:.0f}"}
    if burst_seconds > 0:
        targets[f"burst_{burst_rate:g}_per_s_p99_ms"] = f"<= {TARGET_BURST_P99_MS:.0f}"
    return {
        "name": "paging",
        "figures": figures,
        "targets": targets,
        "ceilings": ceilings,
        "scenarios": details,
        "settings": {"runs": runs, "seconds": seconds, "burst_seconds": burst_seconds},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0, help="per steady-rate run")
    parser.add_argument("--rates", default="50,200")
    parser.add_argument("--burst-seconds", type=float, default=10.0)
    parser.add_argument("--stall", type=float, default=60.0, help="give up after no progress")
    parser.add_argument("--json", action="store_true", help="last line: the JSON result")
    parser.add_argument("--profile", type=Path, help="directory for py-spy collapsed stacks")
    parser.add_argument("--worker-processes", type=int, default=Stack.worker_processes)
    parser.add_argument("--worker-threads", type=int, default=Stack.worker_threads)
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    counts = {"worker_processes": args.worker_processes, "worker_threads": args.worker_threads}
    with Stack(**counts) as stack:
        stack.use_here()
        try:
            result = run(
                stack,
                runs=args.runs,
                seconds=args.seconds,
                rates=tuple(float(r) for r in args.rates.split(",")),
                burst_seconds=args.burst_seconds,
                stall_s=args.stall,
                profile_dir=args.profile,
            )
        except BooksError as exc:
            print(f"FAILED: {exc}")
            raise SystemExit(1) from exc
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()

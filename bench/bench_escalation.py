"""Escalation lateness with 10,000 pending escalations.

Seeds ``--pending`` OPEN incidents whose escalation is armed exactly as
``backend.escalation.engine.start`` leaves it (policy snapshot, token, step 0,
``next_escalation_at``), their due times spread evenly over ``--window`` seconds starting
``--lead`` seconds after seeding. As the engine does for a next step: one due within the
hand-over horizon (30 s) has its ``ESCALATE_STEP`` message sent at once, delayed until it is
due, through the product's own ``engine.send`` (a Dramatiq delayed message in Redis), and is
stamped so no sweep re-sends it early; one due later is only written, and the scheduler's
sweep (every 5 s) hands it to the queue when it comes within the horizon (``rearm.hand_over``;
the same sweep re-sends any step 10 s past due). The
worker processes (``oncall worker``: 2 processes x 8 threads) and the scheduler run as in
production (``bench/stack.py``); each step pages the responder and plans an e-mail to the
outbox, which the same workers deliver.

Lateness = the page request's ``created_at`` (the step's clock when it ran) minus the due time
the bench wrote. p50/p99/max, median of ``--runs`` runs; a run's incidents are resolved
before the next run seeds its own. Fails loudly (exit 1) if any seeded escalation never
paged (progress stalled for ``--stall`` seconds).

Target (issue 7): p99 <= 1 s with 10,000 pending. The steps per second the window asks for
(pending / window) is printed beside the rate the workers achieved.

    .venv/bin/python bench/bench_escalation.py [--pending 10000] [--window 100] [--json]
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.openloop import percentile  # noqa: E402
from bench.responders import OnCall, epoch, make_on_call, retire_incidents  # noqa: E402
from bench.stack import Stack, libpq  # noqa: E402

TARGET_P99_MS = 1000.0
BATCH = 1000


class LostEscalation(RuntimeError):
    """A seeded escalation step never ran."""


def seed(
    on_call: OnCall, pending: int, lead_s: float, window_s: float, *, warn_late: bool = True
) -> dict[int, float]:
    """Insert ``pending`` armed incidents, send the steps due within the hand-over horizon
    (the sweep hands over the rest); {incident id: due}."""
    from sqlalchemy import insert

    from backend.core.db import unit_of_work
    from backend.escalation import engine, targets
    from backend.escalation.models import EscalationPolicy
    from backend.escalation.policy import to_snapshot
    from backend.incidents.models import Incident

    table = Incident.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
    run_id = secrets.token_hex(4)
    now = datetime.now(UTC)
    start = now + timedelta(seconds=lead_s)
    step = timedelta(seconds=window_s / pending)
    tokens = [engine.new_token() for _ in range(pending)]

    def queued(due: datetime) -> bool:  # as engine.run_step decides for a next step
        return engine.queued_now(due - now)

    with unit_of_work() as uow:
        policy = uow.session.get(EscalationPolicy, on_call.policy_id)
        assert policy is not None
        assert policy.id is not None
        chain = targets.chain_of(uow.session, policy)
        snapshot = to_snapshot(chain, policy_id=policy.id, policy_name=policy.name)
        ids: list[int] = []
        for first in range(0, pending, BATCH):
            rows = [
                {
                    "title": f"escalation bench {run_id}-{i}",
                    "severity": "CRITICAL",
                    "status": "OPEN",
                    "service_id": on_call.service_id,
                    "dedup_key": f"esc-{run_id}-{i}",
                    "in_maintenance": False,
                    "opened_at": now,
                    "details": {},
                    "acknowledged_by": "",
                    "resolved_by": "",
                    "resolution_note": "",
                    "escalation_policy_id": policy.id,
                    "escalation_snapshot": snapshot,
                    "escalation_state": "active",
                    "escalation_token": tokens[i],
                    "escalation_step": 0,
                    "next_escalation_at": start + step * i,
                    "escalation_resend_after": (
                        engine.in_flight_until(start + step * i)
                        if queued(start + step * i)
                        else None
                    ),
                }
                for i in range(first, min(pending, first + BATCH))
            ]
            result = uow.session.execute(insert(table).returning(table.c.id), rows)
            ids.extend(int(r[0]) for r in result)
    dues = {incident_id: epoch(start + step * i) for i, incident_id in enumerate(ids)}
    for i, incident_id in enumerate(ids):
        if queued(start + step * i):
            delay = timedelta(seconds=dues[incident_id] - time.time())
            engine.send(incident_id, tokens[i], 0, delay)
    late = time.time() - epoch(start)
    if late > 0 and warn_late:
        print(f"  warning: seeding ended {late:.1f} s after the first step was due (raise --lead)")
    return dues


def _paged(db_url: str, ids: list[int]) -> dict[int, float]:
    with psycopg.connect(libpq(db_url)) as conn:
        rows = conn.execute(
            "SELECT incident_id, min(created_at) FROM page_request "
            "WHERE incident_id = ANY(%s) AND level = 0 AND repeat = 0 GROUP BY incident_id",
            (ids,),
        ).fetchall()
    return {int(i): epoch(at) for i, at in rows}


def run_once(
    stack: Stack,
    on_call: OnCall,
    pending: int,
    lead_s: float,
    window_s: float,
    stall_s: float,
    profile: Path | None = None,
) -> dict[str, Any]:
    """One seeded window; with ``profile`` (a file), py-spy samples the workers during it."""
    seeded_at = time.monotonic()
    dues = seed(on_call, pending, lead_s, window_s)
    seed_s = time.monotonic() - seeded_at
    ids = list(dues)
    time.sleep(max(0.0, min(dues.values()) - time.time()))
    spy = stack.profile("worker", window_s, profile) if profile is not None else None
    cpu_before = stack.cpu_seconds("worker")
    progress, last_change = -1, time.monotonic()
    while True:
        stack.check_alive()
        paged = _paged(stack.db_url, ids)
        window_over = time.time() > max(dues.values())
        if len(paged) == len(ids):
            break
        if len(paged) != progress or not window_over:
            progress, last_change = len(paged), time.monotonic()
        elif time.monotonic() - last_change > stall_s:
            break
        time.sleep(1.0)
    if spy is not None:
        spy.wait(timeout=window_s + 60)
    if len(paged) < len(ids):
        missing = sorted(set(ids) - set(paged))[:5]
        raise LostEscalation(
            f"{len(ids) - len(paged)} of {len(ids)} due escalation steps never paged "
            f"(e.g. incidents {missing})\nworker log tail:\n{stack.logs('worker')[-1500:]}"
        )
    worker_cpu_ms = (stack.cpu_seconds("worker") - cpu_before) * 1000 / len(ids)
    lateness = [(paged[i] - dues[i]) * 1000 for i in ids]
    ran = sorted(paged.values())
    achieved = (len(ran) - 1) / (ran[-1] - ran[0]) if len(ran) > 1 and ran[-1] > ran[0] else 0.0
    retire_incidents(stack.db_url, on_call.service_id)
    return {
        "pending": pending,
        "window_s": window_s,
        "seed_s": round(seed_s, 1),
        "required_steps_per_s": pending / window_s,
        "achieved_steps_per_s": achieved,
        "lateness_ms": {
            "p50": percentile(lateness, 0.5),
            "p99": percentile(lateness, 0.99),
            "max": max(lateness),
            "min": min(lateness),
        },
        "late_over_10s": sum(1 for x in lateness if x > 10_000),
        # Each step and the delivery of the e-mail it plans, plus sweeps and polling.
        "worker_cpu_ms_per_step": worker_cpu_ms,
    }


def run(
    stack: Stack,
    *,
    runs: int = 3,
    pending: int = 10_000,
    window_s: float = 100.0,
    lead_s: float = 30.0,
    stall_s: float = 60.0,
    profile_dir: Path | None = None,
    far_future: int = 0,
) -> dict[str, Any]:
    """The escalation benchmark on ``stack`` (``use_here`` done); returns the JSON result.

    With ``profile_dir``, py-spy samples the workers during the first run's window. With
    ``far_future``, that many armed incidents whose step is due in an hour are seeded first,
    as the later steps of the incidents a storm opened would be (as after the paging burst in
    ``make bench``). Before the hand-over (ADR 0013) each was a delayed message: Dramatiq holds
    at most threads x 1,000 of those per worker process in memory, so they kept the run's own
    steps waiting in Redis; now they are rows until they come within the horizon."""
    on_call = make_on_call("escalation")
    if far_future:
        seed(on_call, far_future, 3600.0, 60.0, warn_late=False)
    results = []
    for n in range(runs):
        prof = profile_dir / "escalation-worker.txt" if profile_dir and n == 0 else None
        results.append(run_once(stack, on_call, pending, lead_s, window_s, stall_s, prof))
        r = results[-1]
        print(
            f"escalation: {pending:,} pending over {window_s:g} s: lateness p50 "
            f"{r['lateness_ms']['p50']:,.0f} ms, p99 {r['lateness_ms']['p99']:,.0f} ms; "
            f"steps/s needed {r['required_steps_per_s']:.0f}, done {r['achieved_steps_per_s']:.0f}"
        )
        time.sleep(2.0)
    p50 = statistics.median(r["lateness_ms"]["p50"] for r in results)
    p99 = statistics.median(r["lateness_ms"]["p99"] for r in results)
    return {
        "name": "escalation",
        "figures": {
            "lateness_p50_ms": p50,
            "lateness_p99_ms": p99,
            "achieved_steps_per_s": statistics.median(r["achieved_steps_per_s"] for r in results),
            "required_steps_per_s": pending / window_s,
            "worker_cpu_ms_per_step": statistics.median(
                r["worker_cpu_ms_per_step"] for r in results
            ),
        },
        "targets": {"lateness_p99_ms": f"<= {TARGET_P99_MS:.0f}"},
        "runs": results,
        "settings": {
            "runs": runs,
            "pending": pending,
            "window_s": window_s,
            "lead_s": lead_s,
            "far_future": far_future,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=100.0, help="seconds the dues span")
    parser.add_argument("--lead", type=float, default=30.0, help="seconds to seed before")
    parser.add_argument("--stall", type=float, default=60.0, help="give up after no progress")
    parser.add_argument("--json", action="store_true", help="last line: the JSON result")
    parser.add_argument("--profile", type=Path, help="directory for py-spy collapsed stacks")
    parser.add_argument(
        "--far-future", type=int, default=0, help="armed incidents due in an hour, seeded first"
    )
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    with Stack() as stack:
        stack.use_here()
        try:
            result = run(
                stack,
                runs=args.runs,
                pending=args.pending,
                window_s=args.window,
                lead_s=args.lead,
                stall_s=args.stall,
                profile_dir=args.profile,
                far_future=args.far_future,
            )
        except LostEscalation as exc:
            print(f"FAILED: {exc}")
            raise SystemExit(1) from exc
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()

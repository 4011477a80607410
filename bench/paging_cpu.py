"""Sequential cost of the paging path's two jobs: an escalation step and a notification delivery.

What one alert costs the workers, measured without concurrency (so a loaded machine changes
it less than it changes latencies): SQL statements sent, CPU milliseconds of this process
(``time.process_time``: Python, SQLAlchemy, psycopg, Redis client) and wall milliseconds
(adds PostgreSQL and Redis round trips). Runs ``engine.run_step`` on ``--count`` incidents
armed as ``engine.start`` leaves them (one responder, a verified e-mail on the outbox), then
``dispatch.deliver`` on the notification each step planned. On its own stack
(``bench/stack.py``, no worker processes: the steps run here).

    .venv/bin/python bench/paging_cpu.py [--count 300] [--json]
    .venv/bin/python bench/paging_cpu.py --profile /tmp/paging   # /tmp/paging-step.prof, …
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.bench_escalation import seed  # noqa: E402
from bench.responders import make_on_call  # noqa: E402
from bench.stack import Stack  # noqa: E402


def _measure(
    calls: list[Callable[[], object]], statements: list[int], checkouts: list[int]
) -> dict[str, float]:
    cpu, wall, counts, transactions = [], [], [], []
    for call in calls:
        before, checked_out = statements[0], checkouts[0]
        started_cpu, started = time.process_time(), time.perf_counter()
        call()
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
        counts.append(statements[0] - before)
        transactions.append(checkouts[0] - checked_out)
    return {
        "cpu_ms": statistics.median(cpu),
        "wall_ms": statistics.median(wall),
        "statements": statistics.median(counts),
        "checkouts": statistics.median(transactions),
    }


def _profiled(calls: list[Callable[[], object]], path: str) -> None:
    """cProfile in CPU time (``time.process_time``) over ``calls``, stats written to ``path``."""
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for call in calls:
        call()
    profiler.disable()
    pstats.Stats(profiler).dump_stats(path)
    print(f"profile: {path} (python -m pstats {path}; sort cumulative)")


def run(count: int, profile: str | None = None) -> dict[str, Any]:
    from sqlalchemy import event
    from sqlmodel import col, select

    from backend.core import db
    from backend.escalation import engine
    from backend.incidents.models import Incident
    from backend.notifications import dispatch
    from backend.notifications.models import Notification

    on_call = make_on_call("paging cpu")
    dues = seed(on_call, count, lead_s=0.0, window_s=0.001, warn_late=False)  # due at once
    ids = list(dues)
    with db.unit_of_work() as uow:
        rows = uow.session.exec(
            select(Incident.id, Incident.escalation_token).where(col(Incident.id).in_(ids))
        ).all()
        tokens = {int(i or 0): str(token) for i, token in rows}
    statements, checkouts = [0], [0]

    def count_statement(*_: object) -> None:
        statements[0] += 1

    def count_checkout(*_: object) -> None:
        checkouts[0] += 1  # one per transaction (each with the pool's pre-ping)

    def count_atomic(*_: object) -> None:
        # A one-statement command (db.call_atomically: a delivery's claim and record on
        # PostgreSQL) runs on the driver connection, past SQLAlchemy's cursor events: one
        # checkout is its one statement and its transaction (no pre-ping on that pool).
        statements[0] += 1
        checkouts[0] += 1

    event.listen(db.get_engine(), "before_cursor_execute", count_statement)
    event.listen(db.get_engine().pool, "checkout", count_checkout)
    event.listen(db.atomic_engine(db.get_engine()).pool, "checkout", count_atomic)
    warm = 20
    steps: list[Callable[[], object]] = [partial(engine.run_step, i, tokens[i], 0) for i in ids]
    for call in steps[:warm]:
        call()
    if profile:
        _profiled(steps[warm:], f"{profile}-step.prof")
    else:
        step = _measure(steps[warm:], statements, checkouts)
    with db.unit_of_work() as uow:
        notification_ids = uow.session.exec(
            select(Notification.id).where(col(Notification.incident_id).in_(ids))
        ).all()
    deliveries: list[Callable[[], object]] = [
        partial(dispatch.deliver, int(n or 0)) for n in notification_ids
    ]
    for call in deliveries[:warm]:
        call()
    if profile:
        _profiled(deliveries[warm:], f"{profile}-delivery.prof")
        return {}
    deliver = _measure(deliveries[warm:], statements, checkouts)
    print(
        f"escalation step: {step['statements']:.0f} statements in {step['checkouts']:.0f} "
        f"pool checkouts, {step['cpu_ms']:.1f} ms CPU, "
        f"{step['wall_ms']:.1f} ms wall (median of {len(steps) - warm})"
    )
    print(
        f"notification delivery (outbox): {deliver['statements']:.0f} statements in "
        f"{deliver['checkouts']:.0f} pool checkouts, "
        f"{deliver['cpu_ms']:.1f} ms CPU, {deliver['wall_ms']:.1f} ms wall "
        f"(median of {len(deliveries) - warm})"
    )
    return {
        "name": "paging_cpu",
        "figures": {
            "step_cpu_ms": step["cpu_ms"],
            "step_wall_ms": step["wall_ms"],
            "step_statements": step["statements"],
            "step_checkouts": step["checkouts"],
            "delivery_cpu_ms": deliver["cpu_ms"],
            "delivery_wall_ms": deliver["wall_ms"],
            "delivery_statements": deliver["statements"],
            "delivery_checkouts": deliver["checkouts"],
        },
        "targets": {},
        "settings": {"count": count},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--json", action="store_true", help="last line: the JSON result")
    parser.add_argument("--profile", metavar="PREFIX", help="cProfile instead: PREFIX-step.prof…")
    args = parser.parse_args()
    with Stack(with_workers=False) as stack:
        stack.use_here()
        result = run(args.count, args.profile)
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()

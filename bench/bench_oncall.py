"""Benchmark: who-is-on-call resolutions per second and the time to render a month.

A 3-layer, 20-person schedule with 10 overrides in Europe/Berlin: a weekly follow-the-sun
style primary, a daily weekday-business-hours layer and a weekend layer. Prints the median of
several runs. A benchmark, not a test: run it with ``.venv/bin/python bench/bench_oncall.py``
(``--runs N``; ``--json``: the last stdout line is one JSON object, ``name``, ``figures``
{metric: value}, ``targets`` {metric: target}, as every script in ``bench/`` prints it).
Targets (issue 4): >= 5,000 resolutions/s on one core; <= 50 ms for a month.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time as timer
from datetime import UTC, date, datetime, time, timedelta

from backend.schedules.rotation import LayerSpec, Override, Schedule, Window

RUNS = 5
RESOLUTIONS = 20_000
MONTHS = 12


def build() -> Schedule:
    people = tuple(range(1, 21))
    layers = [
        LayerSpec(1, "primary", 0, people[:10], "FREQ=WEEKLY", time(9), date(2023, 1, 2)),
        LayerSpec(
            2,
            "business hours",
            1,
            people[10:16],
            "FREQ=DAILY",
            time(9),
            date(2023, 3, 1),
            (Window(frozenset(range(5)), time(9), time(17)),),
        ),
        LayerSpec(
            3,
            "weekend",
            2,
            people[16:],
            "FREQ=WEEKLY;BYDAY=SA",
            time(8),
            date(2023, 1, 7),
            (Window(frozenset({5, 6}), time(8), time(20)),),
        ),
    ]
    base = datetime(2025, 1, 6, tzinfo=UTC)
    overrides = [
        Override(base + timedelta(days=9 * n, hours=3), base + timedelta(days=9 * n + 2), 1 + n)
        for n in range(10)
    ]
    return Schedule("Europe/Berlin", layers, overrides)


def bench_resolutions(schedule: Schedule, instants: list[datetime]) -> float:
    started = timer.perf_counter()
    for instant in instants:
        schedule.oncall_at(instant)
    return len(instants) / (timer.perf_counter() - started)


def bench_cold(instants: list[datetime]) -> float:
    """Resolutions/s when every question builds the schedule afresh, as a request does."""
    started = timer.perf_counter()
    for instant in instants:
        build().oncall_at(instant)
    return len(instants) / (timer.perf_counter() - started)


def bench_month() -> float:
    """Mean milliseconds to render one month of final schedule, over MONTHS months, each on a
    freshly built schedule (no warm per-day caches; parsed RRULEs stay cached, as in a
    running server)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    started = timer.perf_counter()
    for month in range(MONTHS):
        lo = start + timedelta(days=30 * month)
        build().final(lo, lo + timedelta(days=31))
    return (timer.perf_counter() - started) * 1000 / MONTHS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--json", action="store_true", help="last line: the JSON result")
    args = parser.parse_args()
    runs = args.runs
    schedule = build()
    rng = random.Random(4)
    span = int(timedelta(days=365).total_seconds())
    base = datetime(2025, 1, 1, tzinfo=UTC)
    instants = [base + timedelta(seconds=rng.randrange(span)) for _ in range(RESOLUTIONS)]
    rates = [bench_resolutions(schedule, instants) for _ in range(runs)]
    cold = [bench_cold(instants[:5_000]) for _ in range(runs)]
    months = [bench_month() for _ in range(runs)]
    print(
        "who-is-on-call, one schedule object reused: median "
        f"{statistics.median(rates):,.0f} resolutions/s "
        f"over {runs} runs of {RESOLUTIONS:,} (target >= 5,000/s)"
    )
    print(
        f"who-is-on-call, schedule rebuilt per question: median "
        f"{statistics.median(cold):,.0f} resolutions/s over {runs} runs of 5,000"
    )
    print(
        f"month of final schedule: median {statistics.median(months):.2f} ms "
        f"over {runs} runs of {MONTHS} months (target <= 50 ms)"
    )
    if args.json:
        result = {
            "name": "oncall",
            "figures": {
                "resolutions_per_s": statistics.median(rates),
                "cold_resolutions_per_s": statistics.median(cold),
                "month_render_ms": statistics.median(months),
            },
            "targets": {"resolutions_per_s": ">= 5000", "month_render_ms": "<= 50"},
            "settings": {"runs": runs, "resolutions": RESOLUTIONS, "months": MONTHS},
        }
        print(json.dumps(result))


if __name__ == "__main__":
    main()

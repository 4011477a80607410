"""Pure escalation maths (ROUTE-01/02): which level a step fires, what comes next and when.

A chain of ``n`` levels repeated ``repeat`` extra times has ``n * (repeat + 1)`` firing steps,
numbered from 0: step ``s`` fires level ``s % n`` on pass ``s // n``. After a level fires the
engine waits that level's timeout, then runs the next step. One more step, number
``n * (repeat + 1)``, fires nothing and marks the escalation exhausted: the last level gets
its full timeout before we give up. No I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

MAX_LEVELS = 10
MAX_REPEAT = 9
MIN_TIMEOUT, MAX_TIMEOUT, DEFAULT_TIMEOUT = 1, 1440, 30


class TargetKind(StrEnum):
    USER = "user"
    SCHEDULE = "schedule"


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    id: int


@dataclass(frozen=True)
class Level:
    timeout_minutes: int
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Chain:
    levels: tuple[Level, ...]
    repeat: int = 0

    @property
    def firing_steps(self) -> int:
        return len(self.levels) * (self.repeat + 1)


@dataclass(frozen=True)
class StepPlan:
    """What step ``step`` does. ``level``/``cycle`` are None for the exhausting step."""

    step: int
    level: int | None
    cycle: int | None
    next_step: int | None  # None: nothing follows
    wait_minutes: int | None  # minutes until ``next_step`` is due

    @property
    def exhausts(self) -> bool:
        return self.level is None


def plan_step(chain: Chain, step: int) -> StepPlan:
    """The plan for ``step`` of ``chain``.

    Raises:
        ValueError: ``step`` is negative or past the exhausting step.
    """
    total = chain.firing_steps
    if step < 0 or step > total:
        msg = f"step {step} is outside 0..{total}"
        raise ValueError(msg)
    if step == total:
        return StepPlan(step=step, level=None, cycle=None, next_step=None, wait_minutes=None)
    n = len(chain.levels)
    level = step % n
    return StepPlan(
        step=step,
        level=level,
        cycle=step // n,
        next_step=step + 1,
        wait_minutes=chain.levels[level].timeout_minutes,
    )


@dataclass(frozen=True)
class Firing:
    step: int
    level: int
    cycle: int
    offset: timedelta  # after the escalation started


def firings(chain: Chain) -> list[Firing]:
    """Every level firing in order with its offset from the start (the paging preview)."""
    out: list[Firing] = []
    offset = timedelta(0)
    for step in range(chain.firing_steps):
        plan = plan_step(chain, step)
        assert plan.level is not None
        assert plan.cycle is not None
        assert plan.wait_minutes
        out.append(Firing(step, plan.level, plan.cycle, offset))
        offset += timedelta(minutes=plan.wait_minutes)
    return out


def exhausted_after(chain: Chain) -> timedelta:
    """How long after the start the escalation is exhausted (sum of every fired timeout)."""
    per_pass = sum(level.timeout_minutes for level in chain.levels)
    return timedelta(minutes=per_pass * (chain.repeat + 1))


def validate(levels: list[tuple[int, int]], repeat: int) -> list[str]:
    """Problems with a chain given as ``[(timeout_minutes, target_count), …]`` (empty: valid)."""
    problems: list[str] = []
    if not levels:
        problems.append("a policy needs at least one level")
    if len(levels) > MAX_LEVELS:
        problems.append(f"at most {MAX_LEVELS} levels")
    if not 0 <= repeat <= MAX_REPEAT:
        problems.append(f"repeat must be between 0 and {MAX_REPEAT}")
    for index, (timeout, count) in enumerate(levels):
        if not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
            problems.append(
                f"level {index + 1}: timeout must be {MIN_TIMEOUT} to {MAX_TIMEOUT} minutes"
            )
        if count == 0:
            problems.append(f"level {index + 1}: add at least one user or schedule")
    return problems


# --- the snapshot stored on the incident ------------------------------------------------------


def to_snapshot(chain: Chain, *, policy_id: int, policy_name: str) -> dict[str, Any]:
    """The JSON frozen onto an incident when its escalation starts."""
    return {
        "policy_id": policy_id,
        "policy_name": policy_name,
        "repeat": chain.repeat,
        "levels": [
            {
                "timeout_minutes": level.timeout_minutes,
                "targets": [{"type": t.kind.value, "id": t.id} for t in level.targets],
            }
            for level in chain.levels
        ],
    }


def from_snapshot(data: Mapping[str, Any]) -> Chain:
    """The chain of a stored snapshot (the inverse of :func:`to_snapshot`)."""
    return Chain(
        levels=tuple(
            Level(
                timeout_minutes=int(level["timeout_minutes"]),
                targets=tuple(
                    Target(TargetKind(t["type"]), int(t["id"])) for t in level["targets"]
                ),
            )
            for level in data.get("levels", [])
        ),
        repeat=int(data.get("repeat", 0)),
    )

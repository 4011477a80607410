"""Escalation maths (pure): which level each step fires, repeats, timing, validation."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.escalation.policy import (
    Chain,
    Level,
    StepPlan,
    Target,
    TargetKind,
    exhausted_after,
    firings,
    from_snapshot,
    plan_step,
    to_snapshot,
    validate,
)

U1, S1 = Target(TargetKind.USER, 1), Target(TargetKind.SCHEDULE, 7)
TWO = Chain(levels=(Level(5, (S1,)), Level(10, (U1,))), repeat=1)

levels_st = st.lists(
    st.builds(Level, st.integers(1, 1440), st.just((U1,))), min_size=1, max_size=10
).map(tuple)
chains = st.builds(Chain, levels_st, st.integers(0, 9))


def test_two_levels_repeated_once() -> None:
    assert [plan_step(TWO, s) for s in range(5)] == [
        StepPlan(0, 0, 0, 1, 5),
        StepPlan(1, 1, 0, 2, 10),
        StepPlan(2, 0, 1, 3, 5),
        StepPlan(3, 1, 1, 4, 10),
        StepPlan(4, None, None, None, None),
    ]
    assert plan_step(TWO, 4).exhausts
    assert [(f.level, f.cycle, f.offset) for f in firings(TWO)] == [
        (0, 0, timedelta(0)),
        (1, 0, timedelta(minutes=5)),
        (0, 1, timedelta(minutes=15)),
        (1, 1, timedelta(minutes=20)),
    ]
    assert exhausted_after(TWO) == timedelta(minutes=30)


@pytest.mark.parametrize("step", [-1, 5])
def test_steps_outside_the_chain_are_refused(step: int) -> None:
    with pytest.raises(ValueError, match=r"outside 0\.\.4"):
        plan_step(TWO, step)


@given(chains)
def test_every_level_fires_repeat_plus_one_times_in_order_then_it_exhausts(chain: Chain) -> None:
    fired = firings(chain)
    n = len(chain.levels)
    assert [(f.level, f.cycle) for f in fired] == [
        (level, cycle) for cycle in range(chain.repeat + 1) for level in range(n)
    ]
    # Offsets grow by exactly the fired level's timeout.
    for before, after in itertools.pairwise(fired):
        timeout = chain.levels[before.level].timeout_minutes
        assert after.offset - before.offset == timedelta(minutes=timeout)
    last = fired[-1]
    assert last.offset + timedelta(
        minutes=chain.levels[last.level].timeout_minutes
    ) == exhausted_after(chain)
    assert plan_step(chain, chain.firing_steps).exhausts


@given(chains)
def test_the_snapshot_round_trips(chain: Chain) -> None:
    assert from_snapshot(to_snapshot(chain, policy_id=3, policy_name="P")) == chain


def test_validate_reports_every_problem() -> None:
    assert validate([(30, 1)], 0) == []
    assert validate([], 10) == [
        "a policy needs at least one level",
        "repeat must be between 0 and 9",
    ]
    assert validate([(0, 1), (1441, 0)] + [(5, 1)] * 9, 0) == [
        "at most 10 levels",
        "level 1: timeout must be 1 to 1440 minutes",
        "level 2: timeout must be 1 to 1440 minutes",
        "level 2: add at least one user or schedule",
    ]

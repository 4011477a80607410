"""Property tests for the pure schedule computation (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.schedules.rotation import (
    LayerSpec,
    Override,
    Schedule,
    Shift,
    Source,
    Swap,
    Window,
    complement,
)

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/St_Johns",
]
RULES = [
    "FREQ=DAILY",
    "FREQ=DAILY;INTERVAL=3",
    "FREQ=WEEKLY",
    "FREQ=WEEKLY;INTERVAL=2",
    "FREQ=WEEKLY;BYDAY=MO,TH",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA,SU;WKST=SU",
    "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
    "FREQ=MONTHLY",
]
# Handoffs in and around the usual transition hours, plus midnight.
HANDOFFS = [time(0, 0), time(1, 30), time(2, 0), time(2, 15), time(2, 30), time(3, 0), time(9)]
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)

instants = st.integers(min_value=0, max_value=700 * 24 * 60).map(
    lambda m: EPOCH + timedelta(minutes=m)
)


@st.composite
def layer_specs(draw: st.DrawFn, key: int, *, restricted: bool) -> LayerSpec:
    windows: tuple[Window, ...] = ()
    if restricted:
        windows = tuple(
            Window(
                frozenset(draw(st.sets(st.integers(0, 6), min_size=1))),
                draw(st.sampled_from(HANDOFFS)),
                draw(st.sampled_from(HANDOFFS)),
            )
            for _ in range(draw(st.integers(1, 2)))
        )
    return LayerSpec(
        key=key,
        name=f"layer {key}",
        priority=draw(st.integers(0, 3)),
        participants=tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=5))),
        rrule=draw(st.sampled_from(RULES)),
        handoff=draw(st.sampled_from(HANDOFFS)),
        starts_on=draw(st.dates(date(2023, 1, 1), date(2025, 6, 1)).filter(lambda d: d.day <= 28)),
        restrictions=windows,
    )


@st.composite
def schedules(draw: st.DrawFn, *, covered: bool) -> Schedule:
    layers = [draw(layer_specs(k, restricted=True)) for k in range(draw(st.integers(0, 2)))]
    if covered:
        base = draw(layer_specs(99, restricted=False))
        # A base layer that started before every range we look at covers everything.
        layers.insert(0, LayerSpec(**{**_fields(base), "starts_on": date(2022, 1, 3)}))
    overrides = []
    for n in range(draw(st.integers(0, 3))):
        start = draw(instants)
        length = timedelta(minutes=draw(st.integers(1, 5 * 24 * 60)))
        overrides.append(Override(start, start + length, 100 + n, key=n))
    swaps = []
    for n in range(draw(st.integers(0, 2))):
        start = draw(instants)
        length = timedelta(minutes=draw(st.integers(1, 3 * 24 * 60)))
        swaps.append(Swap(start, start + length, draw(st.integers(1, 6)), 200 + n, key=n))
    return Schedule(draw(st.sampled_from(ZONES)), layers, overrides, swaps)


def _fields(spec: LayerSpec) -> dict[str, object]:
    return {name: getattr(spec, name) for name in LayerSpec.__slots__}


ranges = st.tuples(instants, st.integers(1, 40 * 24 * 60)).map(
    lambda p: (p[0], p[0] + timedelta(minutes=p[1]))
)


def _assert_well_formed(shifts: list[Shift], start: datetime, end: datetime) -> None:
    for shift in shifts:
        assert start <= shift.start < shift.end <= end
    for before, after in itertools.pairwise(shifts):
        assert before.end <= after.start


@settings(max_examples=150, deadline=None)
@given(schedules(covered=True), ranges)
def test_covered_schedule_has_no_gaps_or_overlaps(
    schedule: Schedule, span: tuple[datetime, datetime]
) -> None:
    start, end = span
    final = schedule.final(start, end)
    _assert_well_formed(final, start, end)
    assert final[0].start == start
    assert final[-1].end == end
    assert all(a.end == b.start for a, b in itertools.pairwise(final))
    assert schedule.gaps(start, end) == []


@settings(max_examples=150, deadline=None)
@given(schedules(covered=False), ranges)
def test_oncall_at_agrees_with_the_final_schedule(
    schedule: Schedule, span: tuple[datetime, datetime]
) -> None:
    start, end = span
    final = schedule.final(start, end)
    _assert_well_formed(final, start, end)
    for shift in final:
        for instant in (shift.start, shift.start + (shift.end - shift.start) / 2, shift.end - US):
            got = schedule.oncall_at(instant)
            assert got is not None
            assert (got.user_id, got.source, got.layer, got.ref) == (
                shift.user_id,
                shift.source,
                shift.layer,
                shift.ref,
            )
    for gap in complement(final, start, end):
        assert schedule.oncall_at(gap.start) is None
        assert schedule.oncall_at(gap.end - US) is None


@settings(max_examples=100, deadline=None)
@given(schedules(covered=False), ranges)
def test_overrides_always_win(schedule: Schedule, span: tuple[datetime, datetime]) -> None:
    start, end = span
    final = schedule.final(start, end)
    for override in schedule.overrides:
        lo, hi = max(override.start, start), min(override.end, end)
        if lo >= hi:
            continue
        covering = [s for s in final if s.start < hi and s.end > lo]
        assert covering[0].start <= lo
        assert covering[-1].end >= hi
        assert all(s.source is Source.OVERRIDE for s in covering)
        assert all(a.end == b.start for a, b in itertools.pairwise(covering))


@settings(max_examples=100, deadline=None)
@given(schedules(covered=False), ranges)
def test_layer_shifts_are_positive_sorted_and_inside_the_range(
    schedule: Schedule, span: tuple[datetime, datetime]
) -> None:
    start, end = span
    for shifts in schedule.layer_shifts(start, end).values():
        _assert_well_formed(shifts, start, end)


@settings(max_examples=60, deadline=None)
@given(schedules(covered=False), ranges, st.integers(1, 20 * 24 * 60))
def test_splitting_the_range_does_not_change_the_answer(
    schedule: Schedule, span: tuple[datetime, datetime], cut_minutes: int
) -> None:
    start, end = span
    middle = min(start + timedelta(minutes=cut_minutes), end)
    whole = [(s.start, s.end, s.user_id) for s in schedule.final(start, end)]
    parts = schedule.final(start, middle) + schedule.final(middle, end)
    joined: list[tuple[datetime, datetime, int]] = []
    for s in parts:
        if joined and joined[-1][1] == s.start and joined[-1][2] == s.user_id:
            joined[-1] = (joined[-1][0], s.end, s.user_id)
        else:
            joined.append((s.start, s.end, s.user_id))
    merged_whole: list[tuple[datetime, datetime, int]] = []
    for item in whole:
        if merged_whole and merged_whole[-1][1] == item[0] and merged_whole[-1][2] == item[2]:
            merged_whole[-1] = (merged_whole[-1][0], item[1], item[2])
        else:
            merged_whole.append(item)
    assert joined == merged_whole

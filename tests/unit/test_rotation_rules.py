"""RRULE cadences, precedence and edge cases of the pure computation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.schedules.cadence import InvalidRule, parse_rule
from backend.schedules.rotation import (
    Interval,
    LayerSpec,
    Override,
    Schedule,
    Source,
    Swap,
    Window,
    merge,
)
from backend.schedules.wallclock import zone_or_none

RULES = [
    "FREQ=DAILY",
    "FREQ=DAILY;INTERVAL=2",
    "FREQ=DAILY;INTERVAL=3;BYDAY=MO,WE,FR",
    "FREQ=WEEKLY",
    "RRULE:FREQ=WEEKLY;INTERVAL=3",
    "FREQ=WEEKLY;BYDAY=MO,TH",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SA;WKST=SU",
    "freq=weekly;byday=fr",
    "FREQ=MONTHLY;INTERVAL=2",
]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(RULES),
    st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1)).filter(lambda d: d.day <= 28),
    st.integers(0, 120),
)
def test_cadence_matches_dateutil_enumeration(rule: str, anchor: datetime, k: int) -> None:
    anchor = anchor.replace(second=0, microsecond=0)
    cadence = parse_rule(rule, anchor)
    body = rule.removeprefix("RRULE:")
    expected = list(rrulestr(body.upper(), dtstart=anchor).xafter(anchor, count=k + 1, inc=True))
    assert cadence.wall_of(k) == expected[k]
    assert cadence.index_at(expected[k]) == k
    assert cadence.index_at(expected[k] - timedelta(microseconds=1)) == k - 1


@pytest.mark.parametrize(
    ("_case", "text"),
    [
        ("count", "FREQ=DAILY;COUNT=3"),
        ("until", "FREQ=DAILY;UNTIL=20250101T000000Z"),
        ("hourly", "FREQ=HOURLY"),
        ("byhour", "FREQ=DAILY;BYHOUR=9"),
        ("no freq", "INTERVAL=2"),
        ("zero interval", "FREQ=DAILY;INTERVAL=0"),
        ("text interval", "FREQ=DAILY;INTERVAL=two"),
        ("ordinal byday", "FREQ=WEEKLY;BYDAY=1MO"),
        ("monthly byday", "FREQ=MONTHLY;BYDAY=MO"),
        ("bad wkst", "FREQ=WEEKLY;WKST=XX"),
        ("not name=value", "FREQ"),
        ("twice", "FREQ=DAILY;FREQ=WEEKLY"),
        ("garbage", "hello world"),
    ],
)
def test_unsupported_rules_are_refused(_case: str, text: str) -> None:
    with pytest.raises(InvalidRule):
        parse_rule(text, datetime(2024, 1, 1, 9))


def test_monthly_rotation_must_start_on_a_day_every_month_has() -> None:
    with pytest.raises(InvalidRule):
        parse_rule("FREQ=MONTHLY", datetime(2024, 1, 31, 9))


def test_zone_names() -> None:
    assert zone_or_none("Europe/Berlin") is not None
    assert zone_or_none("Mars/Olympus_Mons") is None
    assert zone_or_none("../etc/passwd") is None
    assert zone_or_none("") is None


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2024, 6, day, hour, tzinfo=UTC)


def spec(key: int, priority: int, users: tuple[int, ...], **kwargs: object) -> LayerSpec:
    return LayerSpec(
        key,
        f"layer {key}",
        priority,
        users,
        "FREQ=DAILY",
        time(0),
        date(2024, 6, 1),
        **kwargs,  # type: ignore[arg-type]
    )


def test_precedence_override_then_priority_then_swap() -> None:
    weekdays = Window(frozenset(range(5)), time(9), time(17))
    schedule = Schedule(
        "UTC",
        [spec(1, 0, (1, 2)), spec(2, 5, (3,), restrictions=(weekdays,))],
        overrides=[Override(at(3, 10), at(3, 12), 9, key=70)],
        swaps=[Swap(at(4, 0), at(5, 0), 3, 4, key=80)],
    )
    # Monday 3 June: 09-17 layer 2 (user 3) over layer 1; 10-12 the override.
    final = schedule.final(at(3), at(4))
    assert [(s.start.hour, s.end.hour or 24, s.user_id, s.source) for s in final] == [
        (0, 9, 1, Source.LAYER),
        (9, 10, 3, Source.LAYER),
        (10, 12, 9, Source.OVERRIDE),
        (12, 17, 3, Source.LAYER),
        (17, 24, 1, Source.LAYER),
    ]
    # Tuesday: user 3's layer time goes to user 4 through the swap; layer 1 is untouched.
    tuesday = schedule.final(at(4), at(5))
    assert [(s.start.hour, s.user_id, s.source, s.ref) for s in tuesday] == [
        (0, 2, Source.LAYER, None),
        (9, 4, Source.SWAP, 80),
        (17, 2, Source.LAYER, None),
    ]
    assert schedule.oncall_at(at(4, 10)) is not None
    assert schedule.oncall_at(at(4, 10)).user_id == 4  # type: ignore[union-attr]


def test_before_the_rotation_starts_nobody_is_on_call_and_gaps_say_so() -> None:
    schedule = Schedule("UTC", [spec(1, 0, (1,))])
    assert schedule.oncall_at(at(1) - timedelta(microseconds=1)) is None
    assert schedule.gaps(datetime(2024, 5, 31, tzinfo=UTC), at(2)) == [
        Interval(datetime(2024, 5, 31, tzinfo=UTC), at(1))
    ]
    assert schedule.final(at(2), at(2)) == []


def test_empty_layer_and_equal_priorities() -> None:
    schedule = Schedule("UTC", [spec(1, 0, ()), spec(2, 1, (5,)), spec(3, 1, (6,))])
    # Equal priority: the layer given last wins; an empty layer never covers.
    assert schedule.oncall_at(at(2)).user_id == 6  # type: ignore[union-attr]
    assert schedule.layer_shifts(at(2), at(3))[1] == []


def test_merge_joins_touching_and_overlapping_intervals() -> None:
    items = [Interval(at(3), at(4)), Interval(at(1), at(2)), Interval(at(2), at(3, 5))]
    assert merge(items) == [Interval(at(1), at(4))]
    assert merge([Interval(at(1), at(5)), Interval(at(2), at(3))]) == [Interval(at(1), at(5))]

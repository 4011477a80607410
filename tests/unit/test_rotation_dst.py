"""DST vectors (SCHED-05): handoffs and restrictions on transition days, worked out by hand.

Rules under test (backend/schedules/wallclock.py): a wall time skipped by spring-forward
resolves to the first instant after the gap; a repeated wall time to its first occurrence.
Expected instants are written in UTC from the published transition times:

* America/New_York 2024: 03-10 02:00 EST→03:00 EDT (07:00Z); 11-03 02:00 EDT→01:00 EST (06:00Z)
* Europe/Berlin 2024: 03-31 02:00 CET→03:00 CEST (01:00Z); 10-27 03:00 CEST→02:00 CET (01:00Z)
* Australia/Sydney 2024: 04-07 03:00 AEDT→02:00 AEST (16:00Z on 04-06);
  10-06 02:00 AEST→03:00 AEDT (16:00Z on 10-05)
* Australia/Lord_Howe 2024 (30-minute DST, +11 ↔ +10:30): 04-07 02:00→01:30 (15:00Z on 04-06);
  10-06 02:00→02:30 (15:30Z on 10-05)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.schedules.rotation import LayerSpec, Schedule, Window
from backend.schedules.wallclock import to_utc


def z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.mark.parametrize(
    ("_case", "zone", "wall", "expected"),
    [
        ("ny skipped", "America/New_York", "2024-03-10T02:30", "2024-03-10T07:00Z"),
        ("ny gap start", "America/New_York", "2024-03-10T02:00", "2024-03-10T07:00Z"),
        ("ny after gap", "America/New_York", "2024-03-10T03:00", "2024-03-10T07:00Z"),
        ("ny repeated", "America/New_York", "2024-11-03T01:30", "2024-11-03T05:30Z"),
        ("ny after repeat", "America/New_York", "2024-11-03T02:00", "2024-11-03T07:00Z"),
        ("berlin skipped", "Europe/Berlin", "2024-03-31T02:30", "2024-03-31T01:00Z"),
        ("berlin repeated", "Europe/Berlin", "2024-10-27T02:30", "2024-10-27T00:30Z"),
        ("sydney skipped", "Australia/Sydney", "2024-10-06T02:30", "2024-10-05T16:00Z"),
        ("sydney repeated", "Australia/Sydney", "2024-04-07T02:30", "2024-04-06T15:30Z"),
        ("lord howe skipped", "Australia/Lord_Howe", "2024-10-06T02:15", "2024-10-05T15:30Z"),
        ("lord howe repeated", "Australia/Lord_Howe", "2024-04-07T01:45", "2024-04-06T14:45Z"),
        ("lord howe plain", "Australia/Lord_Howe", "2024-04-07T02:00", "2024-04-06T15:30Z"),
    ],
)
def test_wall_time_resolution(_case: str, zone: str, wall: str, expected: str) -> None:
    assert to_utc(datetime.fromisoformat(wall), ZoneInfo(zone)) == z(expected)


def layer(rule: str, handoff: time, starts_on: date, **kwargs: object) -> LayerSpec:
    return LayerSpec(
        key=1,
        name="primary",
        priority=0,
        participants=(1, 2, 3),
        rrule=rule,
        handoff=handoff,
        starts_on=starts_on,
        **kwargs,  # type: ignore[arg-type]
    )


# (case, zone, rule, handoff, rotation start, window, expected [start, end, user] of each shift)
ROTATION_VECTORS = [
    (
        "ny daily inside skipped hour",
        "America/New_York",
        "FREQ=DAILY",
        time(2, 30),
        date(2024, 3, 9),
        ("2024-03-09T00:00Z", "2024-03-12T00:00Z"),
        [
            ("2024-03-09T00:00Z", "2024-03-09T07:30Z", None),
            ("2024-03-09T07:30Z", "2024-03-10T07:00Z", 1),  # 23.5 h: the day lost an hour
            ("2024-03-10T07:00Z", "2024-03-11T06:30Z", 2),
            ("2024-03-11T06:30Z", "2024-03-12T00:00Z", 3),
        ],
    ),
    (
        "ny daily inside repeated hour",
        "America/New_York",
        "FREQ=DAILY",
        time(1, 30),
        date(2024, 11, 2),
        ("2024-11-02T05:30Z", "2024-11-05T06:30Z"),
        [
            ("2024-11-02T05:30Z", "2024-11-03T05:30Z", 1),  # first 01:30 (EDT)
            ("2024-11-03T05:30Z", "2024-11-04T06:30Z", 2),  # 25 h
            ("2024-11-04T06:30Z", "2024-11-05T06:30Z", 3),
        ],
    ),
    (
        "berlin weekly on sunday in skipped hour",
        "Europe/Berlin",
        "FREQ=WEEKLY",
        time(2, 30),
        date(2024, 3, 24),
        ("2024-03-24T01:30Z", "2024-04-07T00:30Z"),
        [
            ("2024-03-24T01:30Z", "2024-03-31T01:00Z", 1),  # 167.5 h
            ("2024-03-31T01:00Z", "2024-04-07T00:30Z", 2),  # 167.5 h
        ],
    ),
    (
        "berlin weekly on sunday in repeated hour",
        "Europe/Berlin",
        "FREQ=WEEKLY",
        time(2, 30),
        date(2024, 10, 20),
        ("2024-10-20T00:30Z", "2024-11-03T01:30Z"),
        [
            ("2024-10-20T00:30Z", "2024-10-27T00:30Z", 1),
            ("2024-10-27T00:30Z", "2024-11-03T01:30Z", 2),  # 169 h
        ],
    ),
    (
        "sydney daily across both transitions' skipped hour",
        "Australia/Sydney",
        "FREQ=DAILY",
        time(2, 30),
        date(2024, 10, 5),
        ("2024-10-04T16:30Z", "2024-10-06T15:30Z"),
        [
            ("2024-10-04T16:30Z", "2024-10-05T16:00Z", 1),
            ("2024-10-05T16:00Z", "2024-10-06T15:30Z", 2),
        ],
    ),
    (
        "sydney two handoffs a week over fall back",
        "Australia/Sydney",
        "FREQ=WEEKLY;BYDAY=SU,WE",
        time(2, 30),
        date(2024, 4, 3),
        ("2024-04-02T15:30Z", "2024-04-09T16:30Z"),
        [
            ("2024-04-02T15:30Z", "2024-04-06T15:30Z", 1),  # Wed → Sun (first 02:30, AEDT)
            ("2024-04-06T15:30Z", "2024-04-09T16:30Z", 2),  # Sun → Wed (AEST)
        ],
    ),
    (
        "lord howe daily half-hour gap",
        "Australia/Lord_Howe",
        "FREQ=DAILY",
        time(2, 15),
        date(2024, 10, 5),
        ("2024-10-04T15:45Z", "2024-10-06T15:15Z"),
        [
            ("2024-10-04T15:45Z", "2024-10-05T15:30Z", 1),  # 23.75 h
            ("2024-10-05T15:30Z", "2024-10-06T15:15Z", 2),
        ],
    ),
    (
        "lord howe daily half-hour repeat",
        "Australia/Lord_Howe",
        "FREQ=DAILY",
        time(1, 45),
        date(2024, 4, 6),
        ("2024-04-05T14:45Z", "2024-04-07T15:15Z"),
        [
            ("2024-04-05T14:45Z", "2024-04-06T14:45Z", 1),
            ("2024-04-06T14:45Z", "2024-04-07T15:15Z", 2),  # 24.5 h
        ],
    ),
]


@pytest.mark.parametrize(
    ("_case", "zone", "rule", "handoff", "starts_on", "span", "expected"), ROTATION_VECTORS
)
def test_rotation_shifts_and_oncall_at_every_handoff(
    _case: str,
    zone: str,
    rule: str,
    handoff: time,
    starts_on: date,
    span: tuple[str, str],
    expected: list[tuple[str, str, int | None]],
) -> None:
    schedule = Schedule(zone, [layer(rule, handoff, starts_on)])
    final = schedule.final(z(span[0]), z(span[1]))
    assert [(s.start, s.end, s.user_id) for s in final] == [
        (z(a), z(b), user) for a, b, user in expected if user is not None
    ]
    for start, end, user in expected:
        got = schedule.oncall_at(z(start))
        assert (got.user_id if got else None) == user
        last = schedule.oncall_at(z(end) - timedelta(microseconds=1))
        assert (last.user_id if last else None) == user


EVERY_DAY = frozenset(range(7))

# (case, zone, window, span, expected open windows)
RESTRICTION_VECTORS = [
    (
        "ny overnight window over spring forward is 7 h",
        "America/New_York",
        Window(EVERY_DAY, time(22, 0), time(6, 0)),
        ("2024-03-10T00:00Z", "2024-03-10T12:00Z"),
        [("2024-03-10T03:00Z", "2024-03-10T10:00Z")],
    ),
    (
        "ny overnight window over fall back is 9 h",
        "America/New_York",
        Window(EVERY_DAY, time(22, 0), time(6, 0)),
        ("2024-11-03T00:00Z", "2024-11-03T12:00Z"),
        [("2024-11-03T02:00Z", "2024-11-03T11:00Z")],
    ),
    (
        "ny window entirely in the skipped hour is empty",
        "America/New_York",
        Window(frozenset({6}), time(2, 0), time(2, 45)),
        ("2024-03-10T00:00Z", "2024-03-11T00:00Z"),
        [],
    ),
    (
        "ny window over the repeated hour spans both passes",
        "America/New_York",
        Window(frozenset({6}), time(1, 0), time(2, 0)),
        ("2024-11-03T00:00Z", "2024-11-04T00:00Z"),
        [("2024-11-03T05:00Z", "2024-11-03T07:00Z")],
    ),
    (
        "berlin whole sunday on the 23 h day",
        "Europe/Berlin",
        Window(frozenset({6}), time(0, 0), time(0, 0)),
        ("2024-03-30T00:00Z", "2024-04-02T00:00Z"),
        [("2024-03-30T23:00Z", "2024-03-31T22:00Z")],
    ),
    (
        "sydney weekend window over the 25 h sunday",
        "Australia/Sydney",
        Window(frozenset({5, 6}), time(0, 0), time(0, 0)),
        ("2024-04-05T00:00Z", "2024-04-08T00:00Z"),
        [("2024-04-05T13:00Z", "2024-04-07T14:00Z")],
    ),
    (
        "lord howe night window over the half-hour gap",
        "Australia/Lord_Howe",
        Window(EVERY_DAY, time(1, 0), time(3, 0)),
        ("2024-10-05T12:00Z", "2024-10-05T18:00Z"),
        [("2024-10-05T14:30Z", "2024-10-05T16:00Z")],
    ),
]


@pytest.mark.parametrize(("_case", "zone", "window", "span", "expected"), RESTRICTION_VECTORS)
def test_restriction_windows_straddling_transitions(
    _case: str,
    zone: str,
    window: Window,
    span: tuple[str, str],
    expected: list[tuple[str, str]],
) -> None:
    spec = LayerSpec(1, "nights", 0, (7,), "FREQ=WEEKLY", time(9), date(2024, 1, 1), (window,))
    schedule = Schedule(zone, [spec])
    final = schedule.final(z(span[0]), z(span[1]))
    assert [(s.start, s.end, s.user_id) for s in final] == [(z(a), z(b), 7) for a, b in expected]
    for a, b in expected:
        assert schedule.oncall_at(z(a) - timedelta(microseconds=1)) is None
        assert schedule.oncall_at(z(a)) is not None
        assert schedule.oncall_at(z(b) - timedelta(microseconds=1)) is not None
        assert schedule.oncall_at(z(b)) is None

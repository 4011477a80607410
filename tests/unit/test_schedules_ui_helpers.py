"""The schedule pages' pure helpers: the window and day ticks across DST, bar positions, gaps,
hover titles in both zones, the editor's draft ⇄ RRULE mapping and the live preview."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from backend.schedules.rotation import Source
from backend.schedules.schemas import (
    GapOut,
    LayerOut,
    LayerRow,
    OverrideOut,
    ShiftOut,
    Timeline,
    WindowOut,
)
from oncall_app.state.schedules_view import (
    LayerDraft,
    RestrictionDraft,
    draft_of,
    payload_of,
    preview,
    rows_of,
    rule_of,
    ticks,
    window,
)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_window_and_ticks_follow_the_viewers_midnights_across_spring_forward() -> None:
    start, end = window(date(2026, 3, 28), 2, "Europe/Berlin")
    assert (start, end) == (_utc(2026, 3, 27, 23), _utc(2026, 3, 29, 22))
    marks = ticks(start, end, "Europe/Berlin")
    # 47 hours: the first day is 24 h, the second (the 29th, clocks go forward) 23 h.
    assert [(t.label, t.left) for t in marks] == [("Sat 28", "0.0000%"), ("Sun 29", "51.0638%")]


def _shift(user: int, name: str, a: datetime, b: datetime, source: Source = Source.LAYER):
    return ShiftOut(start=a, end=b, user_id=user, user_name=name, source=source, layer_id=1)


def test_rows_position_bars_flag_gaps_and_title_both_zones() -> None:
    start, end = _utc(2026, 1, 5), _utc(2026, 1, 6)
    ann = _shift(1, "Ann", _utc(2026, 1, 5, 0), _utc(2026, 1, 5, 12))
    cover = _shift(2, "Bo", _utc(2026, 1, 5, 12), _utc(2026, 1, 5, 18), Source.OVERRIDE)
    timeline = Timeline(
        schedule_id=7,
        time_zone="America/New_York",
        start=start,
        end=end,
        layers=[LayerRow(layer_id=1, name="Primary", priority=0, shifts=[ann])],
        final=[ann, cover],
        gaps=[GapOut(start=_utc(2026, 1, 5, 18), end=end)],
    )
    rows = rows_of(timeline, "Europe/Berlin")
    assert [(r.key, r.caption) for r in rows] == [
        ("layer-1", "priority 0"),
        ("final", "1 gap(s)"),
    ]
    final = rows[1].bars
    assert [(b.kind, b.left, b.width, b.label) for b in final] == [
        ("layer", "0.0000%", "50.0000%", "Ann"),
        ("override", "50.0000%", "25.0000%", "Bo (override)"),
        ("gap", "75.0000%", "25.0000%", "gap"),
    ]
    assert final[1].title == (
        "Bo (override): Mon 05 Jan 13:00 → Mon 05 Jan 19:00 (Europe/Berlin) · "
        "Mon 05 Jan 07:00 → Mon 05 Jan 13:00 (America/New_York)"
    )
    assert "dashed" in final[1].border
    assert final[2].title.startswith("Nobody on call: ")


def _layer(**changes: object) -> LayerOut:
    base: dict[str, object] = {
        "id": 3,
        "schedule_id": 7,
        "name": "Day",
        "priority": 1,
        "participants": [1, 2],
        "rrule": "FREQ=DAILY;INTERVAL=2",
        "handoff_time": time(8),
        "starts_on": date(2026, 1, 5),
        "restrictions": [WindowOut(days=[0, 1], start=time(8), end=time(20))],
    }
    return LayerOut.model_validate(base | changes)


@pytest.mark.parametrize(
    ("_case", "rrule", "kind", "interval"),
    [
        ("daily every other day", "FREQ=DAILY;INTERVAL=2", "daily", "2"),
        ("weekly", "FREQ=WEEKLY", "weekly", "1"),
        ("twice a week is custom", "FREQ=WEEKLY;BYDAY=MO,TH", "custom", "1"),
    ],
)
def test_draft_round_trips_the_rule(_case: str, rrule: str, kind: str, interval: str) -> None:
    draft = draft_of(_layer(rrule=rrule))
    assert (draft.kind, draft.interval) == (kind, interval)
    assert rule_of(draft) == rrule
    assert payload_of(draft) == {
        "name": "Day",
        "priority": "1",
        "participants": [1, 2],
        "handoff_time": "08:00",
        "starts_on": "2026-01-05",
        "rrule": rrule,
        "restrictions": [{"days": [0, 1], "start": "08:00", "end": "20:00"}],
    }


def test_new_draft_defaults() -> None:
    draft = LayerDraft(starts_on="2026-01-05", kind="daily", interval="3")
    assert rule_of(draft) == "FREQ=DAILY;INTERVAL=3"
    assert RestrictionDraft().days == [0, 1, 2, 3, 4]


def test_preview_replaces_the_edited_layer_and_keeps_overrides() -> None:
    start, end = _utc(2026, 1, 5), _utc(2026, 1, 7)
    saved = _layer(restrictions=[], rrule="FREQ=DAILY", participants=[1])
    edited = _layer(restrictions=[], rrule="FREQ=DAILY", participants=[2])
    cover = OverrideOut(
        id=9,
        schedule_id=7,
        user_id=5,
        start=_utc(2026, 1, 6, 0),
        end=_utc(2026, 1, 6, 6),
        reason="",
        created_by_label="x",
    )
    names = {1: "Ann", 2: "Bo", 5: "Cy"}
    timeline = preview("UTC", [saved], edited, [cover], [], start, end, names)
    assert [row.name for row in timeline.layers] == ["Day (draft)"]
    assert [(s.user_name, s.start, s.end) for s in timeline.final] == [
        ("Bo", _utc(2026, 1, 5, 8), _utc(2026, 1, 6, 0)),
        ("Cy", _utc(2026, 1, 6, 0), _utc(2026, 1, 6, 6)),
        ("Bo", _utc(2026, 1, 6, 6), end),
    ]
    assert [(g.start, g.end) for g in timeline.gaps] == [(start, _utc(2026, 1, 5, 8))]

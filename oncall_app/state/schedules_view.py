"""Pure helpers for the schedule pages: the timeline drawing, time formatting in the viewer's
zone, and the layer editor's draft ⇄ RRULE mapping. No I/O, no clock (``now`` is passed in).

The timeline is drawn with plain boxes positioned by percentage of the window: each bar's
``left``/``width`` are computed here from UTC instants, so a 23- or 25-hour day on a DST
transition is drawn at its true length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from backend.schedules.rotation import LayerSpec, Override, Shift, Source, Swap, Window, complement
from backend.schedules.rotation import Schedule as Engine
from backend.schedules.schemas import (
    GapOut,
    LayerOut,
    LayerRow,
    OverrideOut,
    ShiftOut,
    SwapOut,
    Timeline,
)
from backend.schedules.wallclock import to_utc, zone_or_none

PALETTE = ("blue", "green", "violet", "orange", "cyan", "pink", "teal", "indigo", "brown", "plum")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
GAP_BACKGROUND = (
    "repeating-linear-gradient(45deg, var(--red-4), var(--red-4) 6px, var(--red-6) 6px, "
    "var(--red-6) 12px)"
)
_SIMPLE_RULE = re.compile(r"^FREQ=(DAILY|WEEKLY)(?:;INTERVAL=(\d+))?$")
PREVIEW_KEY = -1


class Bar(BaseModel):
    """One box on a timeline row."""

    left: str
    width: str
    label: str
    title: str
    kind: str  # layer, override, swap, gap
    background: str
    border: str


class Row(BaseModel):
    key: str
    name: str
    caption: str
    bars: list[Bar]


class Tick(BaseModel):
    left: str
    label: str


class ShiftLine(BaseModel):
    """A final shift for lists: times in the viewer's zone, the schedule's on hover."""

    start: str  # UTC ISO, for commands
    end: str
    user_id: int
    user_name: str
    source: str
    when: str
    when_schedule: str
    mine: bool
    upcoming: bool


class RestrictionDraft(BaseModel):
    days: list[int] = [0, 1, 2, 3, 4]
    start: str = "09:00"
    end: str = "17:00"


class LayerDraft(BaseModel):
    """The editor's fields, as the browser holds them (strings where the inputs are text)."""

    layer_id: int = 0  # 0: a new layer
    name: str = ""
    priority: str = "0"
    participants: list[int] = []
    kind: str = "weekly"  # daily, weekly, custom
    interval: str = "1"
    custom_rule: str = "FREQ=WEEKLY;BYDAY=MO"
    handoff: str = "09:00"
    starts_on: str = ""
    restrictions: list[RestrictionDraft] = []


# ---- formatting --------------------------------------------------------------------------
def zone(name: str) -> ZoneInfo:
    return zone_or_none(name) or ZoneInfo("UTC")


def fmt(instant: datetime, tz: ZoneInfo) -> str:
    """``Mon 09 Mar 09:00`` in ``tz``."""
    local = instant.astimezone(tz)
    return f"{DAYS[local.weekday()]} {local:%d %b %H:%M}"


def span(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    return f"{fmt(start, tz)} → {fmt(end, tz)}"


def color_of(user_id: int) -> str:
    return PALETTE[user_id % len(PALETTE)]


# ---- the window --------------------------------------------------------------------------
def window(day: date, days: int, viewer_zone: str) -> tuple[datetime, datetime]:
    """``days`` whole days from midnight of ``day`` in the viewer's zone, as UTC instants."""
    tz = zone(viewer_zone)
    start = to_utc(datetime.combine(day, time()), tz)
    end = to_utc(datetime.combine(day + timedelta(days=days), time()), tz)
    return start, end


def ticks(start: datetime, end: datetime, viewer_zone: str) -> list[Tick]:
    """One tick per viewer-zone midnight in ``[start, end)``."""
    tz = zone(viewer_zone)
    day = start.astimezone(tz).date()
    out: list[Tick] = []
    while True:
        at = to_utc(datetime.combine(day, time()), tz)
        if at >= end:
            return out
        if at >= start:
            local = at.astimezone(tz)
            out.append(
                Tick(left=_pct(at, start, end), label=f"{DAYS[local.weekday()]} {local.day}")
            )
        day += timedelta(days=1)


def _pct(at: datetime, start: datetime, end: datetime) -> str:
    total = (end - start).total_seconds()
    return f"{max(0.0, min(100.0, (at - start).total_seconds() * 100 / total)):.4f}%"


def _width(a: datetime, b: datetime, start: datetime, end: datetime) -> str:
    total = (end - start).total_seconds()
    return f"{(min(b, end) - max(a, start)).total_seconds() * 100 / total:.4f}%"


# ---- bars --------------------------------------------------------------------------------
def shift_bar(
    shift: ShiftOut, start: datetime, end: datetime, viewer_zone: str, schedule_zone: str
) -> Bar:
    scheme = color_of(shift.user_id)
    suffix = {Source.OVERRIDE: " (override)", Source.SWAP: " (swap)"}.get(shift.source, "")
    title = (
        f"{shift.user_name}{suffix}: {span(shift.start, shift.end, zone(viewer_zone))} "
        f"({viewer_zone}) · {span(shift.start, shift.end, zone(schedule_zone))} "
        f"({schedule_zone})"
    )
    dashed = shift.source is not Source.LAYER
    return Bar(
        left=_pct(shift.start, start, end),
        width=_width(shift.start, shift.end, start, end),
        label=shift.user_name + suffix,
        title=title,
        kind=str(shift.source),
        background=f"var(--{scheme}-{5 if dashed else 4})",
        border=f"1px {'dashed' if dashed else 'solid'} var(--{scheme}-{10 if dashed else 8})",
    )


def gap_bar(
    gap: GapOut, start: datetime, end: datetime, viewer_zone: str, schedule_zone: str
) -> Bar:
    title = (
        f"Nobody on call: {span(gap.start, gap.end, zone(viewer_zone))} ({viewer_zone}) · "
        f"{span(gap.start, gap.end, zone(schedule_zone))} ({schedule_zone})"
    )
    return Bar(
        left=_pct(gap.start, start, end),
        width=_width(gap.start, gap.end, start, end),
        label="gap",
        title=title,
        kind="gap",
        background=GAP_BACKGROUND,
        border="1px solid var(--red-9)",
    )


def rows_of(timeline: Timeline, viewer_zone: str) -> list[Row]:
    """The layer rows (highest precedence first), then the final row with its gaps."""
    s, e, tz = timeline.start, timeline.end, timeline.time_zone
    rows = [
        Row(
            key=f"layer-{layer.layer_id}",
            name=layer.name,
            caption=f"priority {layer.priority}",
            bars=[shift_bar(x, s, e, viewer_zone, tz) for x in layer.shifts],
        )
        for layer in timeline.layers
    ]
    final = [shift_bar(x, s, e, viewer_zone, tz) for x in timeline.final]
    final += [gap_bar(g, s, e, viewer_zone, tz) for g in timeline.gaps]
    caption = f"{len(timeline.gaps)} gap(s)" if timeline.gaps else "fully covered"
    rows.append(Row(key="final", name="Final schedule", caption=caption, bars=final))
    return rows


def shift_lines(
    shifts: Iterable[ShiftOut], viewer_zone: str, schedule_zone: str, me: int, now: datetime
) -> list[ShiftLine]:
    return [
        ShiftLine(
            start=x.start.isoformat(),
            end=x.end.isoformat(),
            user_id=x.user_id,
            user_name=x.user_name,
            source=str(x.source),
            when=span(x.start, x.end, zone(viewer_zone)),
            when_schedule=f"{span(x.start, x.end, zone(schedule_zone))} ({schedule_zone})",
            mine=x.user_id == me,
            upcoming=x.start > now,
        )
        for x in shifts
    ]


# ---- the layer editor --------------------------------------------------------------------
def rule_of(draft: LayerDraft) -> str:
    if draft.kind == "custom":
        return draft.custom_rule.strip().upper()
    interval = draft.interval.strip() or "1"
    freq = "DAILY" if draft.kind == "daily" else "WEEKLY"
    return f"FREQ={freq}" if interval == "1" else f"FREQ={freq};INTERVAL={interval}"


def draft_of(layer: LayerOut) -> LayerDraft:
    match = _SIMPLE_RULE.match(layer.rrule)
    kind, interval = ("custom", "1")
    if match:
        kind, interval = match.group(1).lower(), match.group(2) or "1"
    return LayerDraft(
        layer_id=layer.id,
        name=layer.name,
        priority=str(layer.priority),
        participants=list(layer.participants),
        kind=kind,
        interval=interval,
        custom_rule=layer.rrule,
        handoff=layer.handoff_time.strftime("%H:%M"),
        starts_on=layer.starts_on.isoformat(),
        restrictions=[
            RestrictionDraft(
                days=list(w.days), start=w.start.strftime("%H:%M"), end=w.end.strftime("%H:%M")
            )
            for w in layer.restrictions
        ],
    )


def payload_of(draft: LayerDraft) -> dict[str, object]:
    """The draft as the body of ``LayerCreate``/``LayerUpdate`` (validated by the schema)."""
    return {
        "name": draft.name,
        "priority": draft.priority.strip() or "0",
        "participants": list(draft.participants),
        "handoff_time": draft.handoff or "09:00",
        "starts_on": draft.starts_on,
        "rrule": rule_of(draft),
        "restrictions": [r.model_dump() for r in draft.restrictions],
    }


def spec_of(layer: LayerOut, key: int | None = None) -> LayerSpec:
    return LayerSpec(
        key=layer.id if key is None else key,
        name=layer.name,
        priority=layer.priority,
        participants=tuple(layer.participants),
        rrule=layer.rrule,
        handoff=layer.handoff_time,
        starts_on=layer.starts_on,
        restrictions=tuple(Window(frozenset(w.days), w.start, w.end) for w in layer.restrictions),
    )


def preview(
    schedule_zone: str,
    layers: Sequence[LayerOut],
    draft: LayerOut,
    overrides: Sequence[OverrideOut],
    swaps: Sequence[SwapOut],
    start: datetime,
    end: datetime,
    names: dict[int, str],
) -> Timeline:
    """The timeline as it would be with ``draft`` saved (replacing the layer it edits)."""
    specs = [spec_of(layer) for layer in layers if layer.id != draft.id]
    specs.append(spec_of(draft, PREVIEW_KEY))
    model = Engine(
        schedule_zone,
        specs,
        [Override(o.start, o.end, o.user_id, o.id) for o in overrides],
        [Swap(s.start, s.end, s.requester_id, s.counterpart_id, s.id) for s in swaps],
    )
    final = model.final(start, end)
    draft_row = model.layer_shifts(start, end)[PREVIEW_KEY]

    def out(shift: Shift) -> ShiftOut:
        return ShiftOut(
            start=shift.start,
            end=shift.end,
            user_id=shift.user_id,
            user_name=names.get(shift.user_id, f"user {shift.user_id}"),
            source=shift.source,
            layer_id=shift.layer,
        )

    return Timeline(
        schedule_id=draft.schedule_id,
        time_zone=schedule_zone,
        start=start,
        end=end,
        layers=[
            LayerRow(
                layer_id=PREVIEW_KEY,
                name=(draft.name or "New layer") + " (draft)",
                priority=draft.priority,
                shifts=[out(x) for x in draft_row],
            )
        ],
        final=[out(x) for x in final],
        gaps=[GapOut(start=g.start, end=g.end) for g in complement(final, start, end)],
    )

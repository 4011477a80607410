"""Input and output shapes for schedules (API bodies, service arguments, UI rows).

Datetimes in are aware (``AwareDatetime``: a naive value is refused, never guessed); out they
are UTC. Wall-clock fields (handoff time, restriction windows, start date) are in the
schedule's zone.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from backend.schedules.cadence import InvalidRule, parse_rule
from backend.schedules.models import CalendarProvider, ConnectionStatus, SwapStatus
from backend.schedules.rotation import Source
from backend.schedules.wallclock import zone_or_none

MAX_LAYERS_PARTICIPANTS = 100
# A wall-clock time in the schedule's zone ("09:00:00"), never with an offset. JSON Schema's
# "time" format is RFC 3339's full-time, which requires an offset, so it is documented as a
# partial time with its pattern instead.
WallTime = Annotated[
    time,
    Field(
        json_schema_extra={
            "format": "partial-time",
            "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$",
        }
    ),
]


def check_zone(value: str) -> str:
    if zone_or_none(value) is None:
        msg = f"unknown time zone {value!r}: use an IANA name such as 'Europe/Berlin'"
        raise ValueError(msg)
    return value


def check_rule(rule: str, starts_on: date, handoff: time) -> str:
    try:
        parse_rule(rule, datetime.combine(starts_on, handoff))
    except InvalidRule as exc:
        msg = f"invalid RRULE: {exc}"
        raise ValueError(msg) from exc
    return rule


class WindowIn(BaseModel):
    """Open on ``days`` (0 = Monday … 6 = Sunday) from ``start`` to ``end`` (next day if
    ``end <= start``; ``00:00``-``00:00`` is the whole day)."""

    model_config = ConfigDict(extra="forbid")

    days: list[int] = Field(min_length=1, max_length=7)
    start: WallTime
    end: WallTime

    @field_validator("days")
    @classmethod
    def _days(cls, days: list[int]) -> list[int]:
        if any(d < 0 or d > 6 for d in days):
            msg = "days are 0 (Monday) to 6 (Sunday)"
            raise ValueError(msg)
        return sorted(set(days))


class ScheduleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    team_id: int
    name: str = Field(min_length=2, max_length=120)
    time_zone: str = Field(max_length=64)
    description: str = Field(default="", max_length=2000)

    _zone = field_validator("time_zone")(check_zone)


class ScheduleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=2, max_length=120)
    time_zone: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=2000)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)


class LayerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    priority: int = Field(default=0, ge=0, le=100)
    participants: list[int] = Field(min_length=1, max_length=MAX_LAYERS_PARTICIPANTS)
    handoff_time: WallTime = time(9, 0)
    starts_on: date
    # After the fields it depends on, so its validator sees them (and errors point at it).
    rrule: str = Field(default="FREQ=WEEKLY", max_length=200)
    restrictions: list[WindowIn] = Field(default_factory=list, max_length=14)

    @field_validator("rrule")
    @classmethod
    def _rule(cls, rule: str, info: ValidationInfo) -> str:
        starts_on, handoff = info.data.get("starts_on"), info.data.get("handoff_time")
        if starts_on is None or handoff is None:
            return rule  # their own errors are reported
        return check_rule(rule, starts_on, handoff)


class LayerUpdate(BaseModel):
    """Fields to change; the merged layer is validated again by the service."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=120)
    priority: int | None = Field(default=None, ge=0, le=100)
    participants: list[int] | None = Field(
        default=None, min_length=1, max_length=MAX_LAYERS_PARTICIPANTS
    )
    rrule: str | None = Field(default=None, max_length=200)
    handoff_time: WallTime | None = None
    starts_on: date | None = None
    restrictions: list[WindowIn] | None = Field(default=None, max_length=14)


class RangeIn(BaseModel):
    """An aware ``[start, end)``; ``end`` must be after ``start``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    start: AwareDatetime
    end: AwareDatetime

    @field_validator("end")
    @classmethod
    def _order(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and end <= start:
            msg = "end must be after start"
            raise ValueError(msg)
        return end


class OverrideCreate(RangeIn):
    """``user_id`` defaults to the acting user (overriding someone else needs TEAM_ADMIN)."""

    user_id: int | None = None
    reason: str = Field(default="", max_length=500)


class SwapCreate(RangeIn):
    """The requester (default: the acting user) hands ``[start, end)`` to ``counterpart_id``."""

    counterpart_id: int
    requester_id: int | None = None
    reason: str = Field(default="", max_length=500)


class ScheduleOut(BaseModel):
    id: int
    team_id: int
    name: str
    time_zone: str
    description: str
    created_at: datetime
    updated_at: datetime


class WindowOut(BaseModel):
    days: list[int]
    start: WallTime
    end: WallTime


class LayerOut(BaseModel):
    id: int
    schedule_id: int
    name: str
    priority: int
    participants: list[int]
    rrule: str
    handoff_time: WallTime
    starts_on: date
    restrictions: list[WindowOut]


class OverrideOut(BaseModel):
    id: int
    schedule_id: int
    user_id: int
    start: datetime
    end: datetime
    reason: str
    created_by_label: str


class SwapOut(BaseModel):
    id: int
    schedule_id: int
    requester_id: int
    counterpart_id: int
    start: datetime
    end: datetime
    status: SwapStatus
    reason: str
    decided_by_label: str | None


class ScheduleDetail(ScheduleOut):
    layers: list[LayerOut]


class ShiftOut(BaseModel):
    start: datetime
    end: datetime
    user_id: int
    user_name: str
    source: Source
    layer_id: int | None = None
    override_id: int | None = None
    swap_id: int | None = None


class GapOut(BaseModel):
    start: datetime
    end: datetime


class LayerRow(BaseModel):
    layer_id: int
    name: str
    priority: int
    shifts: list[ShiftOut]


class Timeline(BaseModel):
    """What the timeline draws for ``[start, end)``: one row per layer (highest priority
    first), the final row, and the gaps in it."""

    schedule_id: int
    time_zone: str
    start: datetime
    end: datetime
    layers: list[LayerRow]
    final: list[ShiftOut]
    gaps: list[GapOut]


class OnCallOut(BaseModel):
    """Who is on call in a schedule at ``at`` (``shift`` is None in a gap)."""

    schedule_id: int
    schedule_name: str
    team_id: int
    at: datetime
    shift: ShiftOut | None


class FeedCreated(BaseModel):
    """Shown once: the secret URL path of a new calendar feed."""

    id: int
    schedule_id: int | None
    token: str
    path: str


class FeedOut(BaseModel):
    id: int
    schedule_id: int | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ConnectionOut(BaseModel):
    id: int
    provider: CalendarProvider
    status: ConnectionStatus
    calendar_id: str
    last_synced_at: datetime | None
    last_error: str | None

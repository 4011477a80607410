"""What the schedule page shows, read in one thread hop (``load_page``), and the rows it turns
into: layer cards, overrides and swaps with the buttons the viewer's role allows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import BaseModel

from backend.core import clock
from backend.core.actor import Actor
from backend.identity import service as identity
from backend.schedules import feeds, oncall, overrides
from backend.schedules import service as schedules
from backend.schedules.models import SwapStatus
from backend.schedules.schemas import LayerOut, OverrideOut, ScheduleDetail, SwapOut, Timeline
from backend.schedules.wallclock import to_utc
from backend.teams import service as teams
from backend.teams.models import TeamRole
from backend.teams.policy import TeamAction
from oncall_app.state.schedules import FeedRow, feed_rows
from oncall_app.state.schedules_view import DAYS, span, window, zone
from oncall_app.state.services import TeamChoice

ROTATING = {TeamRole.RESPONDER, TeamRole.TEAM_ADMIN}
IN_FORCE = (SwapStatus.ACCEPTED, SwapStatus.FORCED)


class LayerCard(BaseModel):
    id: int
    name: str
    priority: int
    who: str
    rule: str
    handoff: str
    starts_on: str
    restrictions: str


class OverrideRow(BaseModel):
    id: int
    user_name: str
    when: str
    when_schedule: str
    reason: str
    can_delete: bool


class SwapRow(BaseModel):
    id: int
    requester: str
    counterpart: str
    when: str
    when_schedule: str
    status: str
    reason: str
    can_answer: bool
    can_cancel: bool
    can_force: bool


@dataclass
class Loaded:
    """Everything the page shows, read in one thread hop."""

    detail: ScheduleDetail
    team_name: str
    viewer_zone: str
    day: date
    timeline: Timeline
    overrides: list[OverrideOut]
    swaps: list[SwapOut]
    members: list[TeamChoice]
    names: dict[int, str]
    can_edit: bool
    can_respond: bool
    feeds: list[FeedRow]
    now: datetime = field(default_factory=clock.now)


def restrictions_text(layer: LayerOut) -> str:
    if not layer.restrictions:
        return "always"
    parts = []
    for w in layer.restrictions:
        days = ",".join(DAYS[d] for d in w.days)
        parts.append(f"{days} {w.start:%H:%M}-{w.end:%H:%M}")
    return "; ".join(parts)


def layer_card(layer: LayerOut, names: dict[int, str]) -> LayerCard:
    return LayerCard(
        id=layer.id,
        name=layer.name,
        priority=layer.priority,
        who=" → ".join(names.get(u, f"user {u}") for u in layer.participants),
        rule=layer.rrule,
        handoff=layer.handoff_time.strftime("%H:%M"),
        starts_on=layer.starts_on.isoformat(),
        restrictions=restrictions_text(layer),
    )


def override_row(o: OverrideOut, loaded: Loaded, me: int) -> OverrideRow:
    tz_sched = loaded.detail.time_zone
    return OverrideRow(
        id=o.id,
        user_name=loaded.names.get(o.user_id, f"user {o.user_id}"),
        when=span(o.start, o.end, zone(loaded.viewer_zone)),
        when_schedule=f"{span(o.start, o.end, zone(tz_sched))} ({tz_sched})",
        reason=o.reason,
        can_delete=loaded.can_edit or o.user_id == me,
    )


def swap_row(swap: SwapOut, loaded: Loaded, me: int) -> SwapRow:
    names, tz_view, tz_sched = loaded.names, loaded.viewer_zone, loaded.detail.time_zone
    pending = swap.status is SwapStatus.REQUESTED
    in_force = swap.status in (SwapStatus.REQUESTED, SwapStatus.ACCEPTED, SwapStatus.FORCED)
    future = swap.start > loaded.now
    return SwapRow(
        id=swap.id,
        requester=names.get(swap.requester_id, f"user {swap.requester_id}"),
        counterpart=names.get(swap.counterpart_id, f"user {swap.counterpart_id}"),
        when=span(swap.start, swap.end, zone(tz_view)),
        when_schedule=f"{span(swap.start, swap.end, zone(tz_sched))} ({tz_sched})",
        status=str(swap.status),
        reason=swap.reason,
        can_answer=pending and future and swap.counterpart_id == me,
        can_cancel=in_force and future and (swap.requester_id == me or loaded.can_edit),
        can_force=pending and future and loaded.can_edit,
    )


def load_page(actor: Actor, schedule_id: int, day: date | None, days: int) -> Loaded:
    assert actor.user_id is not None
    detail = schedules.get_schedule(actor, schedule_id)
    viewer_zone = identity.get_user(actor, actor.user_id).time_zone
    now = clock.now()
    day = day or now.astimezone(zone(viewer_zone)).date()
    start, end = window(day, days, viewer_zone)
    team = teams.get_team(actor, detail.team_id)
    members = [
        TeamChoice(id=str(m.user_id), name=m.name) for m in team.members if m.role in ROTATING
    ]
    names = {m.user_id: m.name for m in team.members}
    return Loaded(
        detail=detail,
        team_name=team.name,
        viewer_zone=viewer_zone,
        day=day,
        timeline=oncall.timeline(actor, schedule_id, start, end),
        overrides=overrides.list_overrides(actor, schedule_id, start, end),
        swaps=overrides.list_swaps(actor, schedule_id),
        members=members,
        names=names,
        can_edit=teams.can(actor, detail.team_id, TeamAction.EDIT),
        can_respond=teams.can(actor, detail.team_id, TeamAction.RESPOND),
        feeds=feed_rows(feeds.list_feeds(actor), schedule_id, viewer_zone),
        now=now,
    )


def local_instant(raw: str, viewer_zone: str) -> datetime | str:
    """A ``datetime-local`` value read in the viewer's zone, as UTC; the raw text if unusable
    (the schema then reports it)."""
    try:
        return to_utc(datetime.fromisoformat(raw), zone(viewer_zone))
    except ValueError:
        return raw

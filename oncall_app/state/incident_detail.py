"""/incidents/[incident_id]: one incident with its actions, timeline, alerts, page requests, the
delivery log (every notification of its pages with its attempts) and the service's links; live
on ``incident:<id>`` (and the service's topic, which carries alerts grouped into it and
integration resolves).

Notes arrive from the backend as markdown plus HTML rendered on write and sanitised with nh3
(``backend.incidents.timeline.render_note``); the page shows that HTML and nothing else raw.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from pydantic import BaseModel

from backend.core.actor import Actor
from backend.core.errors import DomainError, ValidationFailed
from backend.core.events import DomainEvent
from backend.escalation import outbox
from backend.incidents import queries
from backend.incidents import service as incidents
from backend.incidents.models import IncidentStatus, Priority, Severity
from backend.incidents.schemas import IncidentDetail, IncidentUpdate, TimelineEntry
from backend.notifications import queries as deliveries
from backend.notifications.schemas import NotificationOut
from backend.teams import service as teams
from backend.teams.models import TeamRole
from oncall_app import errors
from oncall_app.services import call
from oncall_app.state.incidents import describe
from oncall_app.state.integrations import Choice
from oncall_app.state.session import SessionState

SEVERITIES = [s.value for s in Severity]
PRIORITIES = [p.value for p in Priority]
# kind -> (icon, colour)
KIND_STYLE: dict[str, tuple[str, str]] = {
    "opened": ("siren", "red"),
    "alert": ("bell", "orange"),
    "escalation_started": ("list_ordered", "violet"),
    "not_escalated": ("circle_slash", "gray"),
    "page_requested": ("phone_outgoing", "blue"),
    "nobody_to_page": ("user_x", "red"),
    "escalated": ("chevrons_up", "violet"),
    "escalation_exhausted": ("octagon_alert", "red"),
    "acknowledged": ("check", "amber"),
    "resolved": ("circle_check", "green"),
    "closed": ("archive", "gray"),
    "reopened": ("rotate_ccw", "red"),
    "reassigned": ("user_round_pen", "blue"),
    "note": ("message_square_text", "cyan"),
    "edited": ("pencil", "gray"),
}


class TimelineRow(BaseModel):
    id: int
    at: str
    kind: str
    icon: str
    color: str
    actor_label: str
    summary: str
    html: str  # sanitised by the backend (notes, resolution notes); "" otherwise


class Pair(BaseModel):
    key: str
    value: str


class AlertItem(BaseModel):
    id: int
    title: str
    status: str
    severity: str
    source: str
    description: str
    labels: list[Pair]
    links: list[Pair]  # key = title, value = URL
    received_at: str


class PageRow(BaseModel):
    id: int
    user_name: str
    level: int
    repeat: int
    status: str
    reason: str
    created_at: str


class DeliveryRow(BaseModel):
    id: int
    user_name: str
    channel: str
    address: str
    provider: str
    status: str
    color: str
    attempts: int
    # The latest attempt's provider response, or the notification's last error.
    response: str
    at: str


DELIVERY_COLORS = {"delivered": "green", "sent": "green", "failed": "red", "skipped": "gray"}


def delivery_rows(items: list[NotificationOut]) -> list[DeliveryRow]:
    """The delivery log's rows, oldest first (as the timeline reads)."""
    rows = []
    for n in sorted(items, key=lambda item: item.id):
        latest = n.attempt_log[-1] if n.attempt_log else None
        rows.append(
            DeliveryRow(
                id=n.id,
                user_name=n.user_name,
                channel=n.channel.value,
                address=n.address,
                provider=(latest.provider if latest else n.provider) or "not yet chosen",
                status=n.status.value,
                color=DELIVERY_COLORS.get(n.status.value, "amber"),
                attempts=n.attempts,
                response=(latest.response if latest else "") or n.last_error,
                at=(latest.at if latest else n.created_at).isoformat(),
            )
        )
    return rows


def timeline_row(entry: TimelineEntry) -> TimelineRow:
    icon, color = KIND_STYLE.get(entry.kind.value, ("dot", "gray"))
    html = entry.data.get("html") if isinstance(entry.data, dict) else None
    return TimelineRow(
        id=entry.id,
        at=entry.at.isoformat(),
        kind=entry.kind.value,
        icon=icon,
        color=color,
        actor_label=entry.actor_label,
        summary=entry.summary,
        html=html if isinstance(html, str) else "",
    )


def _safe_url(url: str) -> str:
    """Only http(s) links are rendered as links (alert payloads are untrusted)."""
    return url if url.startswith(("http://", "https://")) else ""


def link_pair(link: dict[str, str]) -> Pair:
    """An alert link (ingest stores ``{"href", "text"}``) as a label and a safe URL."""
    url = _safe_url(str(link.get("href") or link.get("url") or ""))
    label = str(link.get("text") or link.get("title") or "") or url
    return Pair(key=label, value=url)


def alert_items(detail: IncidentDetail) -> list[AlertItem]:
    out: list[AlertItem] = []
    for a in detail.alerts:
        links = [link_pair(link) for link in a.links]
        out.append(
            AlertItem(
                id=a.id,
                title=a.title,
                status=a.status,
                severity=a.severity.value,
                source=a.source,
                description=a.description,
                labels=[Pair(key=k, value=str(v)) for k, v in sorted(a.labels.items())],
                links=[p for p in links if p.value],
                received_at=a.received_at.isoformat(),
            )
        )
    return out


def _team_id_of(detail: IncidentDetail) -> int | None:
    return detail.team_id


class IncidentDetailState(SessionState):
    incident_id: int = 0
    loaded: bool = False
    missing: bool = False
    title: str = ""
    status: str = ""
    severity: str = ""
    priority: str = ""
    service_id: int = 0
    service_name: str = ""
    team_name: str = ""
    assignee_id: int = 0
    assignee_name: str = ""
    opened_at: str = ""
    acknowledged_by: str = ""
    resolved_by: str = ""
    resolution_note: str = ""
    dedup_key: str = ""
    alert_count: int = 0
    escalation_text: str = ""
    can_respond: bool = False
    details: list[Pair] = []
    service_links: list[Pair] = []
    timeline: list[TimelineRow] = []
    alerts: list[AlertItem] = []
    pages: list[PageRow] = []
    deliveries: list[DeliveryRow] = []
    responders: list[Choice] = []
    busy: bool = False
    note_text: str = ""
    # Bumped after a note is posted: the composer remounts empty.
    note_generation: int = 0
    resolve_open: bool = False
    edit_open: bool = False
    edit_errors: dict[str, str] = {}
    _team_id: int = 0

    # ---- loading ---------------------------------------------------------------------
    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self.incident_id = self._route_id()
        self.loaded = False
        self.missing = False
        self.resolve_open = self.edit_open = False
        if not self.incident_id:
            self.missing = True
            self.loaded = True
            return None
        try:
            actor = await self._actor()
            detail = await call(queries.get_incident, actor, self.incident_id)
            await self._apply(actor, detail)
        except DomainError as exc:
            if exc.status == 404:
                self.missing = True
                self.loaded = True
                return None
            return self._fail(exc)
        except Exception as exc:
            return self._fail(exc)
        self._watch(
            IncidentDetailState, (f"incident:{self.incident_id}", f"service:{self.service_id}")
        )
        return None

    async def _apply(self, actor: Actor, detail: IncidentDetail, *, pages: bool = True) -> None:
        self.title = detail.title
        self.status = detail.status.value
        self.severity = detail.severity.value
        self.priority = detail.priority.value if detail.priority else ""
        self.service_id = detail.service_id
        self.service_name = detail.service_name
        self.team_name = detail.team_name
        self.assignee_id = detail.assignee_id or 0
        self.assignee_name = detail.assignee_name
        self.opened_at = detail.opened_at.isoformat()
        self.acknowledged_by = detail.acknowledged_by
        self.resolved_by = detail.resolved_by
        self.resolution_note = detail.resolution_note
        self.dedup_key = detail.dedup_key
        self.alert_count = detail.alert_count
        self.can_respond = detail.can_respond
        esc = detail.escalation
        if not esc.policy_name:
            self.escalation_text = "no escalation policy"
        else:
            self.escalation_text = f"{esc.policy_name}: {esc.state.value}"
            if esc.state.value == "active" and detail.escalation_level:
                self.escalation_text += f", level {detail.escalation_level} of {esc.levels} next"
        self.details = [Pair(key=k, value=str(v)) for k, v in sorted(detail.details.items())]
        self.service_links = [
            Pair(key=link.title or link.url, value=_safe_url(link.url))
            for link in detail.service_links
            if _safe_url(link.url)
        ]
        self.timeline = [timeline_row(e) for e in detail.timeline]
        self.alerts = alert_items(detail)
        team_id = _team_id_of(detail) or 0
        if team_id != self._team_id or not self.responders:
            self._team_id = team_id
            self.responders = await self._responders(actor, team_id)
        if pages:
            rows = await call(outbox.list_page_requests, actor, incident_id=detail.id, limit=100)
            self.pages = [
                PageRow(
                    id=p.id,
                    user_name=p.user_name,
                    level=p.level,
                    repeat=p.repeat,
                    status=p.status,
                    reason=p.reason,
                    created_at=p.created_at.isoformat(),
                )
                for p in rows
            ]
            sent = await call(
                deliveries.list_notifications, actor, incident_id=detail.id, limit=200
            )
            self.deliveries = delivery_rows(sent)
        self.loaded = True

    async def _responders(self, actor: Actor, team_id: int) -> list[Choice]:
        if not team_id:
            return []
        team = await call(teams.get_team, actor, team_id)
        return [
            Choice(id=str(m.user_id), name=m.name)
            for m in team.members
            if m.role in (TeamRole.RESPONDER, TeamRole.TEAM_ADMIN)
        ]

    async def _run(self, fn: Any, *args: Any, done: str) -> tuple[bool, list[Any]]:
        """Run one incident command; (it worked, what to show)."""
        try:
            actor = await self._actor()
            detail = await call(fn, actor, self.incident_id, *args)
            await self._apply(actor, detail)
        except Exception as exc:
            return False, self._fail(exc)
        return True, [rx.toast.success(done)]

    # ---- actions ---------------------------------------------------------------------
    @rx.event
    async def acknowledge(self):
        """Optimistic: the header flips at once and rolls back if the service refuses."""
        before = self.status
        self.status = IncidentStatus.ACKNOWLEDGED.value
        self.busy = True
        yield
        ok, specs = await self._run(incidents.acknowledge, done="Acknowledged")
        if not ok and self.status == IncidentStatus.ACKNOWLEDGED.value:
            self.status = before
        self.busy = False
        for spec in specs:
            yield spec

    @rx.event
    def set_resolve_open(self, value: bool):
        self.resolve_open = value

    @rx.event
    async def resolve(self, form: dict[str, Any]):
        note = str(form.get("note", "")).strip()
        ok, specs = await self._run(incidents.resolve, note, done="Resolved")
        if ok:
            self.resolve_open = False
        return specs

    @rx.event
    async def close(self):
        return (await self._run(incidents.close, done="Closed"))[1]

    @rx.event
    async def reopen(self):
        return (await self._run(incidents.reopen, done="Reopened"))[1]

    @rx.event
    async def escalate_now(self):
        return (await self._run(incidents.escalate_now, done="Escalated now"))[1]

    @rx.event
    async def reassign(self, user_id: str):
        if not str(user_id).isdigit():
            return None
        return (await self._run(incidents.reassign, int(user_id), done="Reassigned"))[1]

    @rx.event
    def set_edit_open(self, value: bool):
        self.edit_open = value
        self.edit_errors = {}

    @rx.event
    async def save_edit(self, form: dict[str, Any]):
        data: dict[str, Any] = {}
        title = str(form.get("title", "")).strip()
        if title != self.title:
            data["title"] = title
        severity = str(form.get("severity", ""))
        if severity in SEVERITIES and severity != self.severity:
            data["severity"] = severity
        priority = str(form.get("priority", ""))
        if priority != self.priority and (priority in PRIORITIES or priority == ""):
            data["priority"] = priority or None
        if not data:
            self.edit_open = False
            return None
        try:
            update = IncidentUpdate.model_validate(data)
        except Exception:
            self.edit_errors = {"title": "1 to 500 characters"}
            return None
        try:
            actor = await self._actor()
            detail = await call(incidents.update_incident, actor, self.incident_id, update)
            await self._apply(actor, detail, pages=False)
        except ValidationFailed as exc:
            self.edit_errors = errors.field_messages(exc)
            return None
        except Exception as exc:
            return self._fail(exc)
        self.edit_open = False
        self.edit_errors = {}
        return rx.toast.success("Saved")

    @rx.event
    def set_note_text(self, value: str):
        self.note_text = value

    @rx.event
    async def add_note(self, form: dict[str, Any]):
        body = str(form.get("body", self.note_text))
        if not body.strip():
            return rx.toast.error("Write something first")
        ok, specs = await self._run(incidents.add_note, body, done="Note added")
        if ok:
            self.note_text = ""
            self.note_generation += 1
        return specs

    # ---- live ------------------------------------------------------------------------
    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        mine = event.payload.get("incident_id") == self.incident_id
        alert = event.name.startswith("alerts.")
        if not (mine or alert):
            return ""
        detail = await call(queries.get_incident, actor, self.incident_id)
        await self._apply(actor, detail)
        return describe(event) if mine else ""

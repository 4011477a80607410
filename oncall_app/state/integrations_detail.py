"""One integration: its URL and settings, rotate the secret (shown once), send a test alert,
the delivery log with filters, delete. Live: alerts received through it refresh the log."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx
from pydantic import BaseModel

from backend.catalog import service as catalog
from backend.core import clock
from backend.core.actor import Actor
from backend.core.errors import ValidationFailed
from backend.core.events import DomainEvent
from backend.core.validation import parse
from backend.ingest import integrations, probe
from backend.ingest.models import DeliveryOutcome
from backend.ingest.schemas import DeliveryOut, IntegrationOut, IntegrationUpdate
from backend.teams import service as teams
from backend.teams.policy import TeamAction
from oncall_app import errors
from oncall_app.services import call
from oncall_app.state.integrations import (
    TYPE_LABELS,
    ShownSecret,
    dedup_seconds,
    describe_test,
    shown,
    since_from,
)
from oncall_app.state.session import SessionState

PAGE_SIZE = 50


class DeliveryRow(BaseModel):
    id: int
    received_at: str
    outcome: str
    reason: str
    detail: str
    http_status: int
    alert_count: int
    remote_ip: str
    idempotency_key: str
    headers: str
    body: str
    body_truncated: bool


class TestAlert(BaseModel):
    id: int
    outcome: str
    incident_id: int
    dedup_key: str


def delivery_row(d: DeliveryOut) -> DeliveryRow:
    return DeliveryRow(
        id=d.id,
        received_at=d.received_at.isoformat(),
        outcome=d.outcome.value,
        reason=d.reason,
        detail=d.detail,
        http_status=d.http_status,
        alert_count=d.alert_count,
        remote_ip=d.remote_ip,
        idempotency_key=d.idempotency_key or "",
        headers=json.dumps(d.headers, indent=2, sort_keys=True),
        body=d.body,
        body_truncated=d.body_truncated,
    )


def _load_detail(actor: Actor, integration_id: int) -> tuple[IntegrationOut, str, bool, bool]:
    item = integrations.get_integration(actor, integration_id)
    name, can_edit, can_respond = "no service", actor.is_platform_admin, actor.is_platform_admin
    if item.service_id is not None:
        service = catalog.get_service(actor, item.service_id)
        name = service.name
        if service.team_id is not None and not actor.is_platform_admin:
            can_edit = teams.can(actor, service.team_id, TeamAction.EDIT)
            can_respond = teams.can(actor, service.team_id, TeamAction.RESPOND)
    return item, name, can_edit, can_respond


class IntegrationDetailState(SessionState):
    found: bool = False
    loaded: bool = False
    name: str = ""
    type: str = ""
    type_label: str = ""
    url: str = ""
    key: str = ""
    service_id: int = 0
    service_name: str = ""
    dedup_minutes: int = 15
    auto_resolve: bool = True
    enabled: bool = True
    previous_secret_expires_at: str = ""
    created_at: str = ""
    can_edit: bool = False
    can_respond: bool = False
    editing: bool = False
    edit_errors: dict[str, str] = {}
    rotated: ShownSecret = ShownSecret()
    testing: bool = False
    test_title: str = ""
    test_alerts: list[TestAlert] = []
    deliveries: list[DeliveryRow] = []
    has_more: bool = False
    outcome_filter: str = ""
    since_filter: str = ""
    _integration_id: int = 0

    @rx.var
    def heading(self) -> str:
        return self.name if self.found and self.name else "Integration"

    def _route_id(self) -> int:
        raw = str(self.router.url.path).rstrip("/").rsplit("/", 1)[-1]
        return int(raw) if raw.isdigit() else 0

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._integration_id = self._route_id()
        self.loaded = False
        self.editing = False
        self.rotated = ShownSecret()
        self.test_title = ""
        self.test_alerts = []
        try:
            actor = await self._actor()
            await self._reload(actor)
            await self._reload_log(actor)
        except Exception as exc:
            self.found = False
            self.loaded = True
            return self._fail(exc)
        self._watch(IntegrationDetailState, ("integrations", f"service:{self.service_id}"))
        return None

    async def _reload(self, actor: Actor) -> None:
        item, service_name, can_edit, can_respond = await call(
            _load_detail, actor, self._integration_id
        )
        self.found = True
        self.loaded = True
        self.name = item.name
        self.type = item.type.value
        self.type_label = TYPE_LABELS.get(item.type.value, item.type.value)
        self.url = item.url
        self.key = item.key
        self.service_id = item.service_id or 0
        self.service_name = service_name
        self.dedup_minutes = item.dedup_window_seconds // 60
        self.auto_resolve = item.auto_resolve
        self.enabled = item.enabled
        expires = item.previous_secret_expires_at
        self.previous_secret_expires_at = (
            expires.isoformat() if expires and expires > clock.now() else ""
        )
        self.created_at = item.created_at.isoformat()
        self.can_edit = can_edit
        self.can_respond = can_respond

    async def _reload_log(self, actor: Actor, *, before_id: int | None = None) -> None:
        outcome = DeliveryOutcome(self.outcome_filter) if self.outcome_filter else None
        rows = await call(
            integrations.list_deliveries,
            actor,
            self._integration_id,
            outcome=outcome,
            before_id=before_id,
            since=since_from(self.since_filter, clock.now()),
            limit=PAGE_SIZE + 1,
        )
        page = [delivery_row(d) for d in rows[:PAGE_SIZE]]
        self.deliveries = [*self.deliveries, *page] if before_id else page
        self.has_more = len(rows) > PAGE_SIZE

    async def _refresh_log(self, *, more: bool = False):
        try:
            before = self.deliveries[-1].id if more and self.deliveries else None
            await self._reload_log(await self._actor(), before_id=before)
        except Exception as exc:
            return self._fail(exc)
        return None

    @rx.event
    async def outcome_changed(self, value: str):
        self.outcome_filter = value if value in {o.value for o in DeliveryOutcome} else ""
        return await self._refresh_log()

    @rx.event
    async def since_changed(self, value: str):
        self.since_filter = value
        return await self._refresh_log()

    @rx.event
    async def refresh(self):
        return await self._refresh_log()

    @rx.event
    async def load_more(self):
        return await self._refresh_log(more=True)

    # ---- commands --------------------------------------------------------------------------
    @rx.event
    async def rotate(self):
        try:
            actor = await self._actor()
            rotated = await call(integrations.rotate_secret, actor, self._integration_id)
            await self._reload(actor)
        except Exception as exc:
            return self._fail(exc)
        self.rotated = shown(rotated)
        return rx.toast.success("New secret issued")

    @rx.event
    def dismiss_secret(self):
        self.rotated = ShownSecret()

    @rx.event
    async def send_test(self):
        self.testing = True
        yield
        try:
            actor = await self._actor()
            result = await call(probe.send_test_alert, actor, self._integration_id)
            await self._reload_log(actor)
        except Exception as exc:
            self.testing = False
            for spec in self._fail(exc):
                yield spec
            return
        self.testing = False
        title, description = describe_test(result)
        self.test_title = f"{title}: {description}" if description else title
        self.test_alerts = [
            TestAlert(
                id=a.id or 0,
                outcome=a.outcome,
                incident_id=a.incident_id or 0,
                dedup_key=a.dedup_key,
            )
            for a in result.alerts
        ]
        yield rx.toast.success(title, description=description)

    @rx.event
    def toggle_edit(self):
        self.editing = not self.editing
        self.edit_errors = {}

    @rx.event
    async def save(self, form: dict[str, Any]):
        raw = {
            "name": str(form.get("name", "")),
            "dedup_window_seconds": dedup_seconds(form.get("dedup_minutes")),
            "auto_resolve": form.get("auto_resolve") in (True, "on", "true"),
            "enabled": form.get("enabled") in (True, "on", "true"),
        }
        try:
            data = parse(IntegrationUpdate, raw)
            actor = await self._actor()
            await call(integrations.update_integration, actor, self._integration_id, data)
            await self._reload(actor)
        except ValidationFailed as exc:
            self.edit_errors = errors.field_messages(exc)
            if "dedup_window_seconds" in self.edit_errors:
                self.edit_errors["dedup_minutes"] = "Whole minutes from 0 to 10080"
            return None
        except Exception as exc:
            return self._fail(exc)
        self.editing = False
        self.edit_errors = {}
        return rx.toast.success("Integration saved")

    @rx.event
    async def delete(self):
        try:
            await call(integrations.delete_integration, await self._actor(), self._integration_id)
        except Exception as exc:
            return self._fail(exc)
        return [rx.toast.success(f"Integration {self.name} deleted"), rx.redirect("/integrations")]

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        if int(event.payload.get("integration_id") or 0) != self._integration_id:
            return ""
        if event.name == "ingest.integration.deleted":
            self.found = False
            return f"{event.actor_label or 'Someone'} deleted this integration"
        if event.name.startswith("ingest.integration."):
            await self._reload(actor)
            return ""
        await self._reload_log(actor)  # an alert came in through this integration
        return ""

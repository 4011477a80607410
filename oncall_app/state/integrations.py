"""Integrations (INT-01, INT-05): the list with recent delivery counts, and create, whose
secret is shown once with the ingest URL and a working ``curl`` example.

Row models carry display-ready strings (ISO times, names) so the page stays a pure function of
state. The shared helpers below are pure and unit-tested.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import reflex as rx
from pydantic import BaseModel

from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceOut
from backend.core import clock
from backend.core.actor import Actor
from backend.core.errors import ValidationFailed
from backend.core.events import DomainEvent
from backend.core.validation import parse
from backend.ingest import integrations
from backend.ingest.models import IntegrationType
from backend.ingest.schemas import (
    DeliveryStats,
    IngestResult,
    IntegrationCreate,
    IntegrationOut,
    IntegrationSecret,
)
from backend.teams import service as teams
from backend.teams.policy import TeamAction
from oncall_app import errors
from oncall_app.services import call
from oncall_app.state.session import SessionState

TYPE_LABELS = {
    IntegrationType.GENERIC.value: "Generic webhook",
    IntegrationType.ALERTMANAGER.value: "Prometheus Alertmanager",
    IntegrationType.GRAFANA.value: "Grafana alerting",
    IntegrationType.DATADOG.value: "Datadog",
    IntegrationType.NEWRELIC.value: "New Relic",
    IntegrationType.CLOUDWATCH.value: "AWS CloudWatch (SNS)",
    IntegrationType.PAGERDUTY.value: "PagerDuty Events v2",
}
# How far back the list's delivery counts reach.
STATS_WINDOW = timedelta(hours=24)
# Time filter presets for the delivery log and the alert search ("" = any time).
SINCE_PRESETS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
SINCE_LABELS = {
    "": "Any time",
    "1h": "Last hour",
    "24h": "Last 24 h",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
}


class Choice(BaseModel):
    id: str
    name: str


class IntegrationRow(BaseModel):
    id: int
    name: str
    type: str
    type_label: str
    service_id: int
    service_name: str
    url: str
    enabled: bool
    created_at: str
    last_received_at: str = ""
    last_outcome: str = ""
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0


class ShownSecret(BaseModel):
    """A secret on its single showing: the integration it opens and how to call it."""

    integration_id: int = 0
    name: str = ""
    type: str = ""
    url: str = ""
    secret: str = ""
    curl: str = ""
    # Rotation only: until when the previous secret keeps working (ISO), else "".
    previous_valid_until: str = ""


def since_from(preset: str, now: datetime) -> datetime | None:
    """The start of a time preset ("24h") before ``now``; None for any time or unknown text."""
    delta = SINCE_PRESETS.get(preset)
    return now - delta if delta is not None else None


def dedup_seconds(minutes: Any) -> Any:
    """The form's minutes as seconds; anything not a whole number goes to validation as-is."""
    text = str(minutes if minutes is not None else "").strip()
    if text == "":
        return 900
    try:
        return int(float(text) * 60) if float(text).is_integer() else text
    except ValueError:
        return text


def shown(created: IntegrationSecret) -> ShownSecret:
    integration = created.integration
    until = integration.previous_secret_expires_at
    return ShownSecret(
        integration_id=integration.id,
        name=integration.name,
        type=integration.type.value,
        url=integration.url,
        secret=created.secret,
        curl=created.curl_example,
        previous_valid_until=until.isoformat() if until else "",
    )


def describe_test(result: IngestResult) -> tuple[str, str]:
    """("Test alert accepted", "alert #42 new · incident #7") for the toast after a test."""
    title = f"Test alert {result.outcome.value}"
    parts = []
    for alert in result.alerts:
        text = f"alert #{alert.id} {alert.outcome}" if alert.id else alert.outcome
        if alert.incident_id:
            text += f" · incident #{alert.incident_id}"
        parts.append(text)
    if result.note:
        parts.append(result.note)
    return title, "; ".join(parts)


def row(item: IntegrationOut, names: dict[int, str], stats: DeliveryStats | None) -> IntegrationRow:
    counts = stats.counts if stats else {}
    last = stats.last_received_at if stats else None
    return IntegrationRow(
        id=item.id,
        name=item.name,
        type=item.type.value,
        type_label=TYPE_LABELS.get(item.type.value, item.type.value),
        service_id=item.service_id or 0,
        service_name=names.get(item.service_id or 0, "no service"),
        url=item.url,
        enabled=item.enabled,
        created_at=item.created_at.isoformat(),
        last_received_at=last.isoformat() if last else "",
        last_outcome=stats.last_outcome.value if stats and stats.last_outcome else "",
        accepted=counts.get("accepted", 0),
        duplicate=counts.get("duplicate", 0),
        rejected=counts.get("rejected", 0),
    )


def editable_services(actor: Actor, services: list[ServiceOut]) -> list[Choice]:
    """Services whose integrations ``actor`` may manage: their team's admins, platform admins."""
    allowed: dict[int, bool] = {}
    choices = []
    for service in services:
        if actor.is_platform_admin:
            ok = True
        elif service.team_id is None:
            ok = False
        else:
            if service.team_id not in allowed:
                allowed[service.team_id] = teams.can(actor, service.team_id, TeamAction.EDIT)
            ok = allowed[service.team_id]
        if ok:
            choices.append(Choice(id=str(service.id), name=service.name))
    return choices


def _load_list(
    actor: Actor, service_id: int | None
) -> tuple[list[IntegrationRow], list[Choice], list[Choice]]:
    # One thread hop: integrations, their recent deliveries, and both service pickers.
    items = integrations.list_integrations(actor, service_id=service_id)
    stats = integrations.delivery_stats(
        actor, [i.id for i in items], since=clock.now() - STATS_WINDOW
    )
    services = catalog.list_services(actor)
    names = {s.id: s.name for s in services}
    rows = [row(i, names, stats.get(i.id)) for i in items]
    all_services = [Choice(id=str(s.id), name=s.name) for s in services]
    return rows, all_services, editable_services(actor, services)


class IntegrationsState(SessionState):
    integrations: list[IntegrationRow] = []
    services: list[Choice] = []
    service_choices: list[Choice] = []
    service_filter: str = ""
    loaded: bool = False
    creating: bool = False
    create_errors: dict[str, str] = {}
    # The secret of the integration just created in this tab: shown once, to this browser only,
    # cleared on dismiss or when the page loads again.
    created: ShownSecret = ShownSecret()
    form_generation: int = 0

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self.created = ShownSecret()
        self.create_errors = {}
        # Alerts change the delivery counts; integration changes the list itself.
        self._watch(IntegrationsState, ("integrations", "alerts"))
        return await self._reload_as_user()

    async def _reload(self, actor: Actor) -> None:
        sid = int(self.service_filter) if self.service_filter.isdigit() else None
        self.integrations, self.services, self.service_choices = await call(_load_list, actor, sid)
        self.loaded = True

    @rx.event
    async def service_changed(self, value: str):
        self.service_filter = value
        return await self._reload_as_user()

    @rx.event
    def toggle_create(self):
        self.creating = not self.creating
        self.create_errors = {}

    @rx.event
    async def create(self, form: dict[str, Any]):
        raw = {
            "name": str(form.get("name", "")),
            "type": str(form.get("type", "")),
            "service_id": form.get("service_id") or None,
            "dedup_window_seconds": dedup_seconds(form.get("dedup_minutes")),
            "auto_resolve": form.get("auto_resolve") in (True, "on", "true"),
        }
        try:
            data = parse(IntegrationCreate, raw)
            actor = await self._actor()
            created = await call(integrations.create_integration, actor, data)
            await self._reload(actor)
        except ValidationFailed as exc:
            self.create_errors = errors.field_messages(exc)
            if "dedup_window_seconds" in self.create_errors:
                self.create_errors["dedup_minutes"] = "Whole minutes from 0 to 10080"
            return None
        except Exception as exc:
            return self._fail(exc)
        self.create_errors = {}
        self.creating = False
        self.form_generation += 1
        self.created = shown(created)
        return rx.toast.success(f"Integration {created.integration.name} created")

    @rx.event
    def dismiss_secret(self):
        self.created = ShownSecret()

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        await self._reload(actor)
        if event.name.startswith("ingest.integration."):
            verb = event.name.rsplit(".", 1)[-1].replace("_", " ")
            return f"{event.actor_label or 'Someone'} {verb} an integration"
        return ""

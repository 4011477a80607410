"""Input and output shapes of ingestion: API bodies, service results, UI rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backend.incidents.models import Severity
from backend.ingest.models import AlertStatus, DeliveryOutcome, HeartbeatStatus, IntegrationType
from backend.ingest.routing import MatchOp, valid_regex

AlertOutcomeName = Literal["new", "grouped", "repeated", "resolved", "acknowledged", "stale"]


class AlertOutcome(BaseModel):
    id: int | None = Field(description="The stored alert (None for an acknowledge event).")
    outcome: AlertOutcomeName
    incident_id: int | None = None
    dedup_key: str


class IngestResult(BaseModel):
    """What every ingest endpoint answers with 202: the delivery and each alert's fate."""

    delivery_id: int
    outcome: DeliveryOutcome
    alerts: list[AlertOutcome] = Field(default_factory=list)
    note: str = ""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "delivery_id": 17,
                    "outcome": "accepted",
                    "alerts": [
                        {"id": 42, "outcome": "new", "incident_id": 7, "dedup_key": "db-1-disk"}
                    ],
                    "note": "",
                }
            ]
        }
    )


class GenericAlertIn(BaseModel):
    """The generic webhook body, for the OpenAPI document. Validation is the parser's."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "title": "Disk almost full on db-1",
                    "severity": "high",
                    "description": "/var/lib/postgresql at 93%",
                    "source": "node-exporter",
                    "dedup_key": "db-1-disk",
                    "status": "firing",
                    "labels": {"env": "prod", "team": "platform"},
                    "links": [{"href": "https://grafana.example.org/d/db", "text": "Dashboard"}],
                    "timestamp": "2026-11-23T10:15:00Z",
                }
            ]
        },
    )

    title: str
    severity: str | None = None
    description: str | None = None
    source: str | None = None
    dedup_key: str | None = None
    status: Literal["firing", "resolved"] | None = None
    labels: dict[str, Any] | None = None
    links: list[Any] | None = None
    timestamp: str | int | float | None = None


class IntegrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    type: IntegrationType
    service_id: int
    dedup_window_seconds: int = Field(default=900, ge=0, le=7 * 24 * 3600)
    auto_resolve: bool = True


class IntegrationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=120)
    service_id: int | None = None
    dedup_window_seconds: int | None = Field(default=None, ge=0, le=7 * 24 * 3600)
    auto_resolve: bool | None = None
    enabled: bool | None = None


class IntegrationOut(BaseModel):
    id: int
    key: str
    name: str
    type: IntegrationType
    service_id: int | None
    url: str
    dedup_window_seconds: int
    auto_resolve: bool
    enabled: bool
    previous_secret_expires_at: datetime | None
    created_at: datetime


class IntegrationSecret(BaseModel):
    """Returned once, on create and on rotate: the secret is not stored in readable form
    anywhere but encrypted under the server's key."""

    integration: IntegrationOut
    secret: str
    curl_example: str


class DeliveryOut(BaseModel):
    id: int
    integration_id: int
    received_at: datetime
    outcome: DeliveryOutcome
    reason: str
    detail: str
    http_status: int
    headers: dict[str, Any]
    remote_ip: str
    idempotency_key: str | None
    alert_count: int
    body: str
    body_truncated: bool


class DeliveryStats(BaseModel):
    """Recent deliveries of one integration: counts by outcome and the latest one."""

    integration_id: int
    counts: dict[str, int] = Field(default_factory=dict)
    last_received_at: datetime | None = None
    last_outcome: DeliveryOutcome | None = None


class AlertOut(BaseModel):
    id: int
    integration_id: int | None
    service_id: int
    incident_id: int | None
    kind: str
    status: AlertStatus
    severity: Severity
    dedup_key: str
    title: str
    description: str
    source: str
    labels: dict[str, str]
    links: list[dict[str, str]]
    occurred_at: datetime
    received_at: datetime
    resolved_at: datetime | None


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page.")


class MatcherIn(BaseModel):
    label: str = Field(min_length=1, max_length=128)
    op: MatchOp = MatchOp.EQ
    value: str = Field(max_length=500)

    @model_validator(mode="after")
    def _regex(self) -> MatcherIn:
        if self.op in (MatchOp.RE, MatchOp.NRE) and not valid_regex(self.value):
            msg = f"invalid regular expression {self.value!r}"
            raise ValueError(msg)
        return self


class RoutingRuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    position: int = Field(default=100, ge=0, le=100_000)
    integration_id: int | None = None
    matchers: list[MatcherIn] = Field(min_length=1, max_length=20)
    target_service_id: int


class RoutingRuleOut(BaseModel):
    id: int
    name: str
    position: int
    integration_id: int | None
    matchers: list[MatcherIn]
    target_service_id: int
    enabled: bool


class HeartbeatCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    service_id: int
    interval_seconds: int = Field(default=300, ge=30, le=7 * 24 * 3600)
    grace_seconds: int = Field(default=60, ge=0, le=24 * 3600)


class HeartbeatOut(BaseModel):
    id: int
    name: str
    service_id: int
    interval_seconds: int
    grace_seconds: int
    status: HeartbeatStatus
    last_check_in_at: datetime | None
    due_at: datetime | None
    enabled: bool


class HeartbeatCreated(BaseModel):
    monitor: HeartbeatOut
    check_in_url: str = Field(description="Secret: shown once. GET or POST it to check in.")


class MaintenanceWindowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str = Field(default="", max_length=500)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            msg = "must include a time zone (e.g. 2026-11-23T10:00:00Z)"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _order(self) -> MaintenanceWindowCreate:
        if self.ends_at <= self.starts_at:
            msg = "ends_at must be after starts_at"
            raise ValueError(msg)
        return self


class MaintenanceWindowOut(BaseModel):
    id: int
    service_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str

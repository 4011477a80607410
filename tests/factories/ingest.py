"""Making services and integrations, and sending signed deliveries, for ingestion tests."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceCreate
from backend.core import clock
from backend.core.actor import Actor
from backend.ingest import integrations
from backend.ingest import service as ingest
from backend.ingest.models import IntegrationType
from backend.ingest.schemas import IngestResult, IntegrationCreate, IntegrationSecret
from backend.teams import service as teams
from backend.teams.schemas import TeamCreate

ADMIN = Actor.cli()


def make_service(name: str = "Checkout") -> int:
    team = teams.create_team(ADMIN, TeamCreate(name=f"{name} team"))
    return catalog.create_service(ADMIN, ServiceCreate(name=name, team_id=team.id)).id


def make_integration(
    kind: IntegrationType = IntegrationType.GENERIC,
    *,
    service_id: int | None = None,
    **kwargs: Any,
) -> IntegrationSecret:
    sid = service_id if service_id is not None else make_service(f"svc-{kind.value}")
    data = IntegrationCreate(name=f"{kind.value} source", type=kind, service_id=sid, **kwargs)
    return integrations.create_integration(ADMIN, data)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(clock.now().timestamp()))
    digest = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"x-oncall-timestamp": ts, "x-oncall-signature": f"v1={digest}"}


def send_generic(
    created: IntegrationSecret,
    payload: dict[str, Any],
    *,
    idempotency_key: str | None = None,
    headers: dict[str, str] | None = None,
) -> IngestResult:
    body = json.dumps(payload).encode()
    all_headers = {"content-type": "application/json", **sign(created.secret, body)}
    if idempotency_key:
        all_headers["idempotency-key"] = idempotency_key
    all_headers.update(headers or {})
    return ingest.ingest(
        ingest.InboundRequest(
            provider=IntegrationType.GENERIC,
            key=created.integration.key,
            body=body,
            content_type="application/json",
            headers=all_headers,
        )
    )


def send_provider(created: IntegrationSecret, payload: Any, **kwargs: Any) -> IngestResult:
    body = json.dumps(payload).encode()
    return ingest.ingest(
        ingest.InboundRequest(
            provider=created.integration.type,
            key=created.integration.key,
            body=body,
            content_type=kwargs.pop("content_type", "application/json"),
            headers={"authorization": f"Bearer {created.secret}", **kwargs.pop("headers", {})},
            **kwargs,
        )
    )

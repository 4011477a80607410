"""The ingest command: authenticate, validate, then persist in ONE transaction, answer after
commit, and announce (events, jobs) only after commit. The only writer of alerts.

Order of checks (each refusal is logged in the delivery log with its reason, in its own small
transaction, except an unknown key): 404 key → 413 size → 415 content type → 401 secret or
signature → 422 payload. A 2xx therefore always means the delivery and its alerts are stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from backend.catalog.service import ensure_triage_service
from backend.core import clock
from backend.core.db import unit_of_work
from backend.core.errors import (
    DomainError,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from backend.core.logging import SECRET_KEY_PATTERN
from backend.core.settings import get_settings
from backend.ingest import auth, persist, rejections, single_statement, sns_check
from backend.ingest.auth import IntegrationSnapshot
from backend.ingest.errors import IntegrationNotFound
from backend.ingest.models import IntegrationType
from backend.ingest.normalise import ParseContext, ParsedDelivery, storable
from backend.ingest.parsers import PARSERS
from backend.ingest.parsers.common import invalid, loads
from backend.ingest.schemas import IngestResult

log = structlog.get_logger(__name__)
# SNS posts its JSON as text/plain; every other sender can say application/json.
_TEXT_PLAIN_OK = {IntegrationType.CLOUDWATCH}
_REJECTED_BODY_BYTES = 4096
_MAX_HEADERS = 40


@dataclass(frozen=True)
class InboundRequest:
    """An HTTP delivery as the adapter saw it. ``body`` is None when it was over the limit."""

    provider: IntegrationType | None
    body: bytes | None
    key: str | None = None
    content_type: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    query_token: str | None = None
    remote_ip: str = ""


@dataclass(frozen=True)
class Checked:
    integration: IntegrationSnapshot
    parsed: ParsedDelivery
    body: bytes
    stored_body: str
    received_at: datetime


def sanitise_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers worth keeping in the delivery log; secrets (by name) never are."""
    clean: dict[str, str] = {}
    for name, value in list(headers.items())[:_MAX_HEADERS]:
        lower = name.lower()
        if SECRET_KEY_PATTERN.search(lower) or lower.startswith("x-oncall-sig"):
            continue
        clean[lower] = value[:500]
    return clean


def _decode_json(body: bytes) -> Any:
    try:
        return loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(((), f"not valid JSON: {exc}")) from exc
    except RecursionError as exc:  # "[[[[…": nested past the decoder's limit
        raise invalid(((), "not valid JSON: nested too deeply")) from exc


def _check_content_type(kind: IntegrationType, content_type: str) -> None:
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return
    if media == "text/plain" and kind in _TEXT_PLAIN_OK:
        return
    raise UnsupportedMediaType(f"Send the body as application/json (got {media or 'nothing'!r}).")


def _check_size(body: bytes | None) -> bytes:
    limit = get_settings().ingest.max_body_bytes
    if body is None or len(body) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit // 1024} KB.")
    return body


def _stored_body(body: bytes, data: Any, kind: IntegrationType) -> str:
    if kind is IntegrationType.PAGERDUTY and isinstance(data, dict):
        # The routing key is the integration's secret: never kept.
        body = json.dumps({k: v for k, v in data.items() if k != "routing_key"}).encode()
    # storable: JSON in UTF-16 is valid and full of NUL bytes, which PostgreSQL text refuses.
    return storable(body[: get_settings().ingest.stored_body_bytes].decode("utf-8", "replace"))


def _authenticate_and_parse(
    snapshot: IntegrationSnapshot, req: InboundRequest, body: bytes, now: datetime
) -> Checked:
    """Steps 401 and 422 for a keyed endpoint (generic signature or provider secret)."""
    header_time: datetime | None = None
    if snapshot.type is IntegrationType.GENERIC:
        snapshot, header_time = auth.check_signature(snapshot, req.headers, body, now)
    else:
        token = auth.bearer_or_token(req.headers, req.query_token)
        snapshot = auth.check_token(snapshot, token, now)
    data = _decode_json(body)
    if snapshot.type is IntegrationType.CLOUDWATCH:
        sns_check.verify_delivery(data)
    parsed = PARSERS[snapshot.type](data, ParseContext(received_at=now, header_time=header_time))
    return Checked(snapshot, parsed, body, _stored_body(body, data, snapshot.type), now)


def _log_rejection(
    snapshot: IntegrationSnapshot, req: InboundRequest, exc: DomainError, now: datetime
) -> None:
    body = b"" if isinstance(exc, PayloadTooLarge) or req.body is None else req.body
    try:
        with unit_of_work() as uow:
            persist.record_rejection(
                uow.session,
                integration_id=snapshot.id,
                received_at=now,
                reason=exc.code.value,
                detail=storable(exc.detail),
                http_status=exc.status,
                headers=sanitise_headers(req.headers),
                remote_ip=req.remote_ip,
                body=storable(body[:_REJECTED_BODY_BYTES].decode("utf-8", errors="replace")),
                body_truncated=len(body) > _REJECTED_BODY_BYTES,
            )
            reason = exc.code.value
            uow.after_commit(lambda: rejections.announce(snapshot.id, reason))
    except ServiceUnavailable:
        # The refusal stands; only its log entry is lost while the database is down.
        log.warning("ingest_rejection_not_logged", integration_id=snapshot.id, reason=exc.code)


def ingest(req: InboundRequest) -> IngestResult:
    """Receive one delivery on ``/api/v1/integrations/{key}/{provider}``.

    Raises:
        IntegrationNotFound: unknown or disabled key, or ``provider`` is not its type (404).
        PayloadTooLarge: body over the limit (413).
        UnsupportedMediaType: not JSON (415).
        InvalidSignature, InvalidIntegrationSecret: authentication failed (401).
        ValidationFailed: the payload lacks what its parser needs (422).
        ServiceUnavailable: the database is down (503; nothing was stored).
    """
    now = clock.now()
    snapshot = auth.find_by_key(req.key or "")
    if req.provider is not None and req.provider is not snapshot.type:
        raise IntegrationNotFound(
            f"This integration receives '{snapshot.type.value}' payloads,"
            f" not '{req.provider.value}'."
        )
    try:
        body = _check_size(req.body)
        _check_content_type(snapshot.type, req.content_type)
        checked = _authenticate_and_parse(snapshot, req, body, now)
    except DomainError as exc:
        _log_rejection(snapshot, req, exc, now)
        raise
    return _commit(checked, req)


def enqueue_pagerduty(req: InboundRequest) -> IngestResult:
    """Receive one PagerDuty Events API v2 event (``/v2/enqueue``).

    Raises:
        PayloadTooLarge, UnsupportedMediaType: as :func:`ingest`.
        ValidationFailed: invalid JSON, an unknown ``routing_key`` or an invalid event (the
            adapter answers these in PagerDuty's 400 shape).
        ServiceUnavailable: the database is down.
    """
    now = clock.now()
    body = _check_size(req.body)
    _check_content_type(IntegrationType.PAGERDUTY, req.content_type)
    data = _decode_json(body)
    routing_key = data.get("routing_key") if isinstance(data, dict) else None
    if not isinstance(routing_key, str) or not routing_key.strip():
        raise invalid((("routing_key",), "is missing or blank"))
    snapshot = auth.find_by_routing_key(routing_key.strip(), now)
    if snapshot is None:
        raise invalid((("routing_key",), "Invalid routing key"))
    try:
        parsed = PARSERS[IntegrationType.PAGERDUTY](data, ParseContext(received_at=now))
    except ValidationFailed as exc:
        _log_rejection(snapshot, req, exc, now)
        raise
    return _commit(
        Checked(snapshot, parsed, body, _stored_body(body, data, snapshot.type), now), req
    )


def _commit(checked: Checked, req: InboundRequest) -> IngestResult:
    snapshot = checked.integration
    # Outside the main transaction: on SQLite a nested writer would wait for ours.
    triage = snapshot.service_id if snapshot.service_id is not None else ensure_triage_service()
    idempotency = req.headers.get("idempotency-key", "").strip()[:255] or checked.parsed.delivery_id
    delivery = persist.DeliveryInput(
        integration=snapshot,
        parsed=checked.parsed,
        received_at=checked.received_at,
        fingerprint=hashlib.sha256(checked.body).hexdigest(),
        idempotency_key=idempotency,
        headers=sanitise_headers(req.headers),
        remote_ip=req.remote_ip,
        body=checked.stored_body,
        body_truncated=len(checked.body) > get_settings().ingest.stored_body_bytes,
        triage_service_id=triage,
    )
    if single_statement.applies(delivery):
        result = single_statement.store(delivery)
    else:
        with unit_of_work() as uow:
            result = persist.store_delivery(uow, delivery)
    log.debug(
        "ingest_delivery",
        integration_id=snapshot.id,
        delivery_id=result.delivery_id,
        outcome=result.outcome.value,
        alerts=len(result.alerts),
    )
    return result

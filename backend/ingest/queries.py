"""Alert search (ALERT-02): filters and keyset pagination, newest first."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from backend.core import clock
from backend.core.errors import ValidationFailed
from backend.incidents.models import Severity
from backend.ingest.models import Alert, AlertStatus


@dataclass(frozen=True)
class AlertFilter:
    service_id: int | None = None
    severity: Severity | None = None
    status: AlertStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""
    incident_id: int | None = None
    # None: every service; otherwise only these (what the actor may see).
    service_ids: tuple[int, ...] | None = None


def encode_cursor(alert_id: int) -> str:
    return base64.urlsafe_b64encode(f"a:{alert_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The alert id a cursor points below.

    Raises:
        ValidationFailed: not a cursor we issued.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        if prefix != "a":
            raise ValueError(raw)
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed.field("cursor", "not a valid cursor", loc_prefix="query") from exc


def search(session: Session, flt: AlertFilter, *, before_id: int | None, limit: int) -> list[Alert]:
    """Alerts matching ``flt``, newest first, ``limit`` rows with ids below ``before_id``."""
    stmt = select(Alert)
    if flt.service_ids is not None:
        stmt = stmt.where(col(Alert.service_id).in_(flt.service_ids))
    if flt.service_id is not None:
        stmt = stmt.where(Alert.service_id == flt.service_id)
    if flt.incident_id is not None:
        stmt = stmt.where(Alert.incident_id == flt.incident_id)
    if flt.severity is not None:
        stmt = stmt.where(Alert.severity == flt.severity)
    if flt.status is not None:
        stmt = stmt.where(Alert.status == flt.status)
    if flt.since is not None:
        stmt = stmt.where(col(Alert.received_at) >= clock.as_utc(flt.since))
    if flt.until is not None:
        stmt = stmt.where(col(Alert.received_at) < clock.as_utc(flt.until))
    if flt.text:
        like = f"%{flt.text}%"
        stmt = stmt.where(
            or_(
                col(Alert.title).ilike(like),
                col(Alert.description).ilike(like),
                col(Alert.source).ilike(like),
                col(Alert.dedup_key).ilike(like),
            )
        )
    if before_id is not None:
        stmt = stmt.where(col(Alert.id) < before_id)
    return list(session.exec(stmt.order_by(col(Alert.id).desc()).limit(limit)))

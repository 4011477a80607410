"""Confirming SNS HTTPS subscriptions after their SubscriptionConfirmation was committed.

Runs in a job (never inside the request) as a sweep: every pending confirmation of the last
day (delivery reason ``subscription_confirmation``) is fetched from its ``SubscribeURL`` (only
``https://sns.<region>.amazonaws.com/…``, validated again here) and marked
``subscription_confirmed``. The ingest path enqueues the sweep after commit (fast path); the
scheduler runs it every few minutes too, so a lost message only delays a confirmation.
"""

from __future__ import annotations

import json
from datetime import timedelta

import httpx2
import structlog
from sqlalchemy import select, update

from backend.core import clock
from backend.core.db import unit_of_work
from backend.ingest.models import InboundDelivery
from backend.ingest.parsers.cloudwatch import SUBSCRIBE_URL

log = structlog.get_logger(__name__)
TIMEOUT_SECONDS = 10.0
PENDING = "subscription_confirmation"
CONFIRMED = "subscription_confirmed"
LOOKBACK = timedelta(days=1)
BATCH = 20
_DELIVERY = InboundDelivery.__table__  # type: ignore[attr-defined]  # set by SQLModel


def _pending() -> list[tuple[int, str]]:
    since = clock.now() - LOOKBACK
    stmt = (
        select(_DELIVERY.c.id, _DELIVERY.c.body)
        .where(_DELIVERY.c.reason == PENDING, _DELIVERY.c.received_at >= since)
        .order_by(_DELIVERY.c.id)
        .limit(BATCH)
    )
    with unit_of_work() as uow:
        return [(int(row[0]), str(row[1])) for row in uow.session.execute(stmt)]


def _subscribe_url(body: str) -> str | None:
    try:
        url = json.loads(body).get("SubscribeURL")
    except (ValueError, AttributeError):
        return None
    return url if isinstance(url, str) and SUBSCRIBE_URL.match(url) else None


def _record(delivery_id: int, reason: str, detail: str) -> None:
    with unit_of_work() as uow:
        uow.session.execute(
            update(_DELIVERY)
            .where(_DELIVERY.c.id == delivery_id)
            .values(reason=reason, detail=detail[:1000])
        )


def _confirm(client: httpx2.Client, delivery_id: int, body: str) -> bool:
    url = _subscribe_url(body)
    if url is None:
        _record(delivery_id, "subscription_invalid", "no AWS SubscribeURL in the stored body")
        return False
    try:
        response = client.get(url)
    except httpx2.HTTPError as exc:
        _record(delivery_id, PENDING, f"confirmation failed: {type(exc).__name__}; will retry")
        return False
    if response.status_code != 200:
        _record(
            delivery_id, PENDING, f"confirmation failed: HTTP {response.status_code}; will retry"
        )
        return False
    _record(delivery_id, CONFIRMED, "subscription confirmed")
    return True


def confirm_pending(*, transport: httpx2.BaseTransport | None = None) -> int:
    """Confirm every pending SNS subscription of the last day; returns how many succeeded.

    Failures stay pending (with the reason in ``detail``) for the next sweep.
    """
    pending = _pending()
    if not pending:
        return 0
    confirmed = 0
    with httpx2.Client(timeout=TIMEOUT_SECONDS, transport=transport) as client:
        for delivery_id, body in pending:
            confirmed += _confirm(client, delivery_id, body)
    log.info("sns_confirmations", pending=len(pending), confirmed=confirmed)
    return confirmed

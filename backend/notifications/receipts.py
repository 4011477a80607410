"""Delivery receipts (NOTIF-02): Twilio's status callbacks for SMS and voice notifications,
and (``finish``) the common step for every provider's final word (SES: ``ses_events.py``).

Every Twilio message and call of a notification carries ``StatusCallback =
{base_url}/api/v1/webhooks/twilio/status?notification=<id>`` (the route checks Twilio's
signature, then calls ``apply``). A final status moves the notification on from ``sent``:

* ``delivered`` (SMS) / ``completed`` (a call that was answered, by a person or voicemail):
  delivered, on the notification and on its latest ``DeliveryAttempt``;
* ``undelivered`` / ``failed`` (SMS), ``busy`` / ``no-answer`` / ``failed`` / ``canceled``
  (call): failed for good, with a timeline line, and a page falls back to the next channel
  tier (``fallback.py``) as any final failure does.

Intermediate statuses (queued, sent, ringing …) change nothing. Each change is a
compare-and-set from ``sent``, so a repeated or late callback finds nothing to change.
A callback that arrives while the send is still being recorded (``sending``) is ignored.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select, update
from sqlmodel import col

from backend.core import clock
from backend.core.db import unit_of_work
from backend.incidents import timeline
from backend.incidents.models import IncidentEventKind
from backend.notifications import dispatch
from backend.notifications.models import (
    ChannelKind,
    DeliveryAttempt,
    Notification,
    NotificationPurpose,
    NotificationStatus,
)

_N = Notification.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
_A = DeliveryAttempt.__table__  # type: ignore[attr-defined]
DELIVERED = frozenset({"delivered", "completed"})
FAILED = frozenset({"undelivered", "failed", "busy", "no-answer", "canceled"})
CHANNELS = frozenset({ChannelKind.SMS, ChannelKind.VOICE})


class ReceiptOutcome(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"
    IGNORED = "ignored"  # not final, not ours, or already finished


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def twilio_status(params: dict[str, str]) -> tuple[str, str]:
    """(status, detail) of a Twilio status callback: ``MessageStatus`` or ``CallStatus``, and
    the error code Twilio gives for a failure, if any."""
    status = (params.get("MessageStatus") or params.get("CallStatus") or "").strip().lower()
    code = params.get("ErrorCode", "").strip()
    detail = f"Twilio {status}" + (f" (error {code})" if code else "")
    return status, detail[:200]


def apply(notification_id: int, params: dict[str, str]) -> ReceiptOutcome:
    """Record a verified Twilio status callback for ``notification_id``. Idempotent."""
    status, detail = twilio_status(params)
    if status in DELIVERED:
        target = NotificationStatus.DELIVERED
    elif status in FAILED:
        target = NotificationStatus.FAILED
    else:
        return ReceiptOutcome.IGNORED
    return finish(notification_id, target, detail, receipt=status, channels=CHANNELS)


def finish(
    notification_id: int,
    target: NotificationStatus,
    detail: str,
    *,
    receipt: str,
    channels: frozenset[ChannelKind],
) -> ReceiptOutcome:
    """Move a ``sent`` notification on one of ``channels`` to ``target`` (DELIVERED or
    FAILED) on a provider's final word; ``receipt`` is its name for it. Idempotent: only a
    notification still ``sent`` changes. A failure is on the timeline and a page falls back
    to the next channel tier."""
    now = clock.now()
    with unit_of_work() as uow:
        session = uow.session
        row = session.get(Notification, notification_id)
        if row is None or row.channel not in channels:
            return ReceiptOutcome.IGNORED
        values: dict[str, object] = {"status": target.value, "finished_at": now}
        if target is NotificationStatus.FAILED:
            values |= {"last_error": detail, "next_attempt_at": None}
        changed = session.execute(
            update(_N)
            .where(_N.c.id == notification_id, _N.c.status == NotificationStatus.SENT.value)
            .values(**values)
        )
        if not changed.rowcount:  # type: ignore[attr-defined]  # CursorResult
            return ReceiptOutcome.IGNORED
        latest = session.scalars(
            select(DeliveryAttempt)
            .where(col(DeliveryAttempt.notification_id) == notification_id)
            .order_by(col(DeliveryAttempt.attempt).desc())
            .limit(1)
        ).first()
        if latest is not None:
            session.execute(
                update(_A)
                .where(_A.c.id == latest.id)
                .values(status=target.value, response=f"{latest.response}; {detail}"[:500])
            )
        if target is NotificationStatus.DELIVERED:
            return ReceiptOutcome.DELIVERED
        # The notification as now written, with its recipient's name and page context.
        facts = dispatch.DeliveryFacts.read(session, notification_id)
        assert facts is not None  # the row was just read in this transaction
        row, who = facts.row, facts.who
        if row.incident_id is not None:
            timeline.record(
                session,
                row.incident_id,
                IncidentEventKind.NOTIFICATION_FAILED,
                f"{_capital(dispatch.CHANNEL_NAMES[row.channel.value])} to {who} was not "
                f"delivered: {detail}.",
                actor_label=dispatch.ENGINE_LABEL,
                data={
                    "notification_id": row.id,
                    "user_id": row.user_id,
                    "channel": row.channel.value,
                    "page_request_id": row.page_request_id,
                    "receipt": receipt,
                },
            )
        if row.purpose is NotificationPurpose.PAGE:
            dispatch.after_page_failure(uow, facts)
        return ReceiptOutcome.FAILED

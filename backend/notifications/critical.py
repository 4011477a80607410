"""Critical delivery failure (NOTIF-03): when a page's e-mail *and* SMS have both failed
(every attempt of every one of them), the platform admins are paged about it, preferring
channels other than e-mail and SMS (those providers may be what is down).

Runs in the transaction that records the last failure. Idempotent: the admins' notifications
carry ``step = -1`` under the (page request, contact method, step) unique key, so the e-mail
and the SMS failing at the same moment page each admin method once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from backend.core import clock, secretbox
from backend.core.actor import PlatformRole
from backend.core.db import insert_ignoring_conflict
from backend.core.settings import get_settings
from backend.identity.models import User
from backend.incidents import timeline
from backend.incidents.models import IncidentEventKind
from backend.notifications import formatting
from backend.notifications.models import (
    ChannelKind,
    ContactMethod,
    Notification,
    NotificationPurpose,
    NotificationStatus,
)

_N = Notification.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
PRIMARY = {ChannelKind.EMAIL.value, ChannelKind.SMS.value}
CRITICAL_STEP = -1


def _email_and_sms_all_failed(session: Session, page_request_id: int) -> bool:
    rows = session.execute(
        select(_N.c.channel, _N.c.status).where(
            _N.c.page_request_id == page_request_id,
            _N.c.purpose == NotificationPurpose.PAGE.value,
            _N.c.channel.in_(PRIMARY),
        )
    ).all()
    channels = {channel for channel, _ in rows}
    failed = all(status == NotificationStatus.FAILED.value for _, status in rows)
    return channels == PRIMARY and failed


def _admin_methods(session: Session) -> list[ContactMethod]:
    methods = list(
        session.scalars(
            select(ContactMethod)
            .join(User, col(User.id) == ContactMethod.user_id)
            .where(
                col(User.platform_role) == PlatformRole.PLATFORM_ADMIN,
                col(User.is_active).is_(True),
                col(ContactMethod.verified_at).is_not(None),
            )
            .order_by(col(ContactMethod.id))
        ).all()
    )
    other = [m for m in methods if m.kind.value not in PRIMARY]
    return other or methods


def after_failure(
    session: Session, row: Notification, ctx: formatting.PageContext, who: str
) -> list[tuple[int, datetime]]:
    """Page the platform admins if ``row`` (just failed) completes an e-mail + SMS failure;
    returns the (notification id, due) pairs to enqueue after commit."""
    if (
        row.purpose is not NotificationPurpose.PAGE
        or row.page_request_id is None
        or row.incident_id is None
        or row.channel.value not in PRIMARY
        or not _email_and_sms_all_failed(session, row.page_request_id)
    ):
        return []
    now = clock.now()
    body = secretbox.encrypt(formatting.critical_text(ctx, who))
    settings = get_settings().notifications
    planned: list[tuple[int, datetime]] = []
    methods = _admin_methods(session)
    for method in methods:
        inserted = insert_ignoring_conflict(
            session,
            _N,
            {
                "purpose": NotificationPurpose.CRITICAL.value,
                "page_request_id": row.page_request_id,
                "incident_id": row.incident_id,
                "user_id": method.user_id,
                "contact_method_id": method.id,
                "channel": method.kind.value,
                "address": method.address,
                "step": CRITICAL_STEP,
                "provider": str(getattr(settings, f"{method.kind.value}_provider", "outbox")),
                "status": NotificationStatus.QUEUED.value,
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": "",
                "sealed_body": body,
                "created_at": now,
            },
            index_elements=["page_request_id", "contact_method_id", "step"],
            returning=["id"],
        )
        if inserted is not None:
            planned.append((int(inserted[0]), now))
    if planned or not methods:
        reached = (
            f"paging the platform admins ({len(planned)} notification(s))."
            if methods
            else "no platform admin has a verified contact method to page!"
        )
        timeline.record(
            session,
            row.incident_id,
            IncidentEventKind.NOTIFICATION_FAILED,
            f"Critical delivery failure: e-mail and SMS to {who} both failed; {reached}",
            actor_label="notifications",
            data={"critical": True, "page_request_id": row.page_request_id},
        )
    return planned

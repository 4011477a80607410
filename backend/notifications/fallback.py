"""Channel tiers (NOTIF-03): primary channels in parallel, SMS when they fail, voice as the
last resort.

A user's rules plan the primary notifications (e-mail, push, browser push, Slack, Teams, in
parallel or with delays). When every page notification of one tier has finished without
getting through (failed for good, or skipped because its method was removed), and the next
tier has nothing planned for this page request, the user is texted on their verified SMS
methods; when SMS has failed too, called on their verified voice methods. A tier with no
verified method is passed over; a user who cannot be reached by any later tier gets a
timeline line saying so.

``decide`` is the pure rule. ``after_failure`` runs in the transaction that records the final
failure (``dispatch._record`` or a Twilio delivery receipt), after the caller has locked the
page request row, so two failures finishing at the same moment are decided one after the
other: the second sees the first's committed status. The fallback rows carry a fixed step per
tier under the (page request, contact method, step) unique key, so a duplicate decision
inserts nothing. Nothing is planned once the incident is no longer open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from backend.core import clock
from backend.core.db import insert_ignoring_conflict
from backend.core.settings import get_settings
from backend.incidents import timeline
from backend.incidents.models import Incident, IncidentEventKind, IncidentStatus
from backend.notifications.models import (
    CHANNEL_LABELS,
    ContactMethod,
    Notification,
    NotificationPurpose,
    NotificationStatus,
)

_N = Notification.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
PRIMARY = ("email", "push", "web_push", "slack", "teams")
TIERS: tuple[tuple[str, ...], ...] = (PRIMARY, ("sms",), ("voice",))
# Still trying, or got through: a tier with one of these has not failed.
LIVE = frozenset(
    s.value
    for s in (
        NotificationStatus.QUEUED,
        NotificationStatus.SENDING,
        NotificationStatus.SENT,
        NotificationStatus.DELIVERED,
    )
)
# The step of a fallback notification (rule steps are >= 0, the admins' critical page is -1).
FALLBACK_STEP = {"sms": -2, "voice": -3}
NAMES = CHANNEL_LABELS


@dataclass(frozen=True)
class Fallback:
    channel: str | None  # "sms" or "voice"; None: no verified method in any later tier
    failed: tuple[str, ...]  # the channels that failed, tier by tier
    missing: tuple[str, ...] = ()  # the later tiers passed over for want of a method


def _tier(channel: str) -> int:
    return next((i for i, tier in enumerate(TIERS) if channel in tier), 0)


def decide(rows: list[tuple[str, str]], failed_channel: str, verified: set[str]) -> Fallback | None:
    """What to do after a page notification on ``failed_channel`` failed for good.

    ``rows``: (channel, status) of every page notification of the page request, the failed
    one included; ``verified``: the kinds of the user's verified methods. None: nothing (a
    tier is still trying or got through, or the failure was in the last tier)."""
    start = _tier(failed_channel)
    failed: list[str] = []
    missing: list[str] = []
    for index, tier in enumerate(TIERS):
        mine = [(c, s) for c, s in rows if c in tier]
        if any(s in LIVE for _, s in mine):
            return None
        if mine:
            failed += list(dict.fromkeys(c for c, _ in mine))
            continue
        if index <= start:
            continue  # nothing planned on a tier before the failure: nothing to fall from
        channel = tier[0]
        if channel in verified:
            return Fallback(channel, tuple(failed), tuple(missing))
        missing.append(channel)
    return Fallback(None, tuple(failed), tuple(missing)) if missing else None


def _sentence(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def summary(decision: Fallback, who: str) -> str:
    """The timeline line: "E-mail and Slack to Ann failed; texting Ann by SMS instead."."""
    failed = _sentence([NAMES[c] for c in decision.failed])
    failed = failed[:1].upper() + failed[1:]
    if decision.channel == "sms":
        return f"{failed} to {who} failed; texting {who} by SMS instead."
    if decision.channel == "voice":
        return f"{failed} to {who} failed; calling {who} as the last resort."
    wanted = " or ".join(NAMES[c] for c in decision.missing)
    return f"{failed} to {who} failed; {who} has no verified {wanted} method to fall back to."


def after_failure(session: Session, row: Notification, who: str) -> list[tuple[int, datetime]]:
    """Plan the next tier for ``row``'s user if ``row`` (a page that just failed for good)
    finished its tier; returns the (notification id, due) pairs to enqueue after commit.
    The caller holds the page request's row lock."""
    if (
        row.purpose is not NotificationPurpose.PAGE
        or row.page_request_id is None
        or row.incident_id is None
    ):
        return []
    incident = session.get(Incident, row.incident_id)
    if incident is None or incident.status is not IncidentStatus.OPEN:
        return []  # acknowledged or resolved: nobody needs to be reached any more
    rows = [
        (str(channel), str(status))
        for channel, status in session.execute(
            select(_N.c.channel, _N.c.status)
            .where(
                _N.c.page_request_id == row.page_request_id,
                _N.c.purpose == NotificationPurpose.PAGE.value,
            )
            .order_by(_N.c.id)
        ).all()
    ]
    methods = list(
        session.scalars(
            select(ContactMethod)
            .where(
                col(ContactMethod.user_id) == row.user_id,
                col(ContactMethod.verified_at).is_not(None),
            )
            .order_by(col(ContactMethod.id))
        ).all()
    )
    decision = decide(rows, row.channel.value, {m.kind.value for m in methods})
    if decision is None:
        return []
    planned: list[tuple[int, datetime]] = []
    if decision.channel is not None:
        planned = _plan(session, row, [m for m in methods if m.kind.value == decision.channel])
        if not planned:
            return []  # a concurrent decision planned them already (and wrote the line)
    timeline.record(
        session,
        row.incident_id,
        IncidentEventKind.NOTIFICATION_FAILED,
        summary(decision, who),
        actor_label="notifications",
        data={
            "fallback": decision.channel,
            "failed": list(decision.failed),
            "page_request_id": row.page_request_id,
            "user_id": row.user_id,
            "notification_ids": [n for n, _ in planned],
        },
    )
    return planned


def _plan(
    session: Session, row: Notification, methods: list[ContactMethod]
) -> list[tuple[int, datetime]]:
    now = clock.now()
    settings = get_settings().notifications
    planned: list[tuple[int, datetime]] = []
    for method in methods:
        kind = method.kind.value
        inserted = insert_ignoring_conflict(
            session,
            _N,
            {
                "purpose": NotificationPurpose.PAGE.value,
                "page_request_id": row.page_request_id,
                "incident_id": row.incident_id,
                "user_id": row.user_id,
                "contact_method_id": method.id,
                "channel": kind,
                "address": method.address,
                "step": FALLBACK_STEP[kind],
                "provider": str(getattr(settings, f"{kind}_provider", "outbox")),
                "status": NotificationStatus.QUEUED.value,
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": "",
                "created_at": now,
            },
            index_elements=["page_request_id", "contact_method_id", "step"],
            returning=["id"],
        )
        if inserted is not None:
            planned.append((int(inserted[0]), now))
    return planned

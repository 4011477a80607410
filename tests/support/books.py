"""The books: what must hold after any fault (DESIGN.md, "nothing lost, paged in seconds").

A ``Ledger`` keeps what senders were told (every 2xx answer's alerts) and what the test did
(acknowledgements). ``check_books`` then reads the database and asserts:

1. every accepted alert is stored and attached to the incident it was answered with, and
   nothing was stored that no 2xx answered (a retry with the same Idempotency-Key is answered
   "repeated" with the first delivery's alerts, so an ambiguous commit is accounted for);
2. nothing is half-written: every incident of those alerts has its "opened" line, one "alert"
   line per alert, and its escalation started;
3. every due page was attempted: every page request has its notification, every notification
   ended (delivered, or skipped because the incident was no longer open), at most
   ``max_attempts`` recorded attempts, and exactly one message at the provider unless a lease
   ran out (a killed or slow worker's claim taken over; then at most one per claim);
4. no page after an acknowledgement: no page request later than the acknowledgement, and none
   at all for incidents acknowledged before their first page could go out.

``settle`` waits (driving the sweepers) until no work is left overdue; it is the deadline for
a hang, not a speed assertion.
"""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from backend.core.db import unit_of_work
from backend.core.jobs import JobName, enqueue
from backend.core.settings import get_settings
from backend.escalation.models import PageRequest
from backend.incidents.models import (
    EscalationState,
    Incident,
    IncidentEvent,
    IncidentEventKind,
    IncidentStatus,
)
from backend.ingest.models import Alert
from backend.notifications.models import (
    DeliveryAttempt,
    Notification,
    NotificationStatus,
    OutboxMessage,
)
from tests.support.workers import wait_until

_ALERT = Alert.__table__  # type: ignore[attr-defined]
_INCIDENT = Incident.__table__  # type: ignore[attr-defined]
_EVENT = IncidentEvent.__table__  # type: ignore[attr-defined]
_PAGE = PageRequest.__table__  # type: ignore[attr-defined]
_NOTE = Notification.__table__  # type: ignore[attr-defined]
_ATTEMPT = DeliveryAttempt.__table__  # type: ignore[attr-defined]
_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]
_PENDING = (NotificationStatus.QUEUED.value, NotificationStatus.SENDING.value)
_DONE = (NotificationStatus.DELIVERED.value, NotificationStatus.SENT.value)


@dataclass
class Ledger:
    """What senders were told and what the test did."""

    accepted: dict[int, int] = field(default_factory=dict)  # alert id -> answered incident id
    statuses: Counter[int] = field(default_factory=Counter)  # HTTP status -> answers
    acked_before_paging: set[int] = field(default_factory=set)

    def record(self, status: int, body: dict[str, Any] | None) -> None:
        self.statuses[status] += 1
        if 200 <= status < 300 and body is not None:
            for alert in body.get("alerts", []):
                if alert.get("id") is not None and alert.get("incident_id") is not None:
                    self.accepted[int(alert["id"])] = int(alert["incident_id"])

    @property
    def incident_ids(self) -> set[int]:
        return set(self.accepted.values())


def sweep() -> None:
    """What ``jobs/scheduler.py`` sends every 15 s in production (tests send it often)."""
    for job in (JobName.SWEEP_ESCALATIONS, JobName.SWEEP_NOTIFICATIONS):
        # Redis may be down right now: the next tick sends it.
        with contextlib.suppress(Exception):
            enqueue(job)


def _scalar(statement: Any) -> int:
    with unit_of_work() as uow:
        return int(uow.session.execute(statement).scalar_one())


def open_unpaged(incident_ids: Iterable[int]) -> int:
    """Open incidents without a page request yet, or with a notification not yet finished."""
    ids = list(incident_ids)
    unpaged = _scalar(
        select(func.count())
        .select_from(_INCIDENT)
        .where(
            _INCIDENT.c.id.in_(ids),
            _INCIDENT.c.status == IncidentStatus.OPEN.value,
            ~select(_PAGE.c.id).where(_PAGE.c.incident_id == _INCIDENT.c.id).exists(),
        )
    )
    return unpaged + pending_notifications(ids)


def pending_notifications(incident_ids: Iterable[int]) -> int:
    return _scalar(
        select(func.count())
        .select_from(_NOTE)
        .where(_NOTE.c.incident_id.in_(list(incident_ids)), _NOTE.c.status.in_(_PENDING))
    )


def settle(ledger: Ledger, what: str, timeout_s: float, tick: Callable[[], object] = sweep) -> None:
    """Wait until every open incident is paged and every notification has ended."""
    wait_until(what, timeout_s, lambda: open_unpaged(ledger.incident_ids) == 0, tick)


def settle_after_acks(ledger: Ledger, timeout_s: float, tick: Callable[[], object] = sweep) -> None:
    """Wait until every notification of the ledger's incidents has ended (skipped or sent)."""
    wait_until(
        "every notification to end after the acknowledgements",
        timeout_s,
        lambda: pending_notifications(ledger.incident_ids) == 0,
        tick,
    )


@dataclass(frozen=True)
class Summary:
    alerts: int
    incidents: int
    pages: int
    notifications: int
    lost_claims: int  # claims never recorded (their worker was killed): taken over by a sweep
    # Messages sent under a claim that was then taken over (killed or slow worker): sent again,
    # or sent and then skipped by the new claimer (the incident was acknowledged by then).
    duplicates: int


def check_books(ledger: Ledger, integration_ids: Iterable[int], *, outbox: bool = True) -> Summary:
    """Assert the books (module docstring) for everything the ledger's integrations stored.

    ``outbox``: the notifications went through the outbox provider, whose stored messages are
    counted per notification (another provider is checked by its own fake server).
    """
    assert ledger.accepted, "the scenario accepted no alert: nothing to check"
    with unit_of_work() as uow:
        session = uow.session
        stored = {
            int(row.id): row.incident_id
            for row in session.execute(
                select(_ALERT.c.id, _ALERT.c.incident_id).where(
                    _ALERT.c.integration_id.in_(list(integration_ids))
                )
            )
        }
        # Each test has a database of its own: every incident in it must be accounted for.
        incidents = {int(row.id): row for row in session.execute(select(_INCIDENT))}
        events = session.execute(
            select(_EVENT.c.incident_id, _EVENT.c.kind, _EVENT.c.data, _EVENT.c.at)
            .where(_EVENT.c.incident_id.in_(list(incidents)))
            .order_by(_EVENT.c.id)
        ).all()
        pages = session.execute(select(_PAGE).where(_PAGE.c.incident_id.in_(list(incidents)))).all()
        notes = session.execute(select(_NOTE).where(_NOTE.c.incident_id.in_(list(incidents)))).all()
        note_ids = [int(n.id) for n in notes]
        recorded = Counter(
            int(r[0])
            for r in session.execute(
                select(_ATTEMPT.c.notification_id).where(_ATTEMPT.c.notification_id.in_(note_ids))
            )
        )
        sent = Counter(
            int(r[0])
            for r in session.execute(
                select(_OUTBOX.c.notification_id).where(_OUTBOX.c.notification_id.in_(note_ids))
            )
        )
    _check_alerts(ledger, stored, incidents)
    _check_incidents(ledger, incidents, events)
    lost, duplicates = _check_pages(ledger, incidents, pages, notes, recorded, sent, outbox)
    return Summary(
        alerts=len(stored),
        incidents=len(incidents),
        pages=len(pages),
        notifications=len(notes),
        lost_claims=lost,
        duplicates=duplicates,
    )


def _check_alerts(ledger: Ledger, stored: dict[int, int | None], incidents: dict[int, Any]) -> None:
    missing = sorted(set(ledger.accepted) - set(stored))
    assert not missing, f"{len(missing)} accepted alerts are not stored: {missing[:10]}"
    moved = {a: (i, stored[a]) for a, i in ledger.accepted.items() if stored[a] != i}
    assert not moved, f"alerts attached to another incident than answered: {moved}"
    unanswered = sorted(set(stored) - set(ledger.accepted))
    assert not unanswered, f"{len(unanswered)} alerts stored without a 2xx: {unanswered[:10]}"
    orphans = sorted(set(ledger.incident_ids) - set(incidents))
    assert not orphans, f"answered incidents that do not exist: {orphans[:10]}"
    extra = sorted(set(incidents) - set(ledger.incident_ids))
    assert not extra, f"incidents no accepted alert opened or joined: {extra[:10]}"


def _check_incidents(ledger: Ledger, incidents: dict[int, Any], events: list[Any]) -> None:
    opened: Counter[int] = Counter()
    alert_lines: dict[int, set[int]] = defaultdict(set)
    for incident_id, kind, data, _ in events:
        if kind == IncidentEventKind.OPENED:
            opened[incident_id] += 1
        elif kind == IncidentEventKind.ALERT:
            alert_lines[incident_id].add(int(data["alert_id"]))
    by_incident: dict[int, set[int]] = defaultdict(set)
    for alert_id, incident_id in ledger.accepted.items():
        by_incident[incident_id].add(alert_id)
    for incident_id, row in incidents.items():
        assert opened[incident_id] == 1, f"incident {incident_id} has {opened[incident_id]} opened"
        assert by_incident[incident_id] <= alert_lines[incident_id], (
            f"incident {incident_id} lacks alert lines for "
            f"{sorted(by_incident[incident_id] - alert_lines[incident_id])}"
        )
        assert row.escalation_state != EscalationState.NONE.value or row.in_maintenance, (
            f"incident {incident_id} was never escalated"
        )


_CLOCK_READ_SLACK = timedelta(seconds=5)


def _check_pages(  # one pass over the page-level books, in the order they read
    ledger: Ledger,
    incidents: dict[int, Any],
    pages: list[Any],
    notes: list[Any],
    recorded: Counter[int],
    sent: Counter[int],
    outbox: bool,
) -> tuple[int, int]:
    max_attempts = get_settings().notifications.max_attempts
    paged = {int(p.incident_id) for p in pages}
    for incident_id, row in incidents.items():
        if incident_id in ledger.acked_before_paging:
            assert incident_id not in paged, f"incident {incident_id} paged after its ack"
        elif row.status == IncidentStatus.OPEN.value or row.acknowledged_at is None:
            assert incident_id in paged, f"incident {incident_id} is due a page and has none"
    for page in pages:
        acked_at = incidents[int(page.incident_id)].acknowledged_at
        # Both times are read at the start of their transactions, not at commit: a step
        # that began just after the ack's clock read can still commit first (its claim needs
        # the incident OPEN, so it really did come first). Only a page later than the
        # longest such transaction on a loaded machine is one sent after the ack.
        assert acked_at is None or page.created_at <= acked_at + _CLOCK_READ_SLACK, (
            f"page request {page.id} ({page.created_at}) after the ack ({acked_at})"
        )
    by_page = Counter(int(n.page_request_id) for n in notes if n.page_request_id is not None)
    unplanned = [int(p.id) for p in pages if by_page[int(p.id)] == 0]
    assert not unplanned, f"page requests without a notification: {unplanned[:10]}"
    lost = duplicates = 0
    for note in notes:
        nid, claims = int(note.id), int(note.attempts)
        assert note.status not in _PENDING, f"notification {nid} never ended: {note.status}"
        assert recorded[nid] <= min(claims, max_attempts), (
            f"notification {nid}: {recorded[nid]} attempts recorded for {claims} claims"
        )
        lost += claims - recorded[nid]
        # Each claim sends at most once. Besides a retry after a failure, a second claim exists
        # only when a lease ran out: its worker was killed, or was slower than the lease; then
        # the message may go out twice, or go out and be skipped by the worker that took the
        # claim over because the incident had been acknowledged meanwhile (at-least-once).
        if outbox:
            assert sent[nid] <= claims, f"notification {nid}: {sent[nid]} messages, {claims} claims"
        if note.status == NotificationStatus.SKIPPED.value:
            assert incidents[int(note.incident_id)].status != IncidentStatus.OPEN.value
            duplicates += sent[nid]
            continue
        assert note.status in _DONE, f"notification {nid} {note.status}: {note.last_error}"
        if outbox:
            assert sent[nid] >= 1, f"delivered notification {nid} is not in the outbox"
            if claims == 1:
                assert sent[nid] == 1, f"notification {nid} sent {sent[nid]} times on one claim"
            duplicates += sent[nid] - 1
    return lost, duplicates

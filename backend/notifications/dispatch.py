"""The dispatcher (NOTIF-02): page request → planned notifications → one delivery job each.

* ``plan_page`` runs in the escalation step's transaction: one ``Notification`` per (rule
  step, verified contact method), due at page time + the step's delay, each sent as
  ``DELIVER_NOTIFICATION(notification_id)`` after commit (delayed until due).
* ``deliver`` claims a due notification with a compare-and-set (queued → sending, attempts+1,
  a lease in ``next_attempt_at``), commits, calls the provider outside any transaction, then
  records a ``DeliveryAttempt`` and the outcome: sent/delivered, a retry with exponential
  backoff (``rules.backoff_seconds``), or failed after the last attempt. A page whose incident
  is no longer OPEN is skipped. Duplicate messages find nothing to claim and do nothing.
* ``sweep`` re-sends whatever is past due (a lost message) or past its lease (a crashed
  worker): at-least-once delivery, like the escalation sweeper.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy import RowMapping, Update, and_, bindparam, insert, or_, select, update
from sqlmodel import Session

from backend.audit import service as audit
from backend.audit.models import Severity as AuditSeverity
from backend.core import clock, secretbox, sweep_backoff
from backend.core.actor import Actor
from backend.core.db import UnitOfWork, get_engine, is_sqlite, unit_of_work
from backend.core.errors import PermanentError
from backend.core.jobs import JobName, enqueue
from backend.core.settings import NotificationSettings, get_settings
from backend.escalation.models import PageRequest
from backend.identity.models import User
from backend.incidents import timeline
from backend.incidents.models import Incident, IncidentEventKind, IncidentStatus
from backend.notifications import (
    critical,
    delivery_statements,
    fallback,
    formatting,
    health,
    magic_links,
    rules,
)
from backend.notifications.action_models import Action
from backend.notifications.masking import masked
from backend.notifications.models import (
    CHANNEL_LABELS,
    ChannelKind,
    ContactMethod,
    DeliveryAttempt,
    Notification,
    NotificationPurpose,
    NotificationRule,
    NotificationStatus,
    QuietHours,
)
from backend.notifications.providers import OutgoingMessage, ProviderResult, provider_named

log = structlog.get_logger(__name__)
_N = Notification.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
_PR = PageRequest.__table__  # type: ignore[attr-defined]
_USR = User.__table__  # type: ignore[attr-defined]
_ATTEMPT = DeliveryAttempt.__table__  # type: ignore[attr-defined]
EARLY_TOLERANCE = timedelta(seconds=2)
# Timeline lines say "voice call" ("Paged Ann by voice call").
CHANNEL_NAMES = {**CHANNEL_LABELS, "voice": "voice call"}
ENGINE_LABEL = "notifications"


class DeliverOutcome(StrEnum):
    DONE = "done"  # sent or delivered
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_DUE = "not_due"
    STALE = "stale"  # nothing to claim: finished, in flight, or unknown id


def send(notification_id: int, due_at: datetime | None = None) -> None:
    """Enqueue one delivery (after commit); a broker failure is left to the sweeper."""
    try_send(notification_id, due_at)


def try_send(notification_id: int, due_at: datetime | None = None) -> bool:
    """``send``, telling whether the broker took the message (the sweeper stamps only those)."""
    delay_ms = None
    if due_at is not None:
        delay_ms = max(0, int((due_at - clock.now()).total_seconds() * 1000)) or None
    try:
        enqueue(JobName.DELIVER_NOTIFICATION, delay_ms=delay_ms, notification_id=notification_id)
    except Exception:  # the row is committed: the sweeper re-sends it
        log.warning("notification_enqueue_failed", notification_id=notification_id, exc_info=True)
        return False
    return True


def _send_all(planned: list[tuple[int, datetime]]) -> None:
    for notification_id, due in planned:
        send(notification_id, due)


# --- planning --------------------------------------------------------------------------------


# Planning reads with Core selects of the columns it needs: ORM entities cost several times
# the CPU of the statement, and the escalation step plans a page per recipient.
_RULE = NotificationRule.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
_METHOD = ContactMethod.__table__  # type: ignore[attr-defined]
_QUIET = QuietHours.__table__  # type: ignore[attr-defined]
# Built once (ADR 0012).
_RULES_OF = select(
    _RULE.c.urgency,
    _RULE.c.delay_minutes,
    _RULE.c.channel,
    _RULE.c.contact_method_id,
    _RULE.c.position,
).where(_RULE.c.user_id == bindparam("user_id"))
_METHODS_OF = (
    select(_METHOD.c.id, _METHOD.c.kind, _METHOD.c.address, _METHOD.c.verified_at)
    .where(_METHOD.c.user_id == bindparam("user_id"))
    .order_by(_METHOD.c.id)
)
_RECIPIENT = (
    select(_USR.c.is_active, _USR.c.time_zone, _QUIET.c.start_minute, _QUIET.c.end_minute)
    .select_from(_USR.outerjoin(_QUIET, _QUIET.c.user_id == _USR.c.id))
    .where(_USR.c.id == bindparam("user_id"))
)
_INSERT_NOTIFICATIONS = insert(_N).returning(_N.c.id, sort_by_parameter_order=True)


def _rule_steps(session: Session, user_id: int) -> list[rules.RuleStep]:
    rows = session.execute(_RULES_OF, {"user_id": user_id}).all()
    return [
        rules.RuleStep(
            urgency=urgency.value,
            delay_minutes=delay_minutes,
            channel=channel.value if channel else None,
            contact_method_id=contact_method_id,
            position=position,
        )
        for urgency, delay_minutes, channel, contact_method_id, position in rows
    ]


def methods_of(session: Session, user_id: int) -> list[rules.Method]:
    rows = session.execute(_METHODS_OF, {"user_id": user_id}).all()
    return [
        rules.Method(method_id, kind.value, address, verified_at is not None)
        for method_id, kind, address, verified_at in rows
    ]


@dataclass(frozen=True)
class PageFacts:
    """What the escalation step already knows of a page request it has just written (so
    ``plan_page`` need not read the page request and its incident back)."""

    incident_id: int
    user_id: int
    created_at: datetime
    severity: str


def plan_page(
    uow: UnitOfWork,
    page_request_id: int,
    facts: PageFacts | None = None,
    held: list[int] | None = None,
) -> int:
    """Plan the notifications of one page request in the caller's transaction; returns how
    many. They are enqueued after commit, each delayed until it is due.

    ``held``: while it is empty, the first notification due at once is put there instead of
    being enqueued; the caller delivers it itself after commit (``deliver_held``: the
    escalation step's job, ADR 0016)."""
    session = uow.session
    if facts is None:
        page = session.get(PageRequest, page_request_id)
        if page is None:
            return 0
        incident = session.get(Incident, page.incident_id)
        if incident is None:
            return 0
        facts = PageFacts(page.incident_id, page.user_id, page.created_at, incident.severity.value)
    recipient = session.execute(_RECIPIENT, {"user_id": facts.user_id}).first()
    if recipient is None or not recipient.is_active:
        return 0
    urgency = rules.urgency_of(facts.severity)
    steps, _ = rules.effective_rules(_rule_steps(session, facts.user_id), urgency)
    quiet = None
    if recipient.start_minute is not None:
        quiet = (recipient.start_minute, recipient.end_minute)
    planned = rules.plan(
        steps,
        methods_of(session, facts.user_id),
        facts.created_at,
        urgency=urgency,
        quiet=quiet,
        time_zone=recipient.time_zone or "UTC",
    )
    if not planned:
        return 0
    settings = get_settings().notifications
    now = clock.now()
    ids = session.scalars(
        _INSERT_NOTIFICATIONS,
        [
            {
                "purpose": NotificationPurpose.PAGE,
                "page_request_id": page_request_id,
                "incident_id": facts.incident_id,
                "user_id": facts.user_id,
                "contact_method_id": item.contact_method_id,
                "channel": ChannelKind(item.channel),
                "address": item.address,
                "step": item.step,
                "provider": str(getattr(settings, f"{item.channel}_provider", "outbox")),
                "status": NotificationStatus.QUEUED,
                "attempts": 0,
                "next_attempt_at": item.due_at,
                "last_error": "",
                "created_at": now,
            }
            for item in planned
        ],
    ).all()
    due = [(int(i), item.due_at) for i, item in zip(ids, planned, strict=True)]
    if held is not None and not held:
        first = next((d for d in due if d[1] <= now + EARLY_TOLERANCE), None)
        if first is not None:
            held.append(first[0])
            due.remove(first)
    uow.after_commit(lambda: _send_all(due))
    return len(ids)


def deliver_held(notification_id: int) -> DeliverOutcome | None:
    """Deliver a notification its planner held back from the queue (``plan_page``'s ``held``).
    Any error hands it to the queue as usual (and if that fails too, the sweep re-sends it:
    the row is committed, queued and due). None: handed to the queue."""
    try:
        return deliver(notification_id)
    except Exception:
        log.warning("held_delivery_failed", notification_id=notification_id, exc_info=True)
        send(notification_id)
        return None


def queue_direct(
    uow: UnitOfWork, *, user_id: int, method: ContactMethod, body: str
) -> Notification:
    """Queue a one-off message (verification codes) through the same delivery path."""
    assert method.id is not None
    row = Notification(
        purpose=NotificationPurpose.VERIFICATION,
        user_id=user_id,
        contact_method_id=method.id,
        channel=method.kind,
        address=method.address,
        provider=str(getattr(get_settings().notifications, f"{method.kind.value}_provider")),
        next_attempt_at=clock.now(),
        sealed_body=secretbox.encrypt(body),
    )
    uow.session.add(row)
    uow.session.flush()
    notification_id = row.id or 0
    uow.after_commit(lambda: send(notification_id))
    return row


# --- delivery --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryFacts:
    """A notification (detached from any session) with what its delivery needs to know."""

    row: Notification
    incident_status: IncidentStatus | None
    context: formatting.PageContext | None  # pages only
    who: str

    @classmethod
    def read(cls, session: Session, notification_id: int) -> DeliveryFacts | None:
        found = session.execute(
            delivery_statements.FACTS, {"notification_id": notification_id}
        ).first()
        return None if found is None else cls.of(found._mapping)

    @classmethod
    def of(cls, values: Mapping[str, Any] | RowMapping) -> DeliveryFacts:
        """From one row of ``delivery_statements.FACTS`` (read alone, or by the claim)."""
        row = Notification(**{column.name: values[column.name] for column in _N.c})
        context = None
        if values["incident_title"] is not None and values["page_level"] is not None:
            priority = values["incident_priority"]
            context = formatting.PageContext(
                incident_id=row.incident_id or 0,
                title=values["incident_title"],
                severity=values["incident_severity"].value,
                service_name=values["service_name"] or "",
                level=values["page_level"],
                repeat=values["page_repeat"],
                base_url=get_settings().base_url,
                priority=priority.value if priority else None,
            )
        who = values["user_name"] if values["user_name"] is not None else f"user {row.user_id}"
        return cls(row, values["incident_status"], context, who)


# Queued and due, or sending with its lease run out (a crashed worker's): claimed with a
# compare-and-set on the attempt count. A lease that runs out is swept afresh.
_CLAIM = (
    update(_N)
    .where(
        _N.c.id == bindparam("b_id"),
        _N.c.attempts == bindparam("b_attempts"),
        or_(
            and_(
                _N.c.status == NotificationStatus.QUEUED.value,
                _N.c.next_attempt_at <= bindparam("b_due_by"),
            ),
            and_(
                _N.c.status == NotificationStatus.SENDING.value,
                _N.c.next_attempt_at <= bindparam("b_now"),
            ),
        ),
    )
    .values(
        status=NotificationStatus.SENDING.value,
        attempts=_N.c.attempts + 1,
        next_attempt_at=bindparam("b_lease_end"),
        resend_after=None,
    )
)


def _claim(session: Session, row: Notification, now: datetime, lease: timedelta) -> bool:
    claimed = session.execute(
        _CLAIM,
        {
            "b_id": row.id,
            "b_attempts": row.attempts,
            "b_due_by": now + EARLY_TOLERANCE,
            "b_now": now,
            "b_lease_end": now + lease,
        },
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]  # CursorResult


def _render(facts: DeliveryFacts, links: dict[Action, str] | None) -> OutgoingMessage:
    """The message of one attempt; ``links``: the e-mail's fresh magic links (page e-mails)."""
    row = facts.row

    def message(body: str, subject: str = "", html: str = "") -> OutgoingMessage:
        return OutgoingMessage(
            channel=row.channel.value,
            to=row.address,
            body=body,
            subject=subject,
            html=html,
            notification_id=row.id,
        )

    if row.purpose is NotificationPurpose.VERIFICATION:
        body = secretbox.decrypt(row.sealed_body or "")
        return message(body, "Your OnCall verification code")
    if row.purpose is NotificationPurpose.CRITICAL:
        body = secretbox.decrypt(row.sealed_body or "")
        return message(body, body[:200])
    ctx = facts.context
    assert ctx is not None  # a page always has its incident and page request
    channel = row.channel.value
    if channel == "email":
        assert links is not None  # stored with the claim (see _needs_links)
        ctx = replace(ctx, ack_url=links[Action.ACKNOWLEDGE], resolve_url=links[Action.RESOLVE])
        return message(
            formatting.email_text(ctx), formatting.email_subject(ctx), formatting.email_html(ctx)
        )
    if channel == "sms":
        return message(formatting.sms_text(ctx))
    if channel == "voice":
        return message(formatting.voice_text(ctx))
    return message(formatting.short_text(ctx), formatting.email_subject(ctx))


def _needs_links(facts: DeliveryFacts) -> bool:
    """A page e-mail carries fresh single-use acknowledge/resolve links for its recipient
    (NOTIF-05), stored with the delivery's claim; each attempt carries its own."""
    row = facts.row
    return (
        row.purpose is NotificationPurpose.PAGE
        and row.channel is ChannelKind.EMAIL
        and facts.context is not None
    )


def _issue_links(session: Session, facts: DeliveryFacts) -> dict[Action, str]:
    assert facts.context is not None
    return magic_links.issue_links(
        session,
        user_id=facts.row.user_id,
        incident_id=facts.context.incident_id,
        actions=(Action.ACKNOWLEDGE, Action.RESOLVE),
        base_url=facts.context.base_url,
    )


def _skip_reason(facts: DeliveryFacts) -> str | None:
    row = facts.row
    if row.purpose not in (NotificationPurpose.PAGE, NotificationPurpose.CRITICAL):
        return None
    if row.contact_method_id is None:
        return "the contact method was removed"
    if facts.incident_status is None:
        return "the incident is gone"
    if facts.incident_status is not IncidentStatus.OPEN:
        return f"the incident is {facts.incident_status.value.lower()}"
    return None


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def deliver(notification_id: int) -> DeliverOutcome:
    """Deliver one notification if it is due (the DELIVER_NOTIFICATION actor). Idempotent."""
    settings = get_settings().notifications
    now = clock.now()
    lease = timedelta(seconds=settings.timeout_seconds + settings.lease_margin_seconds)
    if not is_sqlite(get_engine()):
        return _deliver_by_statements(notification_id, settings, now, lease)
    with unit_of_work() as uow:
        session = uow.session
        facts = DeliveryFacts.read(session, notification_id)
        if facts is None:
            return DeliverOutcome.STALE
        early = _not_claimable(facts, now)
        if early is not None:
            return early
        reason = _skip_reason(facts)
        if reason is not None:
            _finish_skipped(session, facts, reason, now)
            return DeliverOutcome.SKIPPED
        if not _claim(session, facts.row, now, lease):
            return DeliverOutcome.STALE
        message = _render(facts, _issue_links(session, facts) if _needs_links(facts) else None)
    return _send_and_record(facts, message, settings)


def _deliver_by_statements(
    notification_id: int, settings: NotificationSettings, now: datetime, lease: timedelta
) -> DeliverOutcome:
    """``deliver`` on PostgreSQL: read, claim and the e-mail's links in one statement
    (delivery_statements.py); what it did not claim is decided as on the ORM path."""
    found = delivery_statements.claim(
        notification_id,
        now=now,
        due_by=now + EARLY_TOLERANCE,
        lease_end=now + lease,
        base_url=get_settings().base_url,
    )
    if found is None:
        return DeliverOutcome.STALE
    values, claimed, links = found
    facts = DeliveryFacts.of(values)
    if not claimed:
        early = _not_claimable(facts, now)
        if early is not None:
            return early
        reason = _skip_reason(facts)
        if reason is None:
            return DeliverOutcome.STALE  # another worker's claim came first
        with unit_of_work() as uow:
            _finish_skipped(uow.session, facts, reason, now)
        return DeliverOutcome.SKIPPED
    return _send_and_record(facts, _render(facts, links if _needs_links(facts) else None), settings)


def _not_claimable(facts: DeliveryFacts, now: datetime) -> DeliverOutcome | None:
    """Finished, not due yet, or claimed by a worker whose lease still runs: nothing to do."""
    row = facts.row
    if row.status not in (NotificationStatus.QUEUED, NotificationStatus.SENDING):
        return DeliverOutcome.STALE
    if row.status is NotificationStatus.QUEUED and (
        row.next_attempt_at is not None and row.next_attempt_at > now + EARLY_TOLERANCE
    ):
        return DeliverOutcome.NOT_DUE
    if row.status is NotificationStatus.SENDING and (
        row.next_attempt_at is not None and row.next_attempt_at > now
    ):
        # Another worker holds the claim and may be sending right now: a duplicate message
        # must not mark it skipped (found by tests/reliability's books).
        return DeliverOutcome.STALE
    return None


def _send_and_record(
    facts: DeliveryFacts, message: OutgoingMessage, settings: NotificationSettings
) -> DeliverOutcome:
    """The provider call, outside any transaction, then its record (the claim is committed)."""
    started = time.monotonic()
    used, result = send_with_failover(facts.row.channel.value, message, settings)
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record(facts, facts.row.attempts + 1, used, result, duration_ms)


def send_with_failover(
    channel: str, message: OutgoingMessage, settings: NotificationSettings
) -> tuple[str, ProviderResult]:
    """Try the channel's providers in order, skipping any whose circuit breaker is open and
    moving on after a retryable failure; returns (provider used, result)."""
    order = health.chain(channel, settings)
    notes: list[str] = []
    used, result = order[0], ProviderResult.failure("no provider was tried", retryable=True)
    tried = False
    for name in order:
        if health.is_open(name, settings):
            notes.append(f"{name}: circuit open")
            continue
        used, tried = name, True
        try:
            result = provider_named(name, channel, settings).send(message)
        except PermanentError as exc:
            result = ProviderResult.failure(exc.detail, retryable=False)
        health.record(
            name, ok=result.ok, retryable=result.retryable, summary=result.summary, s=settings
        )
        notes.append(f"{name}: {result.summary}" if len(order) > 1 else result.summary)
        if result.ok or not result.retryable:
            break
    if not tried:
        result = ProviderResult.failure("every provider's circuit is open", retryable=True)
    return used, replace(result, summary="; ".join(notes)[:500])


def _finish_skipped(session: Session, facts: DeliveryFacts, reason: str, now: datetime) -> None:
    row = facts.row
    session.execute(
        update(_N)
        .where(_N.c.id == row.id, _N.c.status == row.status.value, _N.c.attempts == row.attempts)
        .values(status=NotificationStatus.SKIPPED.value, finished_at=now, last_error=reason)
    )
    if row.incident_id is not None:
        timeline.record(
            session,
            row.incident_id,
            IncidentEventKind.NOTIFICATION_SKIPPED,
            f"{_capital(CHANNEL_NAMES[row.channel.value])} to {facts.who} skipped: {reason}.",
            actor_label=ENGINE_LABEL,
            data=_data(row),
        )


def _data(row: Notification, **extra: Any) -> dict[str, Any]:
    return {
        "notification_id": row.id,
        "user_id": row.user_id,
        "channel": row.channel.value,
        "page_request_id": row.page_request_id,
        **extra,
    }


def _finish(**values: Any) -> Update:
    """The recording update for one outcome, built once: ours only while still claimed by
    this attempt (after a lease ran out another worker may have taken the row over)."""
    return (
        update(_N)
        .where(
            _N.c.id == bindparam("b_id"),
            _N.c.status == NotificationStatus.SENDING.value,
            _N.c.attempts == bindparam("b_attempt"),
        )
        .values(**values)
    )


_FINISH = {
    DeliverOutcome.DONE: _finish(
        status=bindparam("b_status"),
        finished_at=bindparam("b_now"),
        last_error="",
        provider=bindparam("b_provider"),  # the failover provider when it delivered
    ),
    DeliverOutcome.RETRY: _finish(
        status=NotificationStatus.QUEUED.value,
        next_attempt_at=bindparam("b_retry_at"),
        last_error=bindparam("b_error"),
    ),
    DeliverOutcome.FAILED: _finish(
        status=NotificationStatus.FAILED.value,
        finished_at=bindparam("b_now"),
        next_attempt_at=None,
        last_error=bindparam("b_error"),
    ),
}
_INSERT_ATTEMPT = insert(_ATTEMPT)


def _record(
    facts: DeliveryFacts, attempt: int, provider: str, result: ProviderResult, duration_ms: int
) -> DeliverOutcome:
    settings = get_settings().notifications
    now = clock.now()
    row = facts.row
    notification_id = row.id or 0
    params: dict[str, Any] = {"b_id": notification_id, "b_attempt": attempt, "b_now": now}
    retry_at = now
    if result.ok:
        outcome = DeliverOutcome.DONE
        params |= {"b_status": result.status, "b_provider": provider}
    elif result.retryable and attempt < settings.max_attempts:
        outcome = DeliverOutcome.RETRY
        retry_at += timedelta(seconds=rules.backoff_seconds(attempt, settings.backoff_base_seconds))
        params |= {"b_retry_at": retry_at, "b_error": result.summary[:500]}
    else:
        outcome = DeliverOutcome.FAILED
        params |= {"b_error": result.summary[:500]}
    if outcome is DeliverOutcome.DONE and not is_sqlite(get_engine()):
        # The common outcome in one statement (delivery_statements.py); retries and failures
        # enqueue and fall back, below.
        line = None
        if row.incident_id is not None:
            line = _outcome_line(facts, outcome, attempt, result)
        recorded = delivery_statements.record_done(
            notification_id=notification_id,
            attempt=attempt,
            provider=provider,
            status=result.status,
            duration_ms=duration_ms,
            response=result.summary[:500],
            now=now,
            line=line,
        )
        return outcome if recorded else DeliverOutcome.STALE
    with unit_of_work() as uow:
        session = uow.session
        session.execute(
            _INSERT_ATTEMPT,
            {
                "notification_id": notification_id,
                "attempt": attempt,
                "provider": provider,
                "status": NotificationStatus(result.status),
                "duration_ms": duration_ms,
                "response": result.summary[:500],
                "at": now,
            },
        )
        still_ours = session.execute(_FINISH[outcome], params)
        if not still_ours.rowcount:  # type: ignore[attr-defined]  # CursorResult
            return DeliverOutcome.STALE  # the attempt above is kept
        if outcome is DeliverOutcome.RETRY:
            uow.after_commit(lambda: send(notification_id, retry_at))
        if outcome is DeliverOutcome.FAILED and result.gone:
            _forget_gone_method(uow, row, result)
        if row.incident_id is not None and outcome is not DeliverOutcome.RETRY:
            _timeline_outcome(session, facts, outcome, attempt, result)
        if outcome is DeliverOutcome.FAILED and row.purpose is NotificationPurpose.PAGE:
            after_page_failure(uow, facts)
    return outcome


def _forget_gone_method(uow: UnitOfWork, row: Notification, result: ProviderResult) -> None:
    """The provider says the address no longer exists (a browser unsubscribed): remove the
    contact method, as push services ask, so no later page is planned for it and its owner is
    warned when it was their only way to be reached (USER-03). Audited, with the reason."""
    method = (
        uow.session.get(ContactMethod, row.contact_method_id) if row.contact_method_id else None
    )
    if method is None:
        return
    uow.session.delete(method)
    audit.record(
        uow,
        Actor.system("notification delivery"),
        "notifications.contact_method.removed",
        target_type="user",
        target_id=method.user_id,
        severity=AuditSeverity.LOW,
        diff={
            "kind": str(method.kind),
            "address": masked(method.kind, method.address),
            "reason": result.summary[:200],
        },
    )


def after_page_failure(uow: UnitOfWork, facts: DeliveryFacts) -> None:
    """A page notification has just failed for good (its FAILED status is written in this
    transaction): fall back to the next channel tier and, when e-mail and SMS have both
    failed, page the platform admins. The page request's row is locked first, so failures of
    one page request finishing together are decided one after the other, each seeing the
    statuses the ones before it committed (PostgreSQL row lock; SQLite has one writer)."""
    session, row = uow.session, facts.row
    if row.page_request_id is None or row.incident_id is None or facts.context is None:
        return
    session.execute(update(_PR).where(_PR.c.id == row.page_request_id).values(status=_PR.c.status))
    planned = fallback.after_failure(session, row, facts.who)
    planned += critical.after_failure(session, row, facts.context, facts.who)
    if planned:
        uow.after_commit(lambda: _send_all(planned))


def _timeline_outcome(
    session: Session,
    facts: DeliveryFacts,
    outcome: DeliverOutcome,
    attempt: int,
    result: ProviderResult,
) -> None:
    timeline.record_lines(session, [_outcome_line(facts, outcome, attempt, result)])


def _outcome_line(
    facts: DeliveryFacts, outcome: DeliverOutcome, attempt: int, result: ProviderResult
) -> dict[str, Any]:
    """The page's timeline line for a finished delivery: "Paged Ann by SMS." or a failure."""
    row = facts.row
    assert row.incident_id is not None
    channel, who = CHANNEL_NAMES[row.channel.value], facts.who
    if outcome is DeliverOutcome.DONE:
        kind, summary = IncidentEventKind.NOTIFIED, f"Paged {who} by {channel}."
    else:
        kind = IncidentEventKind.NOTIFICATION_FAILED
        summary = (
            f"{_capital(channel)} to {who} failed after {attempt} attempt(s): {result.summary}"
        )
    return timeline.line(
        row.incident_id,
        kind,
        summary,
        actor_label=ENGINE_LABEL,
        data=_data(row, attempts=attempt, provider=row.provider),
    )


# --- the sweeper -----------------------------------------------------------------------------


def sweep(now: datetime | None = None) -> int:
    """Re-send every notification past due (or past its lease) by more than the grace.

    One this sweeper already re-sent is not re-sent again before its back-off
    (``sweep_backoff``): under a backlog its message is most likely still queued.
    """
    settings = get_settings().notifications
    now = now or clock.now()
    grace = timedelta(seconds=settings.sweep_grace_seconds)
    with unit_of_work() as uow:
        due = uow.session.execute(
            select(_N.c.id, _N.c.attempts, _N.c.next_attempt_at)
            .where(
                _N.c.status.in_(
                    [NotificationStatus.QUEUED.value, NotificationStatus.SENDING.value]
                ),
                _N.c.next_attempt_at <= now - grace,
                # Re-sent by an earlier sweep: probably still queued, wait out its back-off.
                or_(_N.c.resend_after.is_(None), _N.c.resend_after <= now),
            )
            .order_by(_N.c.next_attempt_at)
            .limit(settings.sweep_batch)
        ).all()
    stamps = []
    for notification_id, attempts, due_at in due:
        log.info("notification_rearmed", notification_id=notification_id)
        if try_send(int(notification_id)):
            stamps.append(
                {
                    "b_id": notification_id,
                    "b_attempts": attempts,
                    "b_after": sweep_backoff.resend_after(now, due_at, grace),
                }
            )
    if stamps:
        # Stamped only once sent (a failed send is retried by the next sweep); compare-and-set
        # on the attempt count, so a row claimed meanwhile keeps its cleared stamp.
        with unit_of_work() as uow:
            uow.session.execute(
                update(_N)
                .where(_N.c.id == bindparam("b_id"), _N.c.attempts == bindparam("b_attempts"))
                .values(resend_after=bindparam("b_after")),
                stamps,
            )
    return len(due)

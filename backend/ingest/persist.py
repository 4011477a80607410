"""Writing one accepted delivery: the log row, the idempotency claim, the alerts and their
grouping, all in the caller's unit of work; events and jobs are registered for after commit."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from backend.core.db import UnitOfWork, insert_ignoring_conflict, unit_of_work
from backend.core.events import DomainEvent, publish_all
from backend.core.jobs import JobName, enqueue
from backend.incidents.ingest_hooks import GroupingChanges, after_grouping
from backend.ingest import grouping
from backend.ingest.auth import IntegrationSnapshot
from backend.ingest.cache import TTLCache
from backend.ingest.models import (
    Alert,
    DeliveryOutcome,
    IdempotencyRecord,
    InboundDelivery,
    MaintenanceWindow,
    RoutingRule,
)
from backend.ingest.normalise import DeliveryKind, EventAction, NormalisedAlert, ParsedDelivery
from backend.ingest.routing import Matcher, MatchOp, Rule, route
from backend.ingest.schemas import AlertOutcome, IngestResult

_DELIVERY = InboundDelivery.__table__  # type: ignore[attr-defined]  # set by SQLModel
_CLAIM = IdempotencyRecord.__table__  # type: ignore[attr-defined]  # set by SQLModel
_ALERT = Alert.__table__  # type: ignore[attr-defined]  # set by SQLModel
_WINDOW = MaintenanceWindow.__table__  # type: ignore[attr-defined]  # set by SQLModel
_rules: TTLCache[list[Rule]] = TTLCache()
_maintenance: TTLCache[list[tuple[datetime, datetime]]] = TTLCache()
_EVENT_ALERT_IDS = 50
T = TypeVar("T")


@dataclass(frozen=True)
class DeliveryInput:
    integration: IntegrationSnapshot
    parsed: ParsedDelivery
    received_at: datetime
    fingerprint: str
    idempotency_key: str | None
    headers: dict[str, str]
    remote_ip: str
    body: str
    body_truncated: bool
    triage_service_id: int


def record_rejection(session: Session, **fields: Any) -> None:
    """Log a refused delivery (its reason is the error code)."""
    session.add(InboundDelivery(outcome=DeliveryOutcome.REJECTED, **fields))


def _insert_delivery(session: Session, d: DeliveryInput) -> int:
    stmt = (
        insert(_DELIVERY)
        .values(
            integration_id=d.integration.id,
            received_at=d.received_at,
            outcome=DeliveryOutcome.ACCEPTED,
            reason="",
            detail="",
            http_status=202,
            headers=d.headers,
            remote_ip=d.remote_ip[:64],
            idempotency_key=d.idempotency_key,
            fingerprint=d.fingerprint,
            body=d.body,
            body_truncated=d.body_truncated,
            alert_count=len(d.parsed.alerts),
        )
        .returning(_DELIVERY.c.id)
    )
    return int(session.execute(stmt).scalar_one())


def claim_key(d: DeliveryInput) -> str:
    """The idempotency claim's key: the delivery's own id if it has one, else its content."""
    if d.idempotency_key:
        return f"id:{hashlib.sha256(d.idempotency_key.encode()).hexdigest()}"
    return f"fp:{d.fingerprint}"


def claim_expires(d: DeliveryInput) -> datetime:
    return d.received_at + timedelta(seconds=d.integration.dedup_window_seconds)


def _claim(session: Session, d: DeliveryInput, delivery_id: int) -> int | None:
    """Claim the delivery's idempotency key; the earlier delivery's id if it is still held."""
    key = claim_key(d)
    expires = claim_expires(d)
    where = (_CLAIM.c.integration_id == d.integration.id, _CLAIM.c.key == key)
    for _ in range(3):
        row = insert_ignoring_conflict(
            session,
            _CLAIM,
            {
                "integration_id": d.integration.id,
                "key": key,
                "delivery_id": delivery_id,
                "expires_at": expires,
            },
            index_elements=["integration_id", "key"],
            returning=["delivery_id"],
        )
        if row is not None:
            return None
        held = session.execute(
            select(_CLAIM.c.delivery_id, _CLAIM.c.expires_at).where(*where)
        ).first()
        if held is None:
            continue  # purged in between: claim again
        if held[1] > d.received_at:
            return int(held[0])
        # Expired: take it over, compare-and-set on the expiry we read.
        taken = session.execute(
            update(_CLAIM)
            .where(*where, _CLAIM.c.expires_at == held[1])
            .values(delivery_id=delivery_id, expires_at=expires)
        )
        if taken.rowcount:  # type: ignore[attr-defined]  # CursorResult
            return None
    msg = "idempotency claim did not settle"
    raise RuntimeError(msg)


def _mark(
    session: Session, delivery_id: int, outcome: DeliveryOutcome, reason: str, detail: str = ""
) -> None:
    session.execute(
        update(_DELIVERY)
        .where(_DELIVERY.c.id == delivery_id)
        .values(outcome=outcome, reason=reason, detail=detail[:1000], alert_count=0)
    )


def _repeated(session: Session, delivery_id: int, prior_id: int) -> IngestResult:
    _mark(
        session,
        delivery_id,
        DeliveryOutcome.DUPLICATE,
        "repeated",
        f"repeat of delivery {prior_id}",
    )
    stmt = (
        select(_ALERT.c.id, _ALERT.c.incident_id, _ALERT.c.dedup_key)
        .where(_ALERT.c.delivery_id == prior_id)
        .order_by(_ALERT.c.id)
    )
    alerts = [
        AlertOutcome(id=row[0], outcome="repeated", incident_id=row[1], dedup_key=row[2])
        for row in session.execute(stmt)
    ]
    return IngestResult(
        delivery_id=delivery_id, outcome=DeliveryOutcome.DUPLICATE, alerts=alerts,
        note=f"repeat of delivery {prior_id}",
    )  # fmt: skip


def _load_rules(session: Session) -> list[Rule]:
    rows = session.exec(orm_select(RoutingRule).where(col(RoutingRule.enabled).is_(True))).all()
    return [
        Rule(
            id=r.id or 0,
            position=r.position,
            target_service_id=r.target_service_id,
            integration_id=r.integration_id,
            matchers=tuple(Matcher(m["label"], MatchOp(m["op"]), m["value"]) for m in r.matchers),
        )
        for r in rows
    ]


def _windows(session: Session, service_id: int, now: datetime) -> list[tuple[datetime, datetime]]:
    stmt = select(_WINDOW.c.starts_at, _WINDOW.c.ends_at).where(
        _WINDOW.c.service_id == service_id, _WINDOW.c.ends_at > now
    )
    return [(r[0], r[1]) for r in session.execute(stmt)]


def in_maintenance(session: Session | None, service_id: int, at: datetime) -> bool:
    """Whether ``service_id`` is inside a maintenance window at ``at`` (cached a few seconds).
    Without a session, a cache miss reads the windows in a short transaction of its own."""
    windows = _maintenance.get(
        str(service_id), lambda: _with_session(session, lambda s: _windows(s, service_id, at))
    )
    return any(start <= at < end for start, end in windows)


def route_of(session: Session | None, d: DeliveryInput, alert: NormalisedAlert) -> int:
    """The service ``alert`` goes to (routing rules cached a few seconds). Without a session,
    a cache miss reads the rules in a short transaction of its own."""
    rules = _rules.get("rules", lambda: _with_session(session, _load_rules))
    return route(
        integration_id=d.integration.id,
        integration_service_id=d.integration.service_id,
        labels=alert.labels,
        rules=rules,
        triage_service_id=d.triage_service_id,
    )


def _with_session(session: Session | None, load: Callable[[Session], T]) -> T:
    if session is not None:
        return load(session)
    with unit_of_work() as uow:
        return load(uow.session)


def _group(
    session: Session,
    d: DeliveryInput,
    delivery_id: int,
    alert: NormalisedAlert,
    ctx_list: list[grouping.GroupingContext],
) -> AlertOutcome:
    service_id = route_of(session, d, alert)
    ctx = grouping.GroupingContext(
        service_id=service_id,
        received_at=d.received_at,
        window_seconds=d.integration.dedup_window_seconds,
        auto_resolve=d.integration.auto_resolve,
        in_maintenance=in_maintenance(session, service_id, d.received_at),
        integration_id=d.integration.id,
        delivery_id=delivery_id,
    )
    ctx_list.append(ctx)
    if alert.action is EventAction.RESOLVE:
        return grouping.resolve(session, ctx, alert)
    if alert.action is EventAction.ACKNOWLEDGE:
        return grouping.acknowledge(session, ctx, alert)
    return grouping.trigger(session, ctx, alert)


def store_delivery(uow: UnitOfWork, d: DeliveryInput) -> IngestResult:
    """Persist one authenticated, parsed delivery and group its alerts."""
    session = uow.session
    delivery_id = _insert_delivery(session, d)
    prior = _claim(session, d, delivery_id)
    if prior is not None:
        return _repeated(session, delivery_id, prior)
    parsed = d.parsed
    if parsed.kind is DeliveryKind.SUBSCRIPTION_CONFIRMATION:
        _mark(
            session, delivery_id, DeliveryOutcome.ACCEPTED, "subscription_confirmation", parsed.note
        )
        uow.after_commit(_confirm_later)
        return IngestResult(
            delivery_id=delivery_id,
            outcome=DeliveryOutcome.ACCEPTED,
            note="subscription confirmation queued",
        )
    if parsed.kind is DeliveryKind.IGNORED:
        _mark(session, delivery_id, DeliveryOutcome.IGNORED, "ignored", parsed.note)
        return IngestResult(
            delivery_id=delivery_id, outcome=DeliveryOutcome.IGNORED, note=parsed.note
        )
    contexts: list[grouping.GroupingContext] = []
    outcomes = [_group(session, d, delivery_id, alert, contexts) for alert in parsed.alerts]
    _announce(uow, d, delivery_id, outcomes, contexts)
    return IngestResult(delivery_id=delivery_id, outcome=DeliveryOutcome.ACCEPTED, alerts=outcomes)


def _announce(
    uow: UnitOfWork,
    d: DeliveryInput,
    delivery_id: int,
    outcomes: list[AlertOutcome],
    contexts: list[grouping.GroupingContext],
) -> None:
    after_grouping(
        uow,
        grouping_changes(d, outcomes, contexts),
    )
    events = delivery_events(d, delivery_id, outcomes, contexts)
    uow.after_commit(lambda: publish(events))


def grouping_changes(
    d: DeliveryInput, outcomes: list[AlertOutcome], contexts: list[grouping.GroupingContext]
) -> GroupingChanges:
    return GroupingChanges(
        source_label=f"integration:{d.integration.name}",
        opened=[i for c in contexts for i in c.opened],
        resolved=[i for c in contexts for i in c.resolved],
        acknowledged=[
            o.incident_id for o in outcomes if o.outcome == "acknowledged" and o.incident_id
        ],
        alerts=[
            (o.id, o.incident_id)
            for o in outcomes
            if o.outcome in ("new", "grouped") and o.id and o.incident_id
        ],
    )


def delivery_events(
    d: DeliveryInput,
    delivery_id: int,
    outcomes: list[AlertOutcome],
    contexts: list[grouping.GroupingContext],
) -> list[DomainEvent]:
    """The domain events announcing an accepted delivery (published after commit)."""
    services = sorted({c.service_id for c in contexts})
    events = [
        DomainEvent(
            name="alerts.alert.received",
            payload={
                "delivery_id": delivery_id,
                "integration_id": d.integration.id,
                "alert_ids": [o.id for o in outcomes if o.id is not None][:_EVENT_ALERT_IDS],
                "count": len(outcomes),
            },
            topics=("alerts", *(f"service:{s}" for s in services)),
            actor_label=f"integration:{d.integration.name}",
        )
    ]
    for ctx in contexts:
        for name, ids in (
            ("incidents.incident.opened", ctx.opened),
            ("incidents.incident.resolved", ctx.resolved),
        ):
            events.extend(
                DomainEvent(
                    name=name,
                    payload={
                        "incident_id": i,
                        "service_id": ctx.service_id,
                        "in_maintenance": ctx.in_maintenance,
                    },
                    topics=("incidents", f"service:{ctx.service_id}"),
                    actor_label=f"integration:{d.integration.name}",
                )
                for i in ids
            )
    return events


def _confirm_later() -> None:
    enqueue(JobName.CONFIRM_SNS_SUBSCRIPTIONS)


def publish(events: list[DomainEvent]) -> None:
    publish_all(events)

"""Heartbeat monitors (ALERT-03): a source checks in on a secret URL; a periodic job opens an
incident when a check-in is missed (interval + grace), and the next check-in resolves it.

Check-ins and the job both write with compare-and-set conditions, so a check-in racing the
job either prevents the incident or resolves it right after; neither is lost.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from backend.audit import service as audit
from backend.core import clock
from backend.core.actor import Actor
from backend.core.db import UnitOfWork, unit_of_work
from backend.core.events import DomainEvent, get_bus
from backend.core.secrets import new_token, sha256_hex
from backend.core.settings import get_settings
from backend.incidents.ingest_hooks import GroupingChanges, after_grouping
from backend.incidents.models import Severity
from backend.ingest import access, grouping
from backend.ingest.errors import HeartbeatNotFound
from backend.ingest.models import HeartbeatMonitor, HeartbeatStatus
from backend.ingest.normalise import EventAction, NormalisedAlert
from backend.ingest.persist import in_maintenance
from backend.ingest.schemas import HeartbeatCreate, HeartbeatCreated, HeartbeatOut
from backend.teams.policy import TeamAction

_MONITOR = HeartbeatMonitor.__table__  # type: ignore[attr-defined]  # set by SQLModel


def check_in_url(token: str) -> str:
    return f"{get_settings().base_url.rstrip('/')}/api/v1/heartbeats/{token}"


def _out(row: HeartbeatMonitor) -> HeartbeatOut:
    return HeartbeatOut.model_validate(row, from_attributes=True)


def _alert(monitor: HeartbeatMonitor, action: EventAction, at_text: str) -> NormalisedAlert:
    return NormalisedAlert(
        title=f"Heartbeat missed: {monitor.name}",
        action=action,
        severity=Severity.HIGH,
        description=(
            f"No check-in for {monitor.interval_seconds} s"
            f" + {monitor.grace_seconds} s grace ({at_text})."
        ),
        source="heartbeat",
        dedup_key=f"heartbeat:{monitor.id}",
        labels={"heartbeat": monitor.name},
    )


def create_monitor(actor: Actor, data: HeartbeatCreate) -> HeartbeatCreated:
    """Create a monitor for a service (TEAM_ADMIN); its check-in URL is in the result only.

    Raises:
        Unauthenticated, NotFound (service), PermissionDenied.
    """
    token = new_token(24)
    with unit_of_work() as uow:
        access.authorize_service(uow.session, actor, data.service_id, TeamAction.EDIT)
        row = HeartbeatMonitor(
            name=data.name, service_id=data.service_id, token_hash=sha256_hex(token),
            interval_seconds=data.interval_seconds, grace_seconds=data.grace_seconds,
            # The first deadline starts now: a monitor that never checks in is missed too.
            due_at=clock.now() + timedelta(seconds=data.interval_seconds + data.grace_seconds),
        )  # fmt: skip
        uow.session.add(row)
        uow.session.flush()
        audit.record(
            uow, actor, "ingest.heartbeat.created", target_type="heartbeat", target_id=row.id,
            target_label=row.name, diff={"after": data.model_dump()},
        )  # fmt: skip
        return HeartbeatCreated(monitor=_out(row), check_in_url=check_in_url(token))


def list_monitors(actor: Actor, service_id: int) -> list[HeartbeatOut]:
    """A service's heartbeat monitors (team members).

    Raises:
        Unauthenticated, NotFound, PermissionDenied.
    """
    with unit_of_work() as uow:
        access.authorize_service(uow.session, actor, service_id, TeamAction.VIEW)
        stmt = select(HeartbeatMonitor).where(HeartbeatMonitor.service_id == service_id)
        return [_out(row) for row in uow.session.exec(stmt.order_by(col(HeartbeatMonitor.name)))]


def delete_monitor(actor: Actor, monitor_id: int) -> None:
    """Delete a monitor (TEAM_ADMIN). An incident it already opened stays open: someone is
    looking at it, and deleting the monitor is not evidence that the source came back.

    Raises:
        HeartbeatNotFound, PermissionDenied.
    """
    with unit_of_work() as uow:
        row = uow.session.get(HeartbeatMonitor, monitor_id)
        if row is None:
            raise HeartbeatNotFound(f"Heartbeat monitor {monitor_id} does not exist.")
        access.authorize_service(uow.session, actor, row.service_id, TeamAction.EDIT)
        audit.record(
            uow, actor, "ingest.heartbeat.deleted", target_type="heartbeat", target_id=row.id,
            target_label=row.name, diff={"before": {"service_id": row.service_id}},
        )  # fmt: skip
        uow.session.delete(row)


def check_in(token: str) -> HeartbeatOut:
    """Record a check-in; resolves the missed-heartbeat incident if the monitor was down.

    Raises:
        HeartbeatNotFound: no enabled monitor has this token.
    """
    now = clock.now()
    with unit_of_work() as uow:
        row = uow.session.exec(
            select(HeartbeatMonitor).where(HeartbeatMonitor.token_hash == sha256_hex(token))
        ).first()
        if row is None or not row.enabled:
            raise HeartbeatNotFound("No heartbeat monitor has this check-in URL.")
        was_down = row.status is HeartbeatStatus.DOWN
        row.status = HeartbeatStatus.UP
        row.last_check_in_at = now
        row.due_at = now + timedelta(seconds=row.interval_seconds + row.grace_seconds)
        uow.session.add(row)
        if was_down:
            ctx = grouping.GroupingContext(
                service_id=row.service_id, received_at=now, window_seconds=0, auto_resolve=True
            )
            grouping.resolve(uow.session, ctx, _alert(row, EventAction.RESOLVE, now.isoformat()))
            _announce(uow, ctx)
        return _out(row)


def check_heartbeats() -> int:
    """Open an incident for every enabled monitor past its deadline; returns how many."""
    now = clock.now()
    missed = 0
    with unit_of_work() as uow:
        due = uow.session.exec(
            select(HeartbeatMonitor).where(
                col(HeartbeatMonitor.enabled).is_(True),
                HeartbeatMonitor.status != HeartbeatStatus.DOWN,
                col(HeartbeatMonitor.due_at) <= now,
            )
        ).all()
        for row in due:
            # Compare-and-set on due_at: a check-in that landed meanwhile moved it.
            taken = uow.session.execute(
                update(_MONITOR)
                .where(_MONITOR.c.id == row.id, _MONITOR.c.due_at == row.due_at)
                .values(status=HeartbeatStatus.DOWN)
            )
            if not taken.rowcount:  # type: ignore[attr-defined]  # CursorResult
                continue
            ctx = grouping.GroupingContext(
                service_id=row.service_id, received_at=now, window_seconds=0, auto_resolve=True,
                in_maintenance=in_maintenance(uow.session, row.service_id, now),
            )  # fmt: skip
            grouping.trigger(uow.session, ctx, _alert(row, EventAction.TRIGGER, now.isoformat()))
            _announce(uow, ctx)
            missed += 1
    return missed


def _announce(uow: UnitOfWork, ctx: grouping.GroupingContext) -> None:
    after_grouping(
        uow, GroupingChanges(source_label="heartbeat", opened=ctx.opened, resolved=ctx.resolved)
    )
    for name, ids in (
        ("incidents.incident.opened", ctx.opened),
        ("incidents.incident.resolved", ctx.resolved),
    ):
        for incident_id in ids:
            event = DomainEvent(
                name=name,
                payload={
                    "incident_id": incident_id,
                    "service_id": ctx.service_id,
                    "source": "heartbeat",
                },
                topics=("incidents", f"service:{ctx.service_id}"),
                actor_label="heartbeat",
            )
            uow.after_commit(lambda event=event: get_bus().publish(event))  # type: ignore[misc]  # default binds the loop value

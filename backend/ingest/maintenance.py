"""Maintenance windows per service (ALERT-04): alerts are still stored and grouped; incidents
opened inside a window are marked ``in_maintenance`` so paging (the incidents issue) skips them.
"""

from __future__ import annotations

from sqlmodel import col, select

from backend.audit import service as audit
from backend.core import clock
from backend.core.actor import Actor
from backend.core.db import unit_of_work
from backend.ingest import access, cache
from backend.ingest.errors import MaintenanceWindowNotFound
from backend.ingest.models import MaintenanceWindow
from backend.ingest.schemas import MaintenanceWindowCreate, MaintenanceWindowOut
from backend.teams.policy import TeamAction


def _out(row: MaintenanceWindow) -> MaintenanceWindowOut:
    return MaintenanceWindowOut.model_validate(row, from_attributes=True)


def create_window(actor: Actor, data: MaintenanceWindowCreate) -> MaintenanceWindowOut:
    """Schedule a maintenance window for a service (TEAM_ADMIN).

    Raises:
        Unauthenticated, NotFound (service), PermissionDenied.
    """
    with unit_of_work() as uow:
        access.authorize_service(uow.session, actor, data.service_id, TeamAction.EDIT)
        row = MaintenanceWindow(
            service_id=data.service_id, starts_at=data.starts_at, ends_at=data.ends_at,
            reason=data.reason, created_by=actor.label[:200],
        )  # fmt: skip
        uow.session.add(row)
        uow.session.flush()
        audit.record(
            uow, actor, "ingest.maintenance.created", target_type="service",
            target_id=data.service_id, diff={"after": data.model_dump()},
        )  # fmt: skip
        uow.after_commit(cache.clear_all)
        return _out(row)


def list_windows(
    actor: Actor, service_id: int, *, include_past: bool = False
) -> list[MaintenanceWindowOut]:
    """A service's current and upcoming windows (and past ones on request).

    Raises:
        Unauthenticated, NotFound, PermissionDenied.
    """
    with unit_of_work() as uow:
        access.authorize_service(uow.session, actor, service_id, TeamAction.VIEW)
        stmt = select(MaintenanceWindow).where(MaintenanceWindow.service_id == service_id)
        if not include_past:
            stmt = stmt.where(col(MaintenanceWindow.ends_at) > clock.now())
        rows = uow.session.exec(stmt.order_by(col(MaintenanceWindow.starts_at)))
        return [_out(row) for row in rows]


def delete_window(actor: Actor, window_id: int) -> None:
    """Cancel a maintenance window (TEAM_ADMIN).

    Raises:
        MaintenanceWindowNotFound, PermissionDenied.
    """
    with unit_of_work() as uow:
        row = uow.session.get(MaintenanceWindow, window_id)
        if row is None:
            raise MaintenanceWindowNotFound(f"Maintenance window {window_id} does not exist.")
        access.authorize_service(uow.session, actor, row.service_id, TeamAction.EDIT)
        audit.record(
            uow, actor, "ingest.maintenance.deleted", target_type="service",
            target_id=row.service_id, diff={"window_id": window_id},
        )  # fmt: skip
        uow.session.delete(row)
        uow.after_commit(cache.clear_all)

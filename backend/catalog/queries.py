"""Reads for the service catalogue. Session-level, so other domains (ingestion, routing) can
read services inside their own unit of work."""

from __future__ import annotations

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from backend.catalog.graph import Edge
from backend.catalog.models import Service, ServiceDependency
from backend.teams.models import Team


def service_by_id(session: Session, service_id: int) -> Service | None:
    return session.get(Service, service_id)


def service_by_slug(session: Session, slug: str) -> Service | None:
    return session.exec(select(Service).where(Service.slug == slug)).first()


def triage_service(session: Session) -> Service | None:
    """The platform triage service, if it has been created (see ``ensure_triage_service``)."""
    return session.exec(select(Service).where(col(Service.is_triage).is_(True))).first()


def all_services(
    session: Session, *, team_id: int | None = None, tag: str = "", text: str = ""
) -> list[Service]:
    """Services by name, filtered by owning team, tag and text (name, slug or description)."""
    stmt = select(Service).order_by(col(Service.name))
    if team_id is not None:
        stmt = stmt.where(Service.team_id == team_id)
    if text:
        pattern = f"%{text}%"
        stmt = stmt.where(
            or_(
                col(Service.name).ilike(pattern),
                col(Service.slug).ilike(pattern),
                col(Service.description).ilike(pattern),
            )
        )
    services = list(session.exec(stmt))
    if tag:
        wanted = tag.strip().lower()
        services = [s for s in services if wanted in s.tags]
    return services


def services_by_ids(session: Session, ids: set[int]) -> dict[int, Service]:
    if not ids:
        return {}
    stmt = select(Service).where(col(Service.id).in_(ids))
    return {s.id: s for s in session.exec(stmt) if s.id is not None}


def team_names(session: Session, team_ids: set[int]) -> dict[int, str]:
    if not team_ids:
        return {}
    stmt = select(Team.id, Team.name).where(col(Team.id).in_(team_ids))
    return {tid: name for tid, name in session.exec(stmt) if tid is not None}


def all_edges(session: Session) -> list[Edge]:
    """Every dependency edge ``(service, depends_on)``, for the pure graph algorithms."""
    stmt = select(ServiceDependency.service_id, ServiceDependency.depends_on_id)
    return [(a, b) for a, b in session.exec(stmt)]


def edges_touching(session: Session, service_id: int) -> list[Edge]:
    """The edges into and out of one service."""
    stmt = select(ServiceDependency.service_id, ServiceDependency.depends_on_id).where(
        or_(
            col(ServiceDependency.service_id) == service_id,
            col(ServiceDependency.depends_on_id) == service_id,
        )
    )
    return [(a, b) for a, b in session.exec(stmt)]


def dependency_exists(session: Session, service_id: int, depends_on_id: int) -> bool:
    return session.get(ServiceDependency, (service_id, depends_on_id)) is not None


def edge_counts(session: Session) -> tuple[dict[int, int], dict[int, int]]:
    """``(dependencies per service, dependents per service)``."""
    out_stmt = select(ServiceDependency.service_id, func.count()).group_by(
        col(ServiceDependency.service_id)
    )
    in_stmt = select(ServiceDependency.depends_on_id, func.count()).group_by(
        col(ServiceDependency.depends_on_id)
    )
    return dict(session.exec(out_stmt).all()), dict(session.exec(in_stmt).all())


def lock_graph(session: Session) -> None:
    """Serialize changes to the dependency graph until this transaction ends.

    A cycle can be closed by two concurrent inserts that each look safe on their own, so graph
    writers queue on one row: the triage service's (it always exists and is never deleted).
    A no-op UPDATE takes the row lock on PostgreSQL and the database write lock on SQLite,
    and the reads that follow see everything committed before.
    """
    session.exec(update(Service).where(col(Service.is_triage).is_(True)).values(is_triage=True))

"""Service catalogue commands and reads. The only writer of services and their dependencies.

Every command authorizes the actor (TEAM_ADMIN of the owning team, or a platform admin), writes
an audit row in the same transaction and publishes a domain event after commit (topics
``services`` and ``service:<id>``). The platform triage service belongs to no team: only
platform admins change it and nobody deletes it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from backend.audit import service as audit
from backend.audit.models import Severity
from backend.catalog import graph, queries
from backend.catalog.errors import (
    DependencyCycle,
    DependencyExists,
    DependencyNotFound,
    ServiceHasDependents,
    ServiceHasHistory,
    ServiceNameTaken,
    ServiceNotFound,
    TriageServiceProtected,
)
from backend.catalog.models import Service, ServiceDependency
from backend.catalog.schemas import (
    TRIAGE_NAME,
    TRIAGE_SLUG,
    DependencyEdge,
    ImpactNode,
    ServiceCreate,
    ServiceDetail,
    ServiceImpact,
    ServiceLink,
    ServiceOut,
    ServiceRef,
    ServiceUpdate,
    slugify,
)
from backend.core import clock
from backend.core.actor import Actor, require_authenticated
from backend.core.db import UnitOfWork, unit_of_work
from backend.core.errors import DomainError, PermissionDenied, ValidationFailed
from backend.core.events import DomainEvent, get_bus
from backend.escalation.models import EscalationPolicy
from backend.teams import queries as team_queries
from backend.teams import service as teams
from backend.teams.policy import TeamAction

TRIAGE_DESCRIPTION = (
    "Where alerts that match no integration route or rule land, so nothing is ever dropped."
)
_SYSTEM = Actor.system("catalog")


# --- the platform triage service -------------------------------------------------------------


def ensure_triage_service() -> int:
    """The id of the platform triage service, creating it on first use.

    Idempotent and safe under concurrent calls: the unique partial index on ``is_triage``
    lets exactly one insert win; the losers re-read the winner's row. Runs in its own
    transaction, so call it before opening yours (on SQLite a nested writer would wait for
    the outer one).
    """
    with unit_of_work() as uow:
        existing = queries.triage_service(uow.session)
        if existing is not None and existing.id is not None:
            return existing.id
    try:
        with unit_of_work() as uow:
            service = Service(
                name=TRIAGE_NAME, slug=TRIAGE_SLUG, description=TRIAGE_DESCRIPTION, is_triage=True
            )
            uow.session.add(service)
            uow.session.flush()
            assert service.id is not None
            _audit(uow, _SYSTEM, "catalog.service.created", service, {"after": _snapshot(service)})
            _publish(uow, _SYSTEM, "catalog.service.created", service.id)
            return service.id
    except IntegrityError:
        with unit_of_work() as uow:
            winner = queries.triage_service(uow.session)
            if winner is None or winner.id is None:
                raise
            return winner.id


# --- authorization -----------------------------------------------------------------------------


def _load(session: Session, service_id: int) -> Service:
    service = queries.service_by_id(session, service_id)
    if service is None:
        raise ServiceNotFound(f"Service {service_id} does not exist.")
    return service


def _authorize(session: Session, actor: Actor, service: Service, action: TeamAction) -> None:
    """Raises Unauthenticated, PermissionDenied (and TeamNotFound for a dangling owner)."""
    require_authenticated(actor)
    if service.is_triage or service.team_id is None:
        if not actor.is_platform_admin:
            raise PermissionDenied("Only platform admins change the platform triage service.")
        return
    teams.authorize(session, actor, service.team_id, action)


def _authorize_owner(session: Session, actor: Actor, team_id: int) -> None:
    """The owner team must exist (422 on the body field) and the actor must administer it."""
    if team_queries.team_by_id(session, team_id) is None:
        raise ValidationFailed.field("team_id", f"team {team_id} does not exist")
    teams.authorize(session, actor, team_id, TeamAction.EDIT)


def _check_policy(session: Session, policy_id: int | None, team_id: int | None) -> None:
    """The policy must exist and belong to the owner team (the triage service may use any)."""
    if policy_id is None:
        return
    policy = session.get(EscalationPolicy, policy_id)
    if policy is None:
        raise ValidationFailed.field("escalation_policy_id", f"policy {policy_id} does not exist")
    if team_id is not None and policy.team_id != team_id:
        raise ValidationFailed.field(
            "escalation_policy_id", "the policy belongs to another team than the service"
        )


def can_edit(actor: Actor, service_id: int) -> bool:
    """Whether ``actor`` may change the service: for showing buttons; commands check again."""
    try:
        with unit_of_work() as uow:
            _authorize(uow.session, actor, _load(uow.session, service_id), TeamAction.EDIT)
    except DomainError:
        return False
    return True


# --- services ----------------------------------------------------------------------------------


def create_service(actor: Actor, data: ServiceCreate) -> ServiceDetail:
    """Create a service owned by ``data.team_id`` (TEAM_ADMIN of that team).

    Raises:
        Unauthenticated, ValidationFailed (unknown team, reserved name, a policy that is not
        the team's), PermissionDenied,
        ServiceNameTaken.
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        _authorize_owner(uow.session, actor, data.team_id)
        _check_policy(uow.session, data.escalation_policy_id, data.team_id)
        service = Service(
            name=data.name,
            slug=_free_slug(data.name, is_triage=False),
            description=data.description,
            team_id=data.team_id,
            escalation_policy_id=data.escalation_policy_id,
            tags=data.tags,
            links=[link.model_dump() for link in data.links],
        )
        uow.session.add(service)
        _flush_unique(uow, data.name)
        assert service.id is not None
        _audit(uow, actor, "catalog.service.created", service, {"after": _snapshot(service)})
        _publish(uow, actor, "catalog.service.created", service.id)
        return _detail(uow.session, service, actor)


def update_service(actor: Actor, service_id: int, data: ServiceUpdate) -> ServiceDetail:
    """Change the fields sent (TEAM_ADMIN; moving to another team needs TEAM_ADMIN there too).

    Raises:
        ServiceNotFound, PermissionDenied, ValidationFailed, ServiceNameTaken.
    """
    changes = data.model_dump(exclude_unset=True)
    with unit_of_work() as uow:
        service = _load(uow.session, service_id)
        _authorize(uow.session, actor, service, TeamAction.EDIT)
        if "team_id" in changes and changes["team_id"] != service.team_id:
            if changes["team_id"] is None:
                if not service.is_triage:
                    raise ValidationFailed.field("team_id", "a service needs an owner team")
            else:
                _authorize_owner(uow.session, actor, changes["team_id"])
        if {"team_id", "escalation_policy_id"} & changes.keys():
            _check_policy(
                uow.session,
                changes.get("escalation_policy_id", service.escalation_policy_id),
                changes.get("team_id", service.team_id),
            )
        before = _snapshot(service)
        for key, value in changes.items():
            setattr(service, key, value)
        if "name" in changes:
            service.slug = _free_slug(service.name, is_triage=service.is_triage)
        diff = audit.changes(before, _snapshot(service))
        if diff:
            service.updated_at = clock.now()
            uow.session.add(service)
            _flush_unique(uow, service.name)
            _audit(uow, actor, "catalog.service.updated", service, diff)
            _publish(uow, actor, "catalog.service.updated", service_id)
        return _detail(uow.session, service, actor)


def delete_service(actor: Actor, service_id: int) -> None:
    """Delete a service and the dependencies it declares (TEAM_ADMIN).

    Refused while other services depend on it: those edges are their owners' knowledge, and
    dropping them silently would hide impact. The triage service is never deleted.

    Raises:
        ServiceNotFound, PermissionDenied, TriageServiceProtected, ServiceHasDependents,
        ServiceHasHistory.
    """
    ensure_triage_service()
    with unit_of_work() as uow:
        service = _load(uow.session, service_id)
        _authorize(uow.session, actor, service, TeamAction.DELETE)
        if service.is_triage:
            raise TriageServiceProtected(
                "The platform triage service receives unroutable alerts; it cannot be deleted."
            )
        queries.lock_graph(uow.session)
        edges = queries.all_edges(uow.session)
        dependent_ids = {a for a, b in edges if b == service_id}
        if dependent_ids:
            names = _names(uow.session, dependent_ids)
            raise ServiceHasDependents(
                f"'{service.name}' cannot be deleted while these services depend on it: "
                f"{', '.join(names)}. Remove those dependencies first."
            )
        depends_on = _names(uow.session, {b for a, b in edges if a == service_id})
        before = {**_snapshot(service), "depends_on": depends_on}
        uow.session.delete(service)
        try:
            uow.session.flush()
        except IntegrityError as exc:  # incidents/alerts reference it (ON DELETE RESTRICT)
            raise ServiceHasHistory(
                f"'{before['name']}' has incidents or alerts, which keep their service; "
                "it cannot be deleted."
            ) from exc
        _audit(uow, actor, "catalog.service.deleted", service, {"before": before}, Severity.HIGH)
        _publish(uow, actor, "catalog.service.deleted", service_id)


# --- dependencies ------------------------------------------------------------------------------


def add_dependency(actor: Actor, service_id: int, depends_on_id: int) -> ServiceDetail:
    """Declare that ``service_id`` depends on ``depends_on_id`` (TEAM_ADMIN of the former).

    Raises:
        ServiceNotFound, PermissionDenied, ValidationFailed (self or triage), DependencyExists,
        DependencyCycle (with the cycle in ``detail``).
    """
    if service_id == depends_on_id:
        raise ValidationFailed.field(
            "depends_on_id", "a service cannot depend on itself", loc_prefix="path"
        )
    ensure_triage_service()
    with unit_of_work() as uow:
        service = _load(uow.session, service_id)
        _authorize(uow.session, actor, service, TeamAction.EDIT)
        target = queries.service_by_id(uow.session, depends_on_id)
        if target is None:
            raise ServiceNotFound(f"Service {depends_on_id} does not exist.")
        if service.is_triage or target.is_triage:
            raise ValidationFailed.field(
                "depends_on_id",
                "the platform triage service takes no part in dependencies",
                loc_prefix="path",
            )
        queries.lock_graph(uow.session)
        if queries.dependency_exists(uow.session, service_id, depends_on_id):
            raise DependencyExists(f"'{service.name}' already depends on '{target.name}'.")
        cycle = graph.cycle_if_added(queries.all_edges(uow.session), service_id, depends_on_id)
        if cycle is not None:
            path = " → ".join(_names(uow.session, set(cycle), order=cycle))
            raise DependencyCycle(f"Adding this dependency would create a cycle: {path}.")
        uow.session.add(ServiceDependency(service_id=service_id, depends_on_id=depends_on_id))
        uow.session.flush()
        diff = {"depends_on_id": depends_on_id, "depends_on": target.name}
        _audit(uow, actor, "catalog.dependency.added", service, diff)
        _publish(uow, actor, "catalog.dependency.added", service_id, depends_on_id=depends_on_id)
        return _detail(uow.session, service, actor)


def remove_dependency(actor: Actor, service_id: int, depends_on_id: int) -> ServiceDetail:
    """Remove the edge ``service_id → depends_on_id`` (TEAM_ADMIN of ``service_id``'s team).

    Raises:
        ServiceNotFound, PermissionDenied, DependencyNotFound.
    """
    with unit_of_work() as uow:
        service = _load(uow.session, service_id)
        _authorize(uow.session, actor, service, TeamAction.EDIT)
        edge = uow.session.get(ServiceDependency, (service_id, depends_on_id))
        if edge is None:
            raise DependencyNotFound(
                f"'{service.name}' does not depend on service {depends_on_id}."
            )
        target_names = _names(uow.session, {depends_on_id})
        uow.session.delete(edge)
        uow.session.flush()
        diff = {"depends_on_id": depends_on_id, "depends_on": target_names[0]}
        _audit(uow, actor, "catalog.dependency.removed", service, diff)
        _publish(uow, actor, "catalog.dependency.removed", service_id, depends_on_id=depends_on_id)
        return _detail(uow.session, service, actor)


# --- reads -------------------------------------------------------------------------------------


def list_services(
    actor: Actor, *, team_id: int | None = None, tag: str = "", text: str = ""
) -> list[ServiceOut]:
    """Every service (the catalogue is visible to all signed-in users), filtered.

    Raises:
        Unauthenticated.
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        services = queries.all_services(uow.session, team_id=team_id, tag=tag, text=text.strip())
        names = queries.team_names(uow.session, {s.team_id for s in services if s.team_id})
        out_counts, in_counts = queries.edge_counts(uow.session)
        return [_out(s, names, out_counts, in_counts) for s in services]


def get_service(actor: Actor, service_id: int) -> ServiceDetail:
    """One service with its direct dependencies and dependents.

    Raises:
        Unauthenticated, ServiceNotFound.
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        return _detail(uow.session, _load(uow.session, service_id), actor)


def get_impact(actor: Actor, service_id: int, *, max_depth: int | None = None) -> ServiceImpact:
    """What ``service_id`` depends on (upstream) and what breaks when it breaks (downstream),
    transitively with depths, plus the edges among them and a layering for drawing.

    Raises:
        Unauthenticated, ServiceNotFound.
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        service = _load(uow.session, service_id)
        edges = queries.all_edges(uow.session)
        up = graph.upstream(edges, service_id, max_depth=max_depth)
        down = graph.downstream(edges, service_id, max_depth=max_depth)
        nodes = {service_id, *up, *down}
        inner = sorted((a, b) for a, b in edges if a in nodes and b in nodes)
        rows = queries.services_by_ids(uow.session, nodes)
        names = queries.team_names(uow.session, {s.team_id for s in rows.values() if s.team_id})

        def impact_nodes(depths: dict[int, int]) -> list[ImpactNode]:
            found = [
                ImpactNode(**_ref(rows[n], names).model_dump(), depth=d) for n, d in depths.items()
            ]
            return sorted(found, key=lambda node: (node.depth, node.name))

        return ServiceImpact(
            service=_ref(service, names),
            upstream=impact_nodes(up),
            downstream=impact_nodes(down),
            edges=[DependencyEdge(service_id=a, depends_on_id=b) for a, b in inner],
            layers=graph.layers(nodes, inner),
        )


# --- helpers -----------------------------------------------------------------------------------


def _free_slug(name: str, *, is_triage: bool) -> str:
    slug = slugify(name)
    if slug == TRIAGE_SLUG and not is_triage:
        raise ValidationFailed.field("name", "reserved for the platform triage service")
    return slug


def _flush_unique(uow: UnitOfWork, name: str) -> None:
    try:
        uow.session.flush()
    except IntegrityError as exc:
        raise ServiceNameTaken(
            f"A service named '{name}' (or one with the same slug) already exists."
        ) from exc


def _names(session: Session, ids: set[int], *, order: list[int] | None = None) -> list[str]:
    rows = queries.services_by_ids(session, ids)
    if order is not None:
        return [rows[i].name for i in order]
    return sorted(rows[i].name for i in ids)


def _snapshot(service: Service) -> dict[str, Any]:
    return {
        "name": service.name,
        "description": service.description,
        "team_id": service.team_id,
        "escalation_policy_id": service.escalation_policy_id,
        "tags": list(service.tags),
        "links": [dict(link) for link in service.links],
    }


def _audit(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    service: Service,
    diff: dict[str, Any],
    severity: Severity = Severity.MEDIUM,
) -> None:
    audit.record(
        uow,
        actor,
        action,
        target_type="service",
        target_id=service.id,
        target_label=service.name,
        severity=severity,
        diff=diff,
    )


def _publish(uow: UnitOfWork, actor: Actor, name: str, service_id: int, **payload: Any) -> None:
    topics = ["services", f"service:{service_id}"]
    other = payload.get("depends_on_id")
    if isinstance(other, int):
        topics.append(f"service:{other}")
    event = DomainEvent(
        name=name,
        payload={"service_id": service_id, **payload},
        topics=tuple(topics),
        actor_label=actor.label,
    )
    uow.after_commit(lambda: get_bus().publish(event))


def _ref(service: Service, team_names: dict[int, str]) -> ServiceRef:
    assert service.id is not None
    return ServiceRef(
        id=service.id,
        name=service.name,
        slug=service.slug,
        team_id=service.team_id,
        team_name=team_names.get(service.team_id) if service.team_id else None,
        is_triage=service.is_triage,
    )


def _out(
    service: Service,
    team_names: dict[int, str],
    out_counts: dict[int, int],
    in_counts: dict[int, int],
) -> ServiceOut:
    sid = service.id or 0
    return ServiceOut(
        **_ref(service, team_names).model_dump(),
        description=service.description,
        escalation_policy_id=service.escalation_policy_id,
        tags=list(service.tags),
        links=[ServiceLink.model_validate(link) for link in service.links],
        dependency_count=out_counts.get(sid, 0),
        dependent_count=in_counts.get(sid, 0),
        created_at=service.created_at,
        updated_at=service.updated_at,
    )


def _detail(session: Session, service: Service, actor: Actor) -> ServiceDetail:
    assert service.id is not None
    session.flush()
    edges = queries.edges_touching(session, service.id)
    up_ids = {b for a, b in edges if a == service.id}
    down_ids = {a for a, b in edges if b == service.id}
    rows = queries.services_by_ids(session, up_ids | down_ids)
    team_ids = {s.team_id for s in [service, *rows.values()] if s.team_id}
    names = queries.team_names(session, team_ids)
    base = _out(service, names, {service.id: len(up_ids)}, {service.id: len(down_ids)})
    try:
        _authorize(session, actor, service, TeamAction.EDIT)
        editable = True
    except DomainError:
        editable = False
    return ServiceDetail(
        **base.model_dump(),
        depends_on=sorted((_ref(rows[i], names) for i in up_ids), key=lambda r: r.name),
        dependents=sorted((_ref(rows[i], names) for i in down_ids), key=lambda r: r.name),
        can_edit=editable,
    )

"""Errors of the service catalogue."""

from __future__ import annotations

from backend.core.errors import AlreadyExists, Conflict, ErrorCode, NotFound


class ServiceNotFound(NotFound):
    title = "Service not found"


class ServiceNameTaken(AlreadyExists):
    title = "A service with that name already exists"


class DependencyNotFound(NotFound):
    title = "No such dependency"


class DependencyExists(AlreadyExists):
    title = "The dependency already exists"


class DependencyCycle(Conflict):
    """The new edge would close a cycle; ``detail`` spells the cycle out by name."""

    code = ErrorCode.DEPENDENCY_CYCLE
    title = "The dependency would create a cycle"


class ServiceHasDependents(Conflict):
    code = ErrorCode.SERVICE_HAS_DEPENDENTS
    title = "Other services depend on this service"


class TriageServiceProtected(Conflict):
    title = "The platform triage service cannot be deleted"


class ServiceHasHistory(Conflict):
    """Incidents and alerts keep their service (RESTRICT): the record must not lose it."""

    title = "The service has incidents or alerts"

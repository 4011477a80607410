"""API key scopes and purposes. Scopes are ``<resource>:<read|write>``; write implies read."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    TEAMS_READ = "teams:read"
    TEAMS_WRITE = "teams:write"
    USERS_READ = "users:read"
    # A user's contact methods, notification rules and quiet hours (what a migration from
    # another paging tool imports); new methods still need their owner's verification code.
    USERS_WRITE = "users:write"
    AUDIT_READ = "audit:read"
    SCHEDULES_READ = "schedules:read"
    SCHEDULES_WRITE = "schedules:write"
    SERVICES_READ = "services:read"
    SERVICES_WRITE = "services:write"
    INTEGRATIONS_READ = "integrations:read"
    INTEGRATIONS_WRITE = "integrations:write"
    ALERTS_READ = "alerts:read"
    INCIDENTS_READ = "incidents:read"
    INCIDENTS_WRITE = "incidents:write"
    ESCALATION_READ = "escalation:read"
    ESCALATION_WRITE = "escalation:write"


class Purpose(StrEnum):
    """The purpose is part of the visible prefix (``oc_api_…``) so a leaked key is recognisable
    by secret scanners and people alike."""

    API = "api"
    SCIM = "scim"


def satisfies(granted: frozenset[str], required: Scope) -> bool:
    if required.value in granted:
        return True
    resource, _, level = required.value.partition(":")
    return level == "read" and f"{resource}:write" in granted

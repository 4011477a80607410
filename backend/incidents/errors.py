"""Errors of incidents and their saved filters."""

from __future__ import annotations

from backend.core.errors import Conflict, NotFound


class IncidentNotFound(NotFound):
    title = "Incident not found"


class PresetNotFound(NotFound):
    title = "Saved filter not found"


class ActiveDuplicate(Conflict):
    """Reopening would make two active incidents with the same service and dedup key."""

    title = "Another active incident has the same dedup key"

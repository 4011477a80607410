"""Schedule errors, mapped to RFC 9457 problems through the codes of ``backend.core.errors``."""

from __future__ import annotations

from backend.core.errors import Conflict, InvalidTransition, NotFound


class ScheduleNotFound(NotFound):
    title = "Schedule not found"


class LayerNotFound(NotFound):
    title = "Layer not found"


class OverrideNotFound(NotFound):
    title = "Override not found"


class SwapNotFound(NotFound):
    title = "Swap not found"


class FeedNotFound(NotFound):
    title = "Calendar feed not found"


class ConnectionNotFound(NotFound):
    title = "Calendar connection not found"


class OverrideOverlaps(Conflict):
    title = "Overlaps another override"


class ScheduleNameTaken(Conflict):
    title = "The team already has a schedule with that name"


class SwapNotPending(InvalidTransition):
    title = "The swap has already been decided"

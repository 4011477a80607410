"""A bus that remembers what was published, for asserting events without an event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator

from backend.core.events import DomainEvent


class RecordingBus:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def publish(self, event: DomainEvent) -> None:
        self.events.append(event)

    async def subscribe(self) -> AsyncIterator[DomainEvent]:  # pragma: no cover - unused
        for event in self.events:
            yield event

    def names(self) -> list[str]:
        return [e.name for e in self.events]

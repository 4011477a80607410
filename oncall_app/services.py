"""Running synchronous backend services from async Reflex event handlers.

Every service opens its own unit of work and talks to the database synchronously; calling one
directly inside an event handler would block the event loop and so every client of this worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


async def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn`` in a worker thread and return its result (exceptions propagate)."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def as_plain(rows: list[Any]) -> list[dict[str, Any]]:
    """Pydantic rows → JSON-safe dicts for state vars (datetimes become ISO strings)."""
    return [row.model_dump(mode="json") for row in rows]

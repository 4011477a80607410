"""A tiny per-process TTL cache for rows the ingest hot path reads on every request.

Keys include the engine's identity, so tests (a fresh database each) never see each other's
rows. Commands that change a cached row call :func:`clear_all` in their own process; other
processes see the change within the TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from backend.core.db import get_engine

T = TypeVar("T")
TTL_SECONDS = 5.0
_MAX_ITEMS = 10_000
_registry: list[TTLCache[object]] = []


class TTLCache(Generic[T]):
    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._items: dict[tuple[int, str], tuple[float, T]] = {}
        _registry.append(self)  # type: ignore[arg-type]  # invariant generic in a registry

    def get(self, key: str, load: Callable[[], T], *, fresh: bool = False) -> T:
        full_key = (id(get_engine()), key)
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(full_key)
        if hit is not None and not fresh and now - hit[0] < self._ttl:
            return hit[1]
        value = load()
        with self._lock:
            if len(self._items) >= _MAX_ITEMS:
                self._items.clear()
            self._items[full_key] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def clear_all() -> None:
    """Forget everything cached in this process."""
    for cache in _registry:
        cache.clear()

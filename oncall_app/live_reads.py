"""Reads shared by the tabs one live event refreshes, and the actor of a live push.

When an incident changes, every open dashboard on this worker is refreshed. Each used to read
the same incident list and metrics for itself: with 200 tabs, one acknowledgement cost ~600
service calls and the pushes queued behind them (docs/benchmarks.md, browser updates). Now
``realtime`` opens a *batch* per event (a context variable every push task inherits), and
``shared(key, fn, ...)`` runs ``fn`` once per key within it; tabs with the same filters share
one read. Outside a batch (a user's own click) it simply calls ``fn``. A shared read may
start before a tab's previous refresh was applied, so ``stamped`` also says when it started
and pages keep whichever data is newer.

A push has no request of its own, so the tab's session is resolved from a short per-process
cache (``ACTOR_TTL_SECONDS``) instead of once per tab per event. That is safe because pushes
only read, every command a user sends resolves the session afresh, and ``realtime`` drops a
user's cached actors the moment their sessions are revoked (and re-validates every minute).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from contextvars import ContextVar, Token
from typing import Any, TypeVar

from backend.core.actor import Actor
from oncall_app.services import call

T = TypeVar("T")
ACTOR_TTL_SECONDS = 15.0

_batch: ContextVar[dict[Hashable, asyncio.Future[Any]] | None] = ContextVar(
    "live_batch", default=None
)
# session token -> (monotonic expiry, actor)
_actors: dict[str, tuple[float, Actor]] = {}


def begin() -> Token[dict[Hashable, asyncio.Future[Any]] | None]:
    """Open a batch: tasks created until ``end`` share reads by key."""
    return _batch.set({})


def end(token: Token[dict[Hashable, asyncio.Future[Any]] | None]) -> None:
    _batch.reset(token)


async def shared(key: Hashable, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a worker thread, once per ``key`` in the current batch.

    ``key`` must capture everything the result depends on (filters, limits, the user where
    the answer is personal); tabs awaiting the same key get the same result or exception.
    """
    return (await stamped(key, fn, *args, **kwargs))[1]


async def stamped(key: Hashable, fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[int, T]:
    """Like ``shared``, with the wall-clock nanoseconds at which the read started.

    A tab may apply a shared read after a newer one (its state lock was busy while another
    event's read ran): comparing stamps lets it keep the newer data it already shows.
    """
    batch = _batch.get()
    if batch is None:
        return await _timed(fn, *args, **kwargs)
    future = batch.get(key)
    if future is None:
        future = asyncio.ensure_future(_timed(fn, *args, **kwargs))
        batch[key] = future
    result: tuple[int, T] = await asyncio.shield(future)
    return result


async def _timed(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[int, T]:
    started = time.time_ns()
    return started, await call(fn, *args, **kwargs)


async def actor(session_token: str, resolve: Callable[[], Actor]) -> Actor:
    """The actor of ``session_token`` for a live push: cached briefly, else ``resolve()``."""
    now = time.monotonic()
    hit = _actors.get(session_token)
    if hit is not None and hit[0] > now:
        return hit[1]
    found = await shared(("actor", session_token), resolve)
    _actors[session_token] = (now + ACTOR_TTL_SECONDS, found)
    if len(_actors) > 10_000:  # bounded: drop what has expired
        for token, (expiry, _) in list(_actors.items()):
            if expiry <= now:
                _actors.pop(token, None)
    return found


def drop_user(user_id: int) -> None:
    """Forget every cached actor of ``user_id`` (their sessions were revoked)."""
    for token, (_, cached) in list(_actors.items()):
        if cached.user_id == user_id:
            _actors.pop(token, None)


def drop_session(session_token: str) -> None:
    _actors.pop(session_token, None)

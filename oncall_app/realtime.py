"""Live updates: domain events from the bus are pushed into the browsers that show them.

One lifespan task per backend worker subscribes to the event bus (Redis pub/sub in production,
in-process when embedded). A per-process registry says which client tokens (browser tabs)
connected to *this* worker watch which topics; page ``on_load`` handlers register there. For a
matching event the tab's page state is modified out of band with ``app.modify_state`` (Reflex
sends the delta itself); toasts and redirects go out as client-side events.

The same task re-validates every registered tab's session every ``REVALIDATE_SECONDS`` and at
once when ``identity.sessions.revoked`` arrives for its user, so a revoked user loses live
access promptly (USER-01: at least every 5 minutes).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Any

import reflex as rx
import structlog
from reflex.event import Event
from reflex.state import StateUpdate

from backend.core.events import DomainEvent, get_bus
from backend.identity import sessions
from oncall_app import live_reads
from oncall_app.errors import login_url

if TYPE_CHECKING:
    from oncall_app.state.session import SessionState

log = structlog.get_logger(__name__)

REVALIDATE_SECONDS = 60.0
SESSIONS_REVOKED = "identity.sessions.revoked"


@dataclasses.dataclass
class Watch:
    state_cls: type[SessionState]
    topics: frozenset[str]
    user_id: int
    session_token: str
    missed_sweeps: int = 0


# client token (one browser tab) -> what it watches. Per process: a tab's events are always
# handled by the worker that holds its websocket.
_watches: dict[str, Watch] = {}
# Strong references: the event loop keeps only weak ones to running tasks.
_tasks: set[asyncio.Task[None]] = set()


def watch(
    client_token: str,
    state_cls: type[SessionState],
    topics: frozenset[str],
    *,
    user_id: int,
    session_token: str,
) -> None:
    if client_token and session_token:
        _watches[client_token] = Watch(state_cls, topics, user_id, session_token)


def forget(client_token: str) -> None:
    _watches.pop(client_token, None)


def watching(topic: str) -> list[str]:
    """Client tokens watching ``topic`` (for tests and diagnostics)."""
    return [token for token, w in _watches.items() if topic in w.topics]


async def run(app: rx.App) -> None:
    """The lifespan task: consume the bus and sweep sessions until the app stops."""
    await asyncio.gather(_consume(app), _sweep_forever(app))


async def _consume(app: rx.App) -> None:
    while True:
        try:
            async for event in get_bus().subscribe():
                _dispatch(app, event)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Redis went away or similar: events are hints, pages re-read on load. Retry.
            log.warning("realtime_subscription_failed", exc_info=True)
            await asyncio.sleep(2)


def _dispatch(app: rx.App, event: DomainEvent) -> None:
    topics = set(event.topics)
    if event.name == SESSIONS_REVOKED and isinstance(event.payload.get("user_id"), int):
        live_reads.drop_user(event.payload["user_id"])
    # Every push task of this event inherits one batch: tabs with the same view share reads.
    batch = live_reads.begin()
    try:
        for client_token, w in list(_watches.items()):
            if event.name == SESSIONS_REVOKED:
                if event.payload.get("user_id") == w.user_id:
                    _spawn(_recheck(app, client_token, w))
            elif topics & w.topics:
                _spawn(_push(app, client_token, w, event))
    finally:
        live_reads.end(batch)


def _spawn(coro: Any) -> None:
    task = asyncio.create_task(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _target(state: Any, cls: type[SessionState]) -> SessionState:
    # modify_state yields the root of the tab's state tree; the page state hangs below it.
    return state if isinstance(state, cls) else await state.get_state(cls)


async def _push(app: rx.App, client_token: str, w: Watch, event: DomainEvent) -> None:
    try:
        async with app.modify_state(rx.BaseStateToken(ident=client_token, cls=w.state_cls)) as root:
            page = await _target(root, w.state_cls)
            specs = await page._apply_live(event)
        await _emit(app, client_token, specs)
    except Exception:
        log.warning("realtime_push_failed", event_name=event.name, exc_info=True)


async def _emit(app: rx.App, client_token: str, specs: list[Any]) -> None:
    if specs and app.event_namespace is not None:
        update = StateUpdate(events=Event.from_event_type(specs))
        await app.event_namespace.emit_update(update, client_token)


async def _recheck(app: rx.App, client_token: str, w: Watch) -> None:
    if await asyncio.to_thread(sessions.is_valid, w.session_token):
        return
    live_reads.drop_session(w.session_token)
    await _kick(app, client_token, w)


async def _kick(app: rx.App, client_token: str, w: Watch) -> None:
    """End a tab's signed-in view and send it to the login page."""
    forget(client_token)
    try:
        async with app.modify_state(rx.BaseStateToken(ident=client_token, cls=w.state_cls)) as root:
            page = await _target(root, w.state_cls)
            path = page.router.url.path or "/"
            page._end_session()
        await _emit(app, client_token, [rx.redirect(login_url(path, "session_expired"))])
    except Exception:
        log.warning("realtime_kick_failed", exc_info=True)
    log.info("realtime_session_ended", user_id=w.user_id)


async def _sweep_forever(app: rx.App) -> None:
    while True:
        await asyncio.sleep(REVALIDATE_SECONDS)
        try:
            await sweep(app)
        except Exception:
            log.warning("realtime_sweep_failed", exc_info=True)


async def sweep(app: rx.App) -> None:
    """Drop tabs that went away; end the view of tabs whose session is no longer valid."""
    connected = app.event_namespace.token_to_sid if app.event_namespace is not None else {}
    for client_token, w in list(_watches.items()):
        # A reload disconnects for a moment: only a tab missing at two sweeps is gone.
        w.missed_sweeps = 0 if client_token in connected else w.missed_sweeps + 1
        if w.missed_sweeps >= 2:
            forget(client_token)
    verdicts: dict[str, bool] = {}
    for client_token, w in list(_watches.items()):
        if w.session_token not in verdicts:
            verdicts[w.session_token] = await asyncio.to_thread(sessions.is_valid, w.session_token)
        if not verdicts[w.session_token]:
            await _kick(app, client_token, w)

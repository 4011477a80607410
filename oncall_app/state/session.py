"""Who is signed in, for the Reflex UI.

The session token lives in an HttpOnly cookie set by ``/api/auth/break-glass`` (or SSO); script
never sees it. Reflex hands the websocket's handshake headers (including Cookie) to every event
as ``self.router.headers.cookie``; the token is kept in a backend-only var and never sent to the
browser. Events carry no CSRF token, so every handler resolves the session again instead of
trusting an actor cached from an earlier event.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any

import reflex as rx

from backend.core.actor import Actor
from backend.core.errors import Unauthenticated
from backend.core.events import DomainEvent
from backend.core.settings import get_settings
from backend.identity import service as identity
from backend.identity import sessions
from backend.identity.schemas import UserOut
from oncall_app import errors, live_reads, realtime
from oncall_app.services import call


def _resolve_with_user(token: str, ip: str | None, user_agent: str | None) -> tuple[Actor, UserOut]:
    # One thread hop for both lookups: page guards run on every navigation.
    actor = sessions.resolve(token, ip=ip, user_agent=user_agent)
    assert actor.user_id is not None
    return actor, identity.get_user(actor, actor.user_id)


class SessionState(rx.State):
    """The signed-in user; safe, display-only fields are the only ones sent to the browser."""

    _token: str = ""
    authenticated: bool = False
    user_id: int = 0
    user_name: str = ""
    user_email: str = ""
    is_platform_admin: bool = False

    # ---- reading the session -------------------------------------------------------------
    def _cookie_token(self) -> str:
        raw = self.router.headers.cookie
        if not raw:
            return ""
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw)
        except CookieError:
            return ""
        morsel = jar.get(get_settings().auth.session_cookie)
        return morsel.value if morsel is not None else ""

    def _client(self) -> tuple[str | None, str | None]:
        return (self.router.session.client_ip or None, self.router.headers.user_agent or None)

    def _here(self) -> str:
        url = self.router.url
        return f"{url.path}?{url.query}" if url.query else (url.path or "/")

    def _route_id(self) -> int:
        """The last segment of the page's path as an id (``/teams/12`` → 12); 0 if none."""
        raw = str(self.router.url.path).rstrip("/").rsplit("/", 1)[-1]
        return int(raw) if raw.isdigit() else 0

    async def _actor(self) -> Actor:
        """Resolve the session now (slides its expiry); raises SessionExpired when it is gone.

        The websocket's Cookie header is the source of truth while a connection lives; the
        backend-only copy serves out-of-band pushes, which have no request of their own.
        """
        token = self._cookie_token() or self._token
        if not token:
            raise Unauthenticated
        ip, agent = self._client()
        actor = await call(sessions.resolve, token, ip=ip, user_agent=agent)
        self._token = token
        return actor

    async def _live_actor(self) -> Actor:
        """The actor for an out-of-band push: like ``_actor`` but briefly cached per session
        (``oncall_app.live_reads``), since one event refreshes many tabs at once."""
        token = self._cookie_token() or self._token
        if not token:
            raise Unauthenticated
        ip, agent = self._client()
        actor = await live_reads.actor(
            token, lambda: sessions.resolve(token, ip=ip, user_agent=agent)
        )
        self._token = token
        return actor

    def _end_session(self) -> None:
        """Forget the user in this tab (the session was revoked, expired or logged out)."""
        self._token = ""
        self.authenticated = False
        self.user_id = 0
        self.user_name = ""
        self.user_email = ""
        self.is_platform_admin = False

    def _fail(self, exc: Exception) -> list[Any]:
        """The reaction to a failed service call; session failures also end the local view."""
        if isinstance(exc, Unauthenticated):
            self._end_session()
            realtime.forget(self.router.session.client_token)
        return errors.events_for(exc, path=self._here())

    # ---- page guard ----------------------------------------------------------------------
    @rx.event
    async def guard(self):
        """First on_load of every protected page: signed in, or off to the login page."""
        token = self._cookie_token()
        if not token:
            self._end_session()
            return rx.redirect(errors.login_url(self._here()))
        ip, agent = self._client()
        try:
            actor, user = await call(_resolve_with_user, token, ip, agent)
        except Unauthenticated:
            self._end_session()
            return rx.redirect(errors.login_url(self._here(), "session_expired"))
        self._token = token
        self.authenticated = True
        self.user_id = user.id
        self.user_name = user.name
        self.user_email = user.email
        self.is_platform_admin = actor.is_platform_admin
        # Every open tab is re-validated periodically and on revocation, even pages without
        # live data; pages with live data replace this entry with their own topics.
        self._watch(SessionState, ())
        return None

    async def _reload(self, actor: Actor) -> None:
        """Pages with data override this: read it for ``actor``."""
        del actor

    async def _reload_as_user(self) -> list[Any] | None:
        """Re-read the page's data as the signed-in user; a failure becomes its toast (or,
        for a dead session, the sign-out). The body of every data page's load and filters."""
        try:
            await self._reload(await self._actor())
        except Exception as exc:
            return self._fail(exc)
        return None

    def _watch(self, state_cls: type[SessionState], topics: tuple[str, ...]) -> None:
        realtime.watch(
            self.router.session.client_token,
            state_cls,
            frozenset(topics),
            user_id=self.user_id,
            session_token=self._token,
        )

    # ---- live updates (called by oncall_app.realtime under the state lock) ---------------
    async def _apply_live(self, event: DomainEvent) -> list[Any]:
        """Refresh this page's data after ``event``; returns events for the browser."""
        try:
            actor = await self._live_actor()
            message = await self._on_live(actor, event)
        except Exception as exc:  # a failed refresh must not kill the push loop
            return self._fail(exc)
        # The person who made the change already got their own confirmation.
        if message and event.actor_label != self.user_email:
            return [rx.toast.info(message)]
        return []

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        """Pages with live data override this: reload, and describe the change (or "")."""
        del actor, event
        return ""

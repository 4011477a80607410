"""One-way sync of a user's on-call shifts into Google Calendar or Outlook (SCHED-06).

The platform is the source of truth: each sync deletes the events it created last time and
creates one event per final shift of the user in every schedule for the next
``calendar.sync_weeks`` weeks (delete-and-recreate). Provider calls happen outside database
transactions; the created ids are saved even when a sync fails half-way, so the next run
deletes them.

Connecting is OAuth 2 authorization code: :func:`start_connect` stores the SHA-256 of a random
``state`` and returns the provider's authorization URL; the provider redirects the browser to
``/api/calendar/oauth/callback`` where :func:`complete_connect` exchanges the code at the
token endpoint. The state is single use and is the only credential of the callback. Access
and refresh tokens are Fernet-encrypted at rest (``backend.core.secretbox``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

import structlog
from sqlmodel import Session

from backend.audit import service as audit
from backend.core import clock, secretbox
from backend.core.actor import Actor, require_authenticated
from backend.core.db import unit_of_work
from backend.core.errors import ExternalServiceError, PermissionDenied, ValidationFailed
from backend.core.jobs import JobName, enqueue
from backend.core.secrets import new_token, sha256_hex
from backend.core.settings import get_settings
from backend.schedules import queries
from backend.schedules.calendar_providers import ProviderClient, PushEvent, TokenRejected, Tokens
from backend.schedules.errors import ConnectionNotFound
from backend.schedules.models import CalendarConnection, CalendarProvider, ConnectionStatus
from backend.schedules.oncall import engine
from backend.schedules.rotation import Source
from backend.schedules.schemas import ConnectionOut

log = structlog.get_logger(__name__)
CALLBACK_PATH = "/api/calendar/oauth/callback"
# Refresh an access token that expires within this margin before using it.
EXPIRY_MARGIN = timedelta(seconds=60)
T = TypeVar("T")


def redirect_uri() -> str:
    return get_settings().base_url.rstrip("/") + CALLBACK_PATH


def client_for(provider: CalendarProvider) -> ProviderClient:
    return ProviderClient(provider, get_settings().calendar)


def configured_providers() -> list[CalendarProvider]:
    """Providers whose OAuth client the platform admin has configured."""
    calendar = get_settings().calendar
    ids = {
        CalendarProvider.GOOGLE: calendar.google_client_id,
        CalendarProvider.OUTLOOK: calendar.outlook_client_id,
    }
    return [provider for provider, client_id in ids.items() if client_id]


def connection_out(row: CalendarConnection) -> ConnectionOut:
    return ConnectionOut.model_validate(row, from_attributes=True)


def list_connections(actor: Actor) -> list[ConnectionOut]:
    """The acting user's calendar connections (tokens are never shown)."""
    require_authenticated(actor)
    with unit_of_work() as uow:
        return [connection_out(c) for c in queries.connections_of(uow.session, actor.user_id or -1)]


def _own(session: Session, actor: Actor, provider: CalendarProvider) -> CalendarConnection | None:
    rows = queries.connections_of(session, actor.user_id or -1)
    return next((c for c in rows if CalendarProvider(c.provider) is provider), None)


def start_connect(actor: Actor, provider: CalendarProvider) -> str:
    """Begin (or redo) connecting ``provider``: the authorization URL to send the browser to.

    Raises:
        Unauthenticated, ValidationFailed (not a user, or the provider is not configured).
    """
    require_authenticated(actor)
    if actor.user_id is None:
        raise ValidationFailed("Calendar sync belongs to a user; sign in to connect one.")
    if provider not in configured_providers():
        raise ValidationFailed.field("provider", f"{provider} calendar sync is not configured")
    state = new_token()
    with unit_of_work() as uow:
        row = _own(uow.session, actor, provider)
        if row is None:
            row = CalendarConnection(
                user_id=actor.user_id, provider=provider, status=ConnectionStatus.PENDING
            )
        row.state_hash = sha256_hex(state)
        uow.session.add(row)
        uow.session.flush()
        audit.record(
            uow,
            actor,
            "schedules.calendar.connect_started",
            target_type="calendar_connection",
            target_id=row.id,
            diff={"provider": provider.value},
        )
    return client_for(provider).authorization_url(state, redirect_uri())


def complete_connect(state: str, code: str) -> ConnectionOut:
    """The OAuth callback: exchange ``code`` for tokens and store them encrypted; the first
    sync is enqueued after commit. The state works once.

    Raises:
        ConnectionNotFound (unknown or used state), ExternalServiceError (token endpoint).
    """
    with unit_of_work() as uow:
        row = queries.connection_by_state(uow.session, sha256_hex(state))
        if row is None or not code:
            raise ConnectionNotFound("Unknown or already used calendar authorization.")
        assert row.id is not None
        connection_id, provider = row.id, CalendarProvider(row.provider)
        row.state_hash = None  # single use, even if the exchange below fails
        uow.session.add(row)
    client = client_for(provider)
    try:
        tokens = client.exchange_code(code, redirect_uri(), clock.now())
    finally:
        client.close()
    with unit_of_work() as uow:
        row = uow.session.get(CalendarConnection, connection_id)
        if row is None:
            raise ConnectionNotFound("The calendar connection was removed meanwhile.")
        _store_tokens(row, tokens)
        row.status = ConnectionStatus.CONNECTED
        row.last_error = None
        uow.session.add(row)
        audit.record(
            uow,
            Actor.system(f"user {row.user_id} via {provider.value} OAuth"),
            "schedules.calendar.connected",
            target_type="calendar_connection",
            target_id=connection_id,
            diff={"provider": provider.value, "user_id": row.user_id},
        )
        uow.after_commit(partial(_enqueue_sync, connection_id))
        return connection_out(row)


def _enqueue_sync(connection_id: int) -> None:
    enqueue(JobName.SYNC_CALENDAR, connection_id=connection_id)


def _store_tokens(row: CalendarConnection, tokens: Tokens) -> None:
    row.access_token_enc = secretbox.encrypt(tokens.access_token)
    if tokens.refresh_token:
        row.refresh_token_enc = secretbox.encrypt(tokens.refresh_token)
    row.token_expires_at = tokens.expires_at


def disconnect(actor: Actor, connection_id: int) -> None:
    """Stop syncing: delete the events we created (best effort) and forget the tokens.

    Raises:
        Unauthenticated, ConnectionNotFound, PermissionDenied.
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        row = uow.session.get(CalendarConnection, connection_id)
        if row is None:
            raise ConnectionNotFound(f"Calendar connection {connection_id} does not exist.")
        if row.user_id != actor.user_id and not actor.is_platform_admin:
            raise PermissionDenied("Only the owner can disconnect a calendar.")
        old_ids, access = list(row.event_ids), _access_or_none(row)
        provider, calendar_id = CalendarProvider(row.provider), row.calendar_id
    if access and old_ids:
        client = client_for(provider)
        try:
            for event_id in old_ids:
                client.delete_event(access, calendar_id, event_id)
        except ExternalServiceError:
            log.warning("calendar_disconnect_cleanup_failed", connection_id=connection_id)
        finally:
            client.close()
    with unit_of_work() as uow:
        row = uow.session.get(CalendarConnection, connection_id)
        if row is None:
            return
        row.status = ConnectionStatus.DISCONNECTED
        row.access_token_enc = row.refresh_token_enc = row.state_hash = None
        row.token_expires_at = None
        row.event_ids = []
        uow.session.add(row)
        audit.record(
            uow,
            actor,
            "schedules.calendar.disconnected",
            target_type="calendar_connection",
            target_id=connection_id,
            diff={"provider": provider.value},
        )


def _access_or_none(row: CalendarConnection) -> str | None:
    return secretbox.decrypt(row.access_token_enc) if row.access_token_enc else None


def request_sync(actor: Actor, connection_id: int) -> None:
    """Enqueue a sync of one of my connections now.

    Raises:
        Unauthenticated, ConnectionNotFound, PermissionDenied.
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        row = uow.session.get(CalendarConnection, connection_id)
        if row is None or row.status != ConnectionStatus.CONNECTED:
            raise ConnectionNotFound(f"No connected calendar {connection_id}.")
        if row.user_id != actor.user_id:
            raise PermissionDenied("Only the owner can sync a calendar.")
        uow.after_commit(partial(_enqueue_sync, connection_id))


# ---- the sync itself ---------------------------------------------------------------------
def shift_events(session: Session, user_id: int, start: datetime, end: datetime) -> list[PushEvent]:
    """The user's final shifts in every schedule overlapping ``[start, end)``, by start."""
    events: list[PushEvent] = []
    for schedule in queries.schedules(session):
        for shift in engine(session, schedule, start, end).final(start, end):
            if shift.user_id != user_id:
                continue
            why = {Source.OVERRIDE: " (override)", Source.SWAP: " (swap)"}.get(shift.source, "")
            events.append(
                PushEvent(
                    summary=f"On call: {schedule.name}{why}",
                    description=(
                        f"You are on call for {schedule.name} (zone {schedule.time_zone}). "
                        "Kept in sync by OnCall: edits made here are overwritten."
                    ),
                    start=shift.start,
                    end=shift.end,
                )
            )
    return sorted(events, key=lambda e: (e.start, e.summary))


def sync_connection(connection_id: int) -> int:
    """Replace the events of one connection with the user's coming shifts; returns how many
    were created (0 when the connection is not connected). Idempotent.

    Raises:
        ExternalServiceError: the provider failed (``retryable`` for timeouts, 429, 5xx); the
        error is also stored on the connection.
    """
    now = clock.now()
    weeks = get_settings().calendar.sync_weeks
    with unit_of_work() as uow:
        row = uow.session.get(CalendarConnection, connection_id)
        if row is None or row.status != ConnectionStatus.CONNECTED:
            return 0
        provider, calendar_id = CalendarProvider(row.provider), row.calendar_id
        old_ids = list(row.event_ids)
        wanted = shift_events(uow.session, row.user_id, now, now + timedelta(weeks=weeks))
    client = client_for(provider)
    created: list[str] = []
    try:
        token = _Token(connection_id, client, now)
        remaining = list(old_ids)
        while remaining:
            token.call(partial(client.delete_event, calendar_id=calendar_id, event_id=remaining[0]))
            remaining.pop(0)
        for event in wanted:
            created.append(
                token.call(partial(client.create_event, calendar_id=calendar_id, event=event))
            )
    except ExternalServiceError as exc:
        _finish(connection_id, remaining + created, now, str(exc.detail))
        raise
    finally:
        client.close()
    _finish(connection_id, created, now, None)
    log.info("calendar_synced", connection_id=connection_id, events=len(created))
    return len(created)


class _Token:
    """The connection's access token, refreshed when near expiry or rejected (once)."""

    def __init__(self, connection_id: int, client: ProviderClient, now: datetime) -> None:
        self.connection_id, self.client, self.now = connection_id, client, now
        with unit_of_work() as uow:
            row = uow.session.get(CalendarConnection, connection_id)
            assert row is not None
            self.access = _access_or_none(row) or ""
            expires = clock.as_utc(row.token_expires_at) if row.token_expires_at else now
        self.refreshed = False
        if expires - EXPIRY_MARGIN <= now:
            self._refresh()

    def _refresh(self) -> None:
        with unit_of_work() as uow:
            row = uow.session.get(CalendarConnection, self.connection_id)
            assert row is not None
            if not row.refresh_token_enc:
                raise ExternalServiceError(
                    "No refresh token: reconnect the calendar.", retryable=False
                )
            refresh_token = secretbox.decrypt(row.refresh_token_enc)
        tokens = self.client.refresh(refresh_token, self.now)
        with unit_of_work() as uow:
            row = uow.session.get(CalendarConnection, self.connection_id)
            assert row is not None
            _store_tokens(row, tokens)
            uow.session.add(row)
        self.access, self.refreshed = tokens.access_token, True

    def call(self, fn: Callable[[str], T]) -> T:
        try:
            return fn(self.access)
        except TokenRejected:
            if self.refreshed:
                raise
            self._refresh()
            return fn(self.access)


def _finish(connection_id: int, event_ids: list[str], now: datetime, error: str | None) -> None:
    with unit_of_work() as uow:
        row = uow.session.get(CalendarConnection, connection_id)
        if row is None:
            return
        row.event_ids = event_ids
        row.last_error = error[:500] if error else None
        if error is None:
            row.last_synced_at = now
        uow.session.add(row)


def sync_all() -> int:
    """Sync every connected calendar (the periodic job); returns how many succeeded. One
    failing provider does not stop the others; its error stays on its connection."""
    with unit_of_work() as uow:
        ids = [c.id for c in queries.connected(uow.session) if c.id is not None]
    done = 0
    for connection_id in ids:
        try:
            sync_connection(connection_id)
            done += 1
        except ExternalServiceError:
            log.warning("calendar_sync_failed", connection_id=connection_id, exc_info=True)
    return done


def retryable(exc: BaseException) -> bool:
    """Whether the job should try again: provider outages yes, everything else no."""
    return isinstance(exc, ExternalServiceError) and exc.retryable

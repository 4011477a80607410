"""One-way calendar sync (SCHED-06) against local HTTP servers that answer like Google Calendar
v3, Microsoft Graph and their OAuth token endpoints: connect, encrypted tokens, the exact
events pushed, delete-and-recreate, refresh, bounded retries, disconnect and reconnect."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker
from fastapi.testclient import TestClient

from backend.api.app import create_api
from backend.core import secretbox
from backend.core.db import unit_of_work
from backend.core.errors import (
    ErrorCode,
    ExternalServiceError,
    PermissionDenied,
    ValidationFailed,
)
from backend.core.settings import get_settings
from backend.schedules import calendar_sync, oncall
from backend.schedules.errors import ConnectionNotFound
from backend.schedules.models import CalendarConnection, CalendarProvider, ConnectionStatus
from tests.factories.identity import actor_of
from tests.factories.schedules import Crew, make_crew, make_schedule

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeProviders:
    """Google and Graph in one server: ``/google/...`` and ``/graph/...``."""

    base: str = ""
    requests: list[Seen] = field(default_factory=list)
    # Status codes to answer (in order) before behaving normally, by path prefix.
    failures: dict[str, list[int]] = field(default_factory=dict)
    counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, method: str, prefix: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]


def _handler(fake: FakeProviders) -> type[BaseHTTPRequestHandler]:  # noqa: C901  # one fake server
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, status: int, body: dict[str, Any] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            kind = self.headers.get("Content-Type", "")
            body: Any = None
            if "json" in kind:
                body = json.loads(raw)
            elif raw:
                body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            path = urlsplit(self.path).path
            with fake.lock:
                fake.requests.append(Seen(self.command, path, dict(self.headers), body))
                for prefix, codes in fake.failures.items():
                    if path.startswith(prefix) and codes:
                        self._reply(codes.pop(0), {"error": "injected"})
                        return
                fake.counter += 1
                n = fake.counter
            self._route(path, body, n)

        def _route(self, path: str, body: Any, n: int) -> None:
            if path.endswith("/token"):
                grant = body["grant_type"]
                tokens = {"access_token": f"access-{n}", "expires_in": 3600}
                if grant == "authorization_code":
                    tokens["refresh_token"] = f"refresh-{n}"
                self._reply(200, tokens)
            elif self.command == "POST" and path.endswith("/events"):
                self._reply(200 if path.startswith("/google") else 201, {"id": f"evt-{n}"})
            elif self.command == "DELETE":
                self._reply(204)
            else:
                self._reply(404, {"error": "unknown"})

        do_GET = do_POST = do_DELETE = _serve

    return Handler


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProviders]:
    fake = FakeProviders()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    env = {
        "GOOGLE_CLIENT_ID": "g-client",
        "GOOGLE_CLIENT_SECRET": "g-secret",
        "GOOGLE_AUTH_URL": f"{fake.base}/google/auth",
        "GOOGLE_TOKEN_URL": f"{fake.base}/google/token",
        "GOOGLE_API_URL": f"{fake.base}/google/api",
        "OUTLOOK_CLIENT_ID": "o-client",
        "OUTLOOK_CLIENT_SECRET": "o-secret",
        "OUTLOOK_AUTH_URL": f"{fake.base}/graph/auth",
        "OUTLOOK_TOKEN_URL": f"{fake.base}/graph/token",
        "OUTLOOK_API_URL": f"{fake.base}/graph/api",
        "BACKOFF_SECONDS": "0",
        "TIMEOUT_SECONDS": "5",
        "SYNC_WEEKS": "1",
    }
    for key, value in env.items():
        monkeypatch.setenv(f"ONCALL_CALENDAR__{key}", value)
    monkeypatch.setenv("ONCALL_BASE_URL", "https://oncall.test")
    get_settings.cache_clear()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def crew() -> Crew:
    return make_crew()


def _connect(crew: Crew, provider: CalendarProvider) -> int:
    url = calendar_sync.start_connect(actor_of(crew.ann), provider)
    state = parse_qs(urlsplit(url).query)["state"][0]
    return calendar_sync.complete_connect(state, "the-code").id


def _row(connection_id: int) -> CalendarConnection:
    with unit_of_work() as uow:
        row = uow.session.get(CalendarConnection, connection_id)
        assert row is not None
        uow.session.expunge(row)
        return row


def _expected(crew: Crew, schedule_id: int) -> list[tuple[str, str]]:
    shifts = oncall.final_shifts(actor_of(crew.ann), schedule_id, NOW, NOW + timedelta(weeks=1))
    return [(s.start.isoformat(), s.end.isoformat()) for s in shifts if s.user_id == crew.id("ann")]


def test_connect_google_stores_encrypted_tokens_and_enqueues_a_sync(
    fake: FakeProviders, crew: Crew, stub_broker: StubBroker
) -> None:
    url = calendar_sync.start_connect(actor_of(crew.ann), CalendarProvider.GOOGLE)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{fake.base}/google/auth"
    assert query["client_id"] == "g-client"
    assert query["redirect_uri"] == "https://oncall.test/api/calendar/oauth/callback"
    assert query["scope"] == "https://www.googleapis.com/auth/calendar.events"
    assert (query["response_type"], query["access_type"]) == ("code", "offline")
    assert _row(1).state_hash is not None
    assert _row(1).state_hash != query["state"]

    out = calendar_sync.complete_connect(query["state"], "the-code")

    assert out.status is ConnectionStatus.CONNECTED
    [token_call] = fake.of("POST", "/google/token")
    assert token_call.body == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": "https://oncall.test/api/calendar/oauth/callback",
        "client_id": "g-client",
        "client_secret": "g-secret",
    }
    row = _row(out.id)
    assert row.access_token_enc is not None
    assert row.refresh_token_enc is not None
    assert "access-1" not in row.access_token_enc
    assert "refresh-1" not in row.refresh_token_enc
    assert secretbox.decrypt(row.access_token_enc) == "access-1"
    assert secretbox.decrypt(row.refresh_token_enc) == "refresh-1"
    assert row.state_hash is None
    queued = [Message.decode(raw) for raw in stub_broker.queues["default"].queue]
    assert [(m.actor_name, m.kwargs) for m in queued] == [
        ("sync_calendar", {"connection_id": out.id})
    ]
    # The state works once.
    with pytest.raises(ConnectionNotFound):
        calendar_sync.complete_connect(query["state"], "the-code")


def test_google_sync_pushes_exactly_our_shifts_then_deletes_and_recreates(
    fake: FakeProviders, crew: Crew
) -> None:
    schedule_id = make_schedule(crew)
    connection_id = _connect(crew, CalendarProvider.GOOGLE)
    expected = _expected(crew, schedule_id)
    assert len(expected) == 3  # daily rotation of three people, one week

    assert calendar_sync.sync_connection(connection_id) == 3

    posts = fake.of("POST", "/google/api/")
    assert {p.path for p in posts} == {"/google/api/calendars/primary/events"}
    assert [(p.body["start"]["dateTime"], p.body["end"]["dateTime"]) for p in posts] == expected
    assert {p.body["summary"] for p in posts} == {"On call: Primary"}
    assert {p.body["start"]["timeZone"] for p in posts} == {"UTC"}
    assert {p.headers["Authorization"] for p in posts} == {"Bearer access-1"}
    first_ids = _row(connection_id).event_ids
    assert first_ids == ["evt-2", "evt-3", "evt-4"]
    assert _row(connection_id).last_synced_at == NOW

    calendar_sync.sync_connection(connection_id)

    deletes = fake.of("DELETE", "/google/api/")
    assert [d.path for d in deletes] == [
        f"/google/api/calendars/primary/events/{i}" for i in first_ids
    ]
    assert len(fake.of("POST", "/google/api/")) == 6
    assert _row(connection_id).event_ids == ["evt-8", "evt-9", "evt-10"]


def test_outlook_sync_uses_graph_bodies(fake: FakeProviders, crew: Crew) -> None:
    schedule_id = make_schedule(crew)
    connection_id = _connect(crew, CalendarProvider.OUTLOOK)
    assert calendar_sync.sync_connection(connection_id) == 3
    posts = fake.of("POST", "/graph/api/")
    assert {p.path for p in posts} == {"/graph/api/me/events"}
    expected = [
        (datetime.fromisoformat(a).strftime("%Y-%m-%dT%H:%M:%S"), "UTC")
        for a, _ in _expected(crew, schedule_id)
    ]
    assert [(p.body["start"]["dateTime"], p.body["start"]["timeZone"]) for p in posts] == expected
    assert {p.body["subject"] for p in posts} == {"On call: Primary"}
    calendar_sync.sync_connection(connection_id)
    assert [d.path for d in fake.of("DELETE", "/graph/api/")] == [
        "/graph/api/me/events/evt-2",
        "/graph/api/me/events/evt-3",
        "/graph/api/me/events/evt-4",
    ]


def test_expired_or_rejected_tokens_are_refreshed(fake: FakeProviders, crew: Crew) -> None:
    make_schedule(crew)
    connection_id = _connect(crew, CalendarProvider.GOOGLE)
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):  # the token has expired
        calendar_sync.sync_connection(connection_id)
    [refresh] = [
        p for p in fake.of("POST", "/google/token") if p.body["grant_type"] != "authorization_code"
    ]
    assert refresh.body["refresh_token"] == "refresh-1"
    row = _row(connection_id)
    assert row.refresh_token_enc is not None
    assert secretbox.decrypt(row.refresh_token_enc) == "refresh-1"  # kept: none was sent
    assert {p.headers["Authorization"] for p in fake.of("POST", "/google/api/")} == {
        "Bearer access-2"
    }

    fake.failures["/google/api/"] = [401]  # revoked on the provider's side: refresh once
    calendar_sync.sync_connection(connection_id)
    assert len(fake.of("POST", "/google/token")) == 3


def test_provider_outages_are_retried_a_bounded_number_of_times(
    fake: FakeProviders, crew: Crew
) -> None:
    make_schedule(crew)
    connection_id = _connect(crew, CalendarProvider.GOOGLE)
    fake.failures["/google/api/"] = [503, 503]  # the third attempt succeeds
    assert calendar_sync.sync_connection(connection_id) == 3

    fake.failures["/google/api/"] = [503] * 10
    with pytest.raises(ExternalServiceError) as failed:
        calendar_sync.sync_connection(connection_id)
    assert failed.value.retryable is True
    assert calendar_sync.retryable(failed.value)
    assert fake.failures["/google/api/"] == [503] * 7  # exactly three attempts
    row = _row(connection_id)
    assert row.last_error == "google could not delete an event: HTTP 503"
    assert len(row.event_ids) == 3  # still known: the next run deletes them


def test_disconnect_removes_our_events_and_tokens_and_reconnect_works(
    fake: FakeProviders, crew: Crew
) -> None:
    make_schedule(crew)
    connection_id = _connect(crew, CalendarProvider.GOOGLE)
    calendar_sync.sync_connection(connection_id)
    created = _row(connection_id).event_ids

    calendar_sync.disconnect(actor_of(crew.ann), connection_id)

    assert [d.path.rsplit("/", 1)[-1] for d in fake.of("DELETE", "/google/api/")] == created
    row = _row(connection_id)
    assert row.status == ConnectionStatus.DISCONNECTED
    assert (row.access_token_enc, row.refresh_token_enc, row.event_ids) == (None, None, [])
    assert calendar_sync.sync_connection(connection_id) == 0  # nothing is pushed any more

    assert _connect(crew, CalendarProvider.GOOGLE) == connection_id  # the same row again
    assert _row(connection_id).status == ConnectionStatus.CONNECTED
    assert calendar_sync.sync_connection(connection_id) == 3
    assert [c.provider for c in calendar_sync.list_connections(actor_of(crew.ann))] == [
        CalendarProvider.GOOGLE
    ]


def test_someone_else_cannot_disconnect(fake: FakeProviders, crew: Crew) -> None:
    connection_id = _connect(crew, CalendarProvider.GOOGLE)
    with pytest.raises(PermissionDenied) as denied:
        calendar_sync.disconnect(actor_of(crew.ben), connection_id)
    assert denied.value.code == ErrorCode.PERMISSION_DENIED
    assert _row(connection_id).status == ConnectionStatus.CONNECTED


def test_unconfigured_provider_is_refused(crew: Crew) -> None:
    with pytest.raises(ValidationFailed) as refused:
        calendar_sync.start_connect(actor_of(crew.ann), CalendarProvider.GOOGLE)
    assert refused.value.code == ErrorCode.VALIDATION_FAILED
    assert calendar_sync.list_connections(actor_of(crew.ann)) == []


def test_oauth_callback_route(fake: FakeProviders, crew: Crew) -> None:
    url = calendar_sync.start_connect(actor_of(crew.ann), CalendarProvider.OUTLOOK)
    state = parse_qs(urlsplit(url).query)["state"][0]
    with TestClient(create_api(), base_url="https://localhost:3000") as client:
        ok = client.get(
            "/api/calendar/oauth/callback",
            params={"state": state, "code": "c"},
            follow_redirects=False,
        )
        again = client.get(
            "/api/calendar/oauth/callback",
            params={"state": state, "code": "c"},
            follow_redirects=False,
        )
        denied = client.get(
            "/api/calendar/oauth/callback",
            params={"error": "access_denied"},
            follow_redirects=False,
        )
    assert (ok.status_code, ok.headers["location"]) == (303, "/profile?calendar=connected")
    assert again.headers["location"] == "/profile?calendar=failed"
    assert denied.headers["location"] == "/profile?calendar=denied"

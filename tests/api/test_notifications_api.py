"""``GET /api/v1/notifications``: the delivery log, for keys with ``incidents:read``."""

from __future__ import annotations

from fastapi.testclient import TestClient

from backend.apikeys.scopes import Scope
from backend.core.settings import NotificationSettings
from backend.notifications import dispatch, health
from backend.notifications.models import ChannelKind
from tests.api.conftest import bearer, issue_key
from tests.factories.notifications import verified_method
from tests.service.test_notifications import World, world  # world: the fixture, reused

__all__ = ["world"]
SETTINGS = NotificationSettings()


def test_the_delivery_log_of_an_incident(client: TestClient, world: World) -> None:
    verified_method(world.crew.id("ann"), ChannelKind.SMS, "+15550001")
    incident_id, deliveries = world.page()
    for d in deliveries:
        dispatch.deliver(d.notification_id)
    key = issue_key(Scope.INCIDENTS_READ)
    got = client.get(f"/api/v1/notifications?incident_id={incident_id}", headers=bearer(key))
    assert got.status_code == 200
    body = got.json()
    assert [(n["channel"], n["status"], n["attempts"], n["user_name"]) for n in body] == [
        ("sms", "queued", 0, "Ann"),  # the reminder at minute 5
        ("sms", "delivered", 1, "Ann"),
    ]
    assert [(a["attempt"], a["provider"], a["status"]) for a in body[1]["attempt_log"]] == [
        (1, "outbox", "delivered")
    ]
    assert client.get("/api/v1/notifications?incident_id=999", headers=bearer(key)).json() == []


def test_the_delivery_log_needs_incidents_read(client: TestClient) -> None:
    key = issue_key(Scope.ESCALATION_READ)
    got = client.get("/api/v1/notifications", headers=bearer(key))
    assert (got.status_code, got.json()["code"]) == (403, "insufficient_scope")


def test_provider_health(client: TestClient) -> None:
    key = issue_key(Scope.INCIDENTS_READ)
    assert client.get("/api/v1/notifications/providers", headers=bearer(key)).json() == []
    for _ in range(3):
        health.record("twilio", ok=False, retryable=True, summary="Twilio 503", s=SETTINGS)
    (got,) = client.get("/api/v1/notifications/providers", headers=bearer(key)).json()
    assert (got["name"], got["state"], got["consecutive_failures"], got["last_error"]) == (
        "twilio",
        "open",
        3,
        "Twilio 503",
    )

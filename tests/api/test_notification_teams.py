"""Microsoft Teams (NOTIF-01, ADR 0008): the provider through ``httpx2`` against a local server
answering like a Workflows webhook, the exact Adaptive Card of a page, its magic-link buttons
acting through the API, error mapping, and the webhook URL kept out of sight (it is a
credential)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from backend.audit.models import AuditEntry
from backend.core.db import unit_of_work
from backend.core.errors import ValidationFailed
from backend.core.settings import get_settings
from backend.incidents.models import Incident, IncidentStatus
from backend.notifications import dispatch, queries
from backend.notifications import service as notifications
from backend.notifications.dispatch import DeliverOutcome
from backend.notifications.models import ChannelKind, DeliveryAttempt
from backend.notifications.providers import OutgoingMessage, provider_for
from backend.notifications.providers.teams import TeamsProvider
from backend.notifications.schemas import ContactMethodIn
from tests.factories.identity import actor_of
from tests.factories.notifications import drain_paging, verified_method
from tests.service.test_notifications import World, world  # world: the fixture, reused

__all__ = ["world"]
SIG = "s1gnatureS3cretXyz"
WORKFLOW_PATH = "/workflows/0a1b2c/triggers/manual/paths/invoke"
LINK = re.compile(r"^http://localhost:3000/api/v1/actions/email/[A-Za-z0-9_-]{43}$")


class FakeWorkflow(ThreadingHTTPServer):
    """Answers ``POST`` like a Teams Workflows webhook trigger (202 Accepted, empty body)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), WorkflowHandler)
        self.requests: list[dict[str, Any]] = []
        self.answer: tuple[int, bytes] = (202, b"")
        self.delay = 0.0
        self.release = threading.Event()

    @property
    def url(self) -> str:
        """The webhook URL a user would paste (with its signature)."""
        port = self.server_address[1]
        return f"http://127.0.0.1:{port}{WORKFLOW_PATH}?api-version=1&sp=%2Ftriggers&sig={SIG}"


class WorkflowHandler(BaseHTTPRequestHandler):
    server: FakeWorkflow

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        self.server.requests.append(
            {
                "path": self.path,
                "content_type": self.headers.get("content-type"),
                "json": json.loads(self.rfile.read(length)),
            }
        )
        if self.server.delay:
            self.server.release.wait(self.server.delay)
        status, body = self.server.answer
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def teams(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWorkflow]:
    server = FakeWorkflow()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    for key, value in {
        "TEAMS_PROVIDER": "teams",
        "TEAMS_ALLOW_INSECURE_URLS": "true",
        "TIMEOUT_SECONDS": "2",
    }.items():
        monkeypatch.setenv(f"ONCALL_NOTIFICATIONS__{key}", value)
    get_settings.cache_clear()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


def expected_card(incident_id: int, ack_url: str, resolve_url: str) -> dict[str, Any]:
    link = f"http://localhost:3000/incidents/{incident_id}"
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "fallbackText": f"[ESC-L1][CRITICAL] #{incident_id} Disk full on db-1",
                    "msteams": {"width": "Full"},
                    "body": [
                        {
                            "type": "Container",
                            "style": "attention",
                            "bleed": True,
                            "items": [
                                {
                                    "type": "TextBlock",
                                    "text": f"CRITICAL · #{incident_id}",
                                    "wrap": True,
                                    "weight": "Bolder",
                                    "color": "attention",
                                },
                                {
                                    "type": "TextBlock",
                                    "text": "Disk full on db-1",
                                    "wrap": True,
                                    "size": "Large",
                                    "weight": "Bolder",
                                },
                            ],
                        },
                        {
                            "type": "FactSet",
                            "facts": [
                                {"title": "Incident", "value": f"#{incident_id}"},
                                {"title": "Severity", "value": "CRITICAL"},
                                {"title": "Service", "value": "Postgres"},
                                {"title": "Escalation level", "value": "1"},
                            ],
                        },
                        {
                            "type": "TextBlock",
                            "text": "Acknowledge and Resolve open OnCall to confirm; each link "
                            "works once, for 15 minutes.",
                            "wrap": True,
                            "size": "Small",
                            "isSubtle": True,
                        },
                    ],
                    "actions": [
                        {
                            "type": "Action.OpenUrl",
                            "title": "Acknowledge",
                            "url": ack_url,
                            "style": "positive",
                        },
                        {
                            "type": "Action.OpenUrl",
                            "title": "Resolve",
                            "url": resolve_url,
                            "style": "default",
                        },
                        {
                            "type": "Action.OpenUrl",
                            "title": "Open incident",
                            "url": link,
                            "style": "default",
                        },
                    ],
                },
            }
        ],
    }


def page_on_teams(world: World, teams: FakeWorkflow) -> tuple[int, int]:
    """Ann is paged on Teams; (incident id, notification id)."""
    verified_method(world.crew.id("ann"), ChannelKind.TEAMS, teams.url)
    incident_id, (delivery,) = world.page()
    assert dispatch.deliver(delivery.notification_id) is DeliverOutcome.DONE
    return incident_id, delivery.notification_id


def status_of(incident_id: int) -> IncidentStatus:
    with unit_of_work() as uow:
        incident = uow.session.get(Incident, incident_id)
        assert incident is not None
        return incident.status


def test_a_page_posts_the_adaptive_card_and_its_button_acknowledges(
    client: TestClient, world: World, teams: FakeWorkflow
) -> None:
    incident_id, notification_id = page_on_teams(world, teams)
    (posted,) = teams.requests
    assert posted["path"] == f"{WORKFLOW_PATH}?api-version=1&sp=%2Ftriggers&sig={SIG}"
    assert posted["content_type"] == "application/json"
    actions = posted["json"]["attachments"][0]["content"]["actions"]
    ack_url, resolve_url = actions[0]["url"], actions[1]["url"]
    assert LINK.match(ack_url)
    assert LINK.match(resolve_url)
    assert ack_url != resolve_url
    assert posted["json"] == expected_card(incident_id, ack_url, resolve_url)
    with unit_of_work() as uow:
        (attempt,) = uow.session.exec(
            select(DeliveryAttempt).where(col(DeliveryAttempt.notification_id) == notification_id)
        ).all()
    assert (attempt.provider, attempt.status, attempt.response) == (
        "teams",
        "sent",
        "Teams workflow accepted (202)",
    )
    # The button opens the confirmation page; its POST acknowledges as Ann, once.
    path = urlsplit(ack_url).path
    assert client.get(path).status_code == 200
    assert status_of(incident_id) is IncidentStatus.OPEN
    assert client.post(path).status_code == 200
    assert status_of(incident_id) is IncidentStatus.ACKNOWLEDGED
    assert client.post(path).status_code == 410


def test_the_webhook_url_is_shown_as_its_host_only(world: World, teams: FakeWorkflow) -> None:
    incident_id, _ = page_on_teams(world, teams)
    ann, actor = world.crew.id("ann"), actor_of(world.crew.ann)
    (method,) = notifications.list_contact_methods(actor, ann)
    assert method.address == "http://127.0.0.1/…"
    (logged,) = queries.list_notifications(actor, incident_id=incident_id)
    assert (logged.channel, logged.address) == (ChannelKind.TEAMS, "http://127.0.0.1/…")
    notifications.remove_contact_method(actor, method.id)
    with unit_of_work() as uow:
        (entry,) = uow.session.exec(
            select(AuditEntry).where(
                col(AuditEntry.action) == "notifications.contact_method.removed"
            )
        ).all()
    assert entry.diff == {"kind": "teams", "address": "http://127.0.0.1/…"}


@pytest.mark.parametrize(
    ("_case", "status", "body", "summary", "retryable"),
    [
        (
            "bad card",
            400,
            b'{"error":{"code":"InvalidRequestContent"}}',
            "Teams 400 InvalidRequestContent",
            False,
        ),
        ("bad signature", 401, b"", "Teams 401", False),
        (
            "forbidden",
            403,
            b'{"error":{"code":"DirectApiAuthorizationRequired"}}',
            "Teams 403 DirectApiAuthorizationRequired",
            False,
        ),
        (
            "flow turned off",
            404,
            b'{"error":{"code":"WorkflowTriggerIsNotEnabled"}}',
            "Teams 404 WorkflowTriggerIsNotEnabled",
            False,
        ),
        ("timeout upstream", 408, b"", "Teams 408", True),
        (
            "throttled",
            429,
            b'{"error":{"code":"TooManyRequests"}}',
            "Teams 429 TooManyRequests",
            True,
        ),
        ("flow service down", 502, b"<html>bad gateway</html>", "Teams 502", True),
        ("unavailable", 503, b"", "Teams 503", True),
    ],
)
def test_webhook_errors(
    teams: FakeWorkflow, _case: str, status: int, body: bytes, summary: str, retryable: bool
) -> None:
    teams.answer = (status, body)
    provider = provider_for("teams", get_settings().notifications)
    assert isinstance(provider, TeamsProvider)
    result = provider.send(OutgoingMessage(channel="teams", to=teams.url, body="hello"))
    assert (result.ok, result.status, result.retryable, result.summary) == (
        False,
        "failed",
        retryable,
        summary,
    )
    assert len(teams.requests) == 1


def test_a_message_that_is_not_a_page_is_a_plain_card(teams: FakeWorkflow) -> None:
    body = "Your OnCall verification code is 123456. It expires in 10 minutes."
    result = provider_for("teams", get_settings().notifications).send(
        OutgoingMessage(channel="teams", to=teams.url, body=body)
    )
    assert (result.ok, result.status) == (True, "sent")
    (posted,) = teams.requests
    assert posted["json"]["attachments"][0]["content"] == {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "fallbackText": body,
        "msteams": {"width": "Full"},
        "body": [
            {"type": "TextBlock", "text": "OnCall", "wrap": True, "weight": "Bolder"},
            {"type": "TextBlock", "text": body, "wrap": True},
        ],
        "actions": [],
    }


def test_a_webhook_that_does_not_answer_in_time_is_retryable(
    teams: FakeWorkflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    teams.delay = 5.0
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__TIMEOUT_SECONDS", "0.3")
    get_settings.cache_clear()
    result = provider_for("teams", get_settings().notifications).send(
        OutgoingMessage(channel="teams", to=teams.url, body="hello")
    )
    assert (result.ok, result.retryable, result.summary) == (False, True, "Teams ReadTimeout")


def test_an_unreachable_webhook_is_retryable_and_the_url_stays_out_of_the_summary(
    teams: FakeWorkflow,
) -> None:
    url = f"http://127.0.0.1:9{WORKFLOW_PATH}?sig={SIG}"
    result = provider_for("teams", get_settings().notifications).send(
        OutgoingMessage(channel="teams", to=url, body="hello")
    )
    assert (result.ok, result.retryable, result.summary) == (False, True, "Teams ConnectError")


def test_a_url_off_the_workflow_hosts_is_never_posted_to(
    teams: FakeWorkflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A method stored before a host was removed from the list (or written around the
    service) fails for good at send time instead of posting anywhere."""
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__TEAMS_ALLOW_INSECURE_URLS", "false")
    get_settings.cache_clear()
    result = provider_for("teams", get_settings().notifications).send(
        OutgoingMessage(channel="teams", to=teams.url, body="hello")
    )
    assert (result.ok, result.retryable) == (False, False)
    assert result.summary.startswith("Not a usable Teams webhook URL (address: the webhook URL")
    assert SIG not in result.summary
    assert teams.requests == []


# --- adding a Teams contact method ------------------------------------------------------------

GOOD = (
    "https://prod-42.westeurope.logic.azure.com:443/workflows/0123abcd/triggers/manual/paths/"
    f"invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIG}"
)


def test_adding_a_teams_method_with_a_url_off_the_workflow_hosts_is_422(world: World) -> None:
    """The cases of the check itself are in tests/unit/test_teams_webhook.py."""
    ann, actor = world.crew.id("ann"), actor_of(world.crew.ann)
    with pytest.raises(ValidationFailed) as refused:
        notifications.add_contact_method(
            actor,
            ann,
            ContactMethodIn(kind=ChannelKind.TEAMS, address="https://hooks.example.com/w?sig=x"),
        )
    assert refused.value.status == 422
    (error,) = refused.value.errors
    assert error.loc == ("body", "address")
    assert "hooks.example.com is not a Microsoft workflow host" in error.msg
    assert notifications.list_contact_methods(actor, ann) == []
    _, deliveries = drain_paging(world.broker)
    assert deliveries == []  # no code was sent


def test_adding_a_teams_method_sends_the_code_and_audits_the_host_only(world: World) -> None:
    ann, actor = world.crew.id("ann"), actor_of(world.crew.ann)
    added = notifications.add_contact_method(
        actor, ann, ContactMethodIn(kind=ChannelKind.TEAMS, address=f"  {GOOD} ")
    )
    assert (added.kind, added.address, added.verification_pending) == (
        ChannelKind.TEAMS,
        "https://prod-42.westeurope.logic.azure.com/…",
        True,
    )
    (_, (sent,)) = drain_paging(world.broker)
    assert dispatch.deliver(sent.notification_id) is DeliverOutcome.DONE  # the outbox
    (box,) = queries.list_outbox(actor_of(world.crew.root))
    assert (box.channel, box.to) == (
        ChannelKind.TEAMS,
        "https://prod-42.westeurope.logic.azure.com/…",
    )
    assert box.body.startswith("Your OnCall verification code is ")
    with unit_of_work() as uow:
        (entry,) = uow.session.exec(
            select(AuditEntry).where(col(AuditEntry.action) == "notifications.contact_method.added")
        ).all()
    assert entry.diff == {
        "kind": "teams",
        "address": "https://prod-42.westeurope.logic.azure.com/…",
    }

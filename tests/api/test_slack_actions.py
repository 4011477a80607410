"""Slack (NOTIF-01/05): the provider through the real ``slack_sdk`` against a local server
answering like Slack's Web API, and the interactivity and slash command endpoints driven
with requests signed like Slack signs them (``X-Slack-Signature`` v0, 5-minute window).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker
from fastapi.testclient import TestClient
from slack_sdk.signature import SignatureVerifier
from sqlmodel import select

from backend.api.routes import remote_actions
from backend.audit.models import AuditEntry
from backend.core.db import unit_of_work
from backend.core.errors import ExternalServiceError
from backend.core.jobs import JobName
from backend.core.settings import get_settings
from backend.incidents import service as incidents
from backend.incidents.models import Incident, IncidentStatus
from backend.notifications import dispatch, magic_links, slack_actions
from backend.notifications.action_models import Action, SlackMessage
from backend.notifications.dispatch import DeliverOutcome
from backend.notifications.models import ChannelKind
from backend.notifications.providers import OutgoingMessage, provider_for
from backend.notifications.providers import slack as slack_provider
from tests.factories.identity import actor_of
from tests.factories.ingest import send_generic
from tests.factories.notifications import verified_method
from tests.service.test_notifications import World, world  # world: the fixture, reused

__all__ = ["world"]
SECRET = "slack-signing-secret-for-tests"
BOT = "xoxb-test-token"
CHANNEL, TS = "D0ANNDM", "1772618400.000100"


class FakeSlack(ThreadingHTTPServer):
    """Answers ``/api/chat.postMessage``, ``/api/chat.update``, ``/api/users.info`` like
    Slack's Web API, and ``/hooks/…`` like a ``response_url``; records every request."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SlackHandler)
        self.requests: list[dict[str, Any]] = []
        self.fail: tuple[int, dict[str, Any]] | None = None
        self.emails: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def calls(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]


class SlackHandler(BaseHTTPRequestHandler):
    server: FakeSlack

    def _answer(self, status: int, body: dict[str, Any] | str) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        raw = self.rfile.read(length).decode()
        path = urlparse(self.path).path
        if self.headers.get("content-type", "").startswith("application/json"):
            body = json.loads(raw)
        else:  # users.info is a form post
            body = {k: v[0] for k, v in parse_qs(raw).items()}
        self.server.requests.append(
            {"path": path, "auth": self.headers.get("authorization"), "json": body}
        )
        if path == "/api/users.info":
            email = self.server.emails.get(body.get("user", ""))
            if email is None:
                self._answer(200, {"ok": False, "error": "user_not_found"})
                return
            user = {"id": body["user"], "profile": {"email": email}}
            self._answer(200, {"ok": True, "user": user})
            return
        if path.startswith("/hooks/"):
            self._answer(200, "ok")
            return
        if self.server.fail is not None:
            self._answer(*self.server.fail)
            return
        self._answer(200, {"ok": True, "channel": CHANNEL, "ts": body.get("ts", TS)})

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(autouse=True)
def generous_answer_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that assert the synchronous answer must not depend on a loaded CI machine
    finishing the action within Slack's 2 s budget; the tests of the late path set their own
    short wait after this fixture."""
    monkeypatch.setattr(remote_actions, "SLACK_ANSWER_SECONDS", 30.0)


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    server = FakeSlack()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    for key, value in {
        "SLACK_PROVIDER": "slack",
        "SLACK_BOT_TOKEN": BOT,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BASE_URL": server.url + "/api/",
        "TIMEOUT_SECONDS": "2",
    }.items():
        monkeypatch.setenv(f"ONCALL_NOTIFICATIONS__{key}", value)
    get_settings.cache_clear()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def status_of(incident_id: int) -> IncidentStatus:
    with unit_of_work() as uow:
        incident = uow.session.get(Incident, incident_id)
        assert incident is not None
        return incident.status


def audit_count(action: str) -> int:
    with unit_of_work() as uow:
        return sum(1 for a in uow.session.exec(select(AuditEntry)).all() if a.action == action)


def expected_blocks(
    incident_id: int, status: str, note: str = "", buttons: tuple[str, ...] = ("ack", "resolve")
) -> list[dict[str, Any]]:
    link = f"http://localhost:3000/incidents/{incident_id}"
    elements: list[dict[str, Any]] = []
    if "ack" in buttons:
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "action_id": "oncall_acknowledge",
                "value": str(incident_id),
                "style": "primary",
            }
        )
    if "resolve" in buttons:
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Resolve"},
                "action_id": "oncall_resolve",
                "value": str(incident_id),
            }
        )
    elements.append(
        {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open"},
            "action_id": "oncall_open",
            "url": link,
        }
    )
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f":red_circle: *[CRITICAL] <{link}|#{incident_id}> Disk full on db-1*",
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Service: Postgres · escalation level 1 · status *{status}*",
                }
            ],
        },
    ]
    if note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    blocks.append({"type": "actions", "block_id": f"incident:{incident_id}", "elements": elements})
    return blocks


def page_on_slack(world: World, slack: FakeSlack) -> int:
    """Ann is paged on Slack; the page is posted to the fake Slack."""
    verified_method(world.crew.id("ann"), ChannelKind.SLACK, "U0ANN")
    incident_id, deliveries = world.page()
    outcomes = [dispatch.deliver(d.notification_id) for d in deliveries]
    assert outcomes == [DeliverOutcome.DONE]
    return incident_id


def signed(body: bytes, *, secret: str = SECRET, age: int = 0) -> dict[str, str]:
    timestamp = str(int(time.time()) - age)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def click(
    client: TestClient,
    slack: FakeSlack,
    incident_id: int,
    action_id: str = "oncall_acknowledge",
    user: str = "U0ANN",
    headers: dict[str, str] | None = None,
) -> int:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "ann"},
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": TS},
        "response_url": slack.url + "/hooks/response",
        "actions": [{"action_id": action_id, "value": str(incident_id), "type": "button"}],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    answer = client.post(
        "/api/v1/webhooks/slack/interactions", content=body, headers=headers or signed(body)
    )
    return answer.status_code


def command(
    client: TestClient, slack: FakeSlack, text: str, user: str = "U0ANN"
) -> tuple[int, dict[str, Any]]:
    body = urlencode(
        {
            "command": "/oncall",
            "text": text,
            "user_id": user,
            "response_url": slack.url + "/hooks/command",
        }
    ).encode()
    answer = client.post("/api/v1/webhooks/slack/commands", content=body, headers=signed(body))
    return answer.status_code, answer.json()


def ephemeral(slack: FakeSlack) -> list[str]:
    return [r["json"]["text"] for r in slack.calls("/hooks/response")]


# --- the provider ----------------------------------------------------------------------------


def test_a_page_posts_block_kit_with_buttons_and_remembers_where(
    world: World, slack: FakeSlack
) -> None:
    incident_id = page_on_slack(world, slack)
    (posted,) = slack.calls("/api/chat.postMessage")
    assert posted["auth"] == f"Bearer {BOT}"
    assert posted["json"] == {
        "channel": "U0ANN",
        "text": f"[ESC-L1][CRITICAL] #{incident_id} Disk full on db-1",
        "blocks": expected_blocks(incident_id, "open"),
    }
    with unit_of_work() as uow:
        rows = uow.session.exec(select(SlackMessage)).all()
        assert [(r.incident_id, r.channel, r.ts) for r in rows] == [(incident_id, CHANNEL, TS)]


@pytest.mark.parametrize(
    ("status", "error", "retryable"),
    [(200, "channel_not_found", False), (200, "ratelimited", True), (500, "fatal_error", True)],
)
def test_slack_errors(slack: FakeSlack, status: int, error: str, retryable: bool) -> None:
    slack.fail = (status, {"ok": False, "error": error})
    result = provider_for("slack", get_settings().notifications).send(
        OutgoingMessage(channel="slack", to="U0ANN", body="hello")
    )
    assert (result.ok, result.retryable, result.summary) == (
        False,
        retryable,
        f"Slack {status} {error}",
    )
    assert slack.calls("/api/chat.postMessage")[0]["json"] == {"channel": "U0ANN", "text": "hello"}


def test_an_unreachable_slack_is_retryable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__SLACK_PROVIDER", "slack")
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__SLACK_BASE_URL", "http://127.0.0.1:9/api/")
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__SLACK_BOT_TOKEN", BOT)
    get_settings.cache_clear()
    result = provider_for("slack", get_settings().notifications).send(
        OutgoingMessage(channel="slack", to="U0ANN", body="hello")
    )
    assert (result.ok, result.retryable) == (False, True)


# --- buttons ---------------------------------------------------------------------------------


def test_the_acknowledge_button_acts_once_and_updates_the_page(
    client: TestClient, world: World, slack: FakeSlack
) -> None:
    incident_id = page_on_slack(world, slack)
    assert click(client, slack, incident_id) == 200
    assert status_of(incident_id) is IncidentStatus.ACKNOWLEDGED
    (update,) = slack.calls("/api/chat.update")
    assert update["json"] == {
        "channel": CHANNEL,
        "ts": TS,
        "text": f"[ESC-L1][CRITICAL] #{incident_id} Disk full on db-1",
        "blocks": expected_blocks(
            incident_id, "acknowledged", f"Acknowledged by {world.crew.ann.email}", ("resolve",)
        ),
    }
    # Slack re-delivers the click (or Ann clicks twice): nothing changes.
    assert click(client, slack, incident_id) == 200
    assert audit_count("incidents.incident.acknowledged") == 1
    assert ephemeral(slack) == [
        f"Incident #{incident_id} acknowledged.",
        f"Incident #{incident_id} is already acknowledged.",
    ]
    assert slack.calls("/hooks/response")[0]["json"] == {
        "text": f"Incident #{incident_id} acknowledged.",
        "response_type": "ephemeral",
        "replace_original": False,
    }
    assert click(client, slack, incident_id, "oncall_resolve") == 200
    assert status_of(incident_id) is IncidentStatus.RESOLVED
    assert slack.calls("/api/chat.update")[-1]["json"]["blocks"] == expected_blocks(
        incident_id, "resolved", f"Resolved by {world.crew.ann.email}", ()
    )


@pytest.mark.parametrize("case", ["bad", "missing", "stale"])
def test_a_wrongly_signed_click_is_401_and_changes_nothing(
    client: TestClient, world: World, slack: FakeSlack, case: str
) -> None:
    incident_id = page_on_slack(world, slack)
    body = b"payload=%7B%7D"
    headers = {
        "bad": signed(body, secret="not-the-secret"),
        "missing": {"Content-Type": "application/x-www-form-urlencoded"},
        "stale": signed(body, age=301),
    }[case]
    assert click(client, slack, incident_id, headers=headers) == 401
    assert status_of(incident_id) is IncidentStatus.OPEN
    assert slack.calls("/api/chat.update") == []
    assert slack.calls("/hooks/response") == []


def test_a_click_within_the_replay_window_is_accepted(
    client: TestClient, world: World, slack: FakeSlack
) -> None:
    incident_id = page_on_slack(world, slack)
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ANN"},
        "response_url": slack.url + "/hooks/response",
        "actions": [{"action_id": "oncall_acknowledge", "value": str(incident_id)}],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = signed(body, age=290)
    assert click(client, slack, incident_id, headers=headers) == 401  # signed another body
    answer = client.post("/api/v1/webhooks/slack/interactions", content=body, headers=headers)
    assert answer.status_code == 200
    assert status_of(incident_id) is IncidentStatus.ACKNOWLEDGED


def test_a_click_by_someone_outside_the_team_is_refused_politely(
    client: TestClient, world: World, slack: FakeSlack
) -> None:
    incident_id = page_on_slack(world, slack)
    verified_method(world.crew.id("outsider"), ChannelKind.SLACK, "U0OUT")
    assert click(client, slack, incident_id, user="U0OUT") == 200
    assert status_of(incident_id) is IncidentStatus.OPEN
    assert ephemeral(slack) == [
        f"Sorry, you may not acknowledge incident #{incident_id}: you are not a responder "
        "of the team that owns it."
    ]
    assert slack.calls("/api/chat.update") == []


def test_an_unlinked_slack_user_is_told_how_to_link(
    client: TestClient, world: World, slack: FakeSlack
) -> None:
    incident_id = page_on_slack(world, slack)
    assert click(client, slack, incident_id, user="U0NOBODY") == 200
    assert ephemeral(slack) == [slack_actions.UNKNOWN_USER]
    assert status_of(incident_id) is IncidentStatus.OPEN
    assert slack.calls("/api/users.info")[0]["json"] == {"user": "U0NOBODY"}


def test_a_slack_user_is_matched_by_profile_email(
    client: TestClient, world: World, slack: FakeSlack
) -> None:
    incident_id = page_on_slack(world, slack)
    slack.emails["U0BEN"] = world.crew.ben.email.upper()
    assert click(client, slack, incident_id, user="U0BEN") == 200
    assert status_of(incident_id) is IncidentStatus.ACKNOWLEDGED
    with unit_of_work() as uow:
        incident = uow.session.get(Incident, incident_id)
        assert incident is not None
        assert incident.acknowledged_by == world.crew.ben.email


# --- /oncall ---------------------------------------------------------------------------------


def test_the_slash_command_acks_and_resolves(
    client: TestClient, world: World, slack: FakeSlack
) -> None:
    incident_id = page_on_slack(world, slack)
    assert command(client, slack, f"ack {incident_id}") == (
        200,
        {"response_type": "ephemeral", "text": f"Incident #{incident_id} acknowledged."},
    )
    assert command(client, slack, f"ACK #{incident_id}") == (
        200,
        {"response_type": "ephemeral", "text": f"Incident #{incident_id} is already acknowledged."},
    )
    assert command(client, slack, f"resolve {incident_id}") == (
        200,
        {"response_type": "ephemeral", "text": f"Incident #{incident_id} resolved."},
    )
    assert status_of(incident_id) is IncidentStatus.RESOLVED
    assert audit_count("incidents.incident.acknowledged") == 1
    assert audit_count("incidents.incident.resolved") == 1
    assert len(slack.calls("/api/chat.update")) == 3


@pytest.mark.parametrize("text", ["", "help", "ack", "ack one", "snooze 5"])
def test_the_slash_command_explains_itself(
    client: TestClient, world: World, slack: FakeSlack, text: str
) -> None:
    incident_id = page_on_slack(world, slack)
    assert command(client, slack, text) == (
        200,
        {"response_type": "ephemeral", "text": slack_actions.USAGE},
    )
    assert status_of(incident_id) is IncidentStatus.OPEN


def test_a_wrongly_signed_command_is_401(
    client: TestClient, world: World, slack: FakeSlack
) -> None:
    incident_id = page_on_slack(world, slack)
    body = urlencode({"command": "/oncall", "text": f"ack {incident_id}", "user_id": "U0ANN"})
    headers = signed(body.encode(), secret="wrong")
    answer = client.post("/api/v1/webhooks/slack/commands", content=body, headers=headers)
    assert answer.status_code == 401
    assert status_of(incident_id) is IncidentStatus.OPEN


def test_a_slow_action_is_answered_in_time_and_finishes_later(
    client: TestClient, world: World, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident_id = page_on_slack(world, slack)
    release = threading.Event()
    real = slack_actions.perform

    def slow(request: slack_actions.SlackRequest) -> slack_actions.ActResult:
        release.wait(5)
        return real(request)

    monkeypatch.setattr(slack_actions, "perform", slow)
    monkeypatch.setattr(remote_actions, "SLACK_ANSWER_SECONDS", 0.2)
    started = time.monotonic()
    status, body = command(client, slack, f"ack {incident_id}")
    assert time.monotonic() - started < 3
    assert (status, body["text"]) == (
        200,
        "Working on it… you will see the result here in a moment.",
    )
    release.set()
    deadline = time.monotonic() + 5
    while not slack.calls("/hooks/command") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [r["json"]["text"] for r in slack.calls("/hooks/command")] == [
        f"Incident #{incident_id} acknowledged."
    ]
    assert status_of(incident_id) is IncidentStatus.ACKNOWLEDGED


# --- pages follow the incident ---------------------------------------------------------------


def refresh_jobs(broker: StubBroker) -> list[int]:
    """Take the REFRESH_SLACK_MESSAGES jobs off the default queue: their incident ids."""
    queue = broker.queues.get("default")
    found: list[int] = []
    while queue is not None and not queue.empty():
        message = Message.decode(queue.get_nowait())
        assert message.actor_name == JobName.REFRESH_SLACK_MESSAGES.value
        found.append(int(message.kwargs["incident_id"]))
    return found


def test_pages_follow_status_changes_made_anywhere(world: World, slack: FakeSlack) -> None:
    """The web app, the API, bulk and SMS all go through the incident commands, which enqueue
    one refresh job after commit; the job (what the actor runs) re-renders every page."""
    incident_id = page_on_slack(world, slack)
    assert refresh_jobs(world.broker) == []
    incidents.acknowledge(actor_of(world.crew.ben), incident_id)
    assert slack.calls("/api/chat.update") == []  # nothing yet: the job does it
    assert refresh_jobs(world.broker) == [incident_id]
    assert slack_provider.refresh_posted(incident_id) == 1
    (update,) = slack.calls("/api/chat.update")
    assert update["json"] == {
        "channel": CHANNEL,
        "ts": TS,
        "text": f"[ESC-L1][CRITICAL] #{incident_id} Disk full on db-1",
        "blocks": expected_blocks(
            incident_id, "acknowledged", f"Acknowledged by {world.crew.ben.email}", ("resolve",)
        ),
    }
    incidents.resolve(actor_of(world.crew.ben), incident_id)
    incidents.reopen(actor_of(world.crew.ben), incident_id)
    assert refresh_jobs(world.broker) == [incident_id, incident_id]
    slack_provider.refresh_posted(incident_id)
    assert slack.calls("/api/chat.update")[-1]["json"]["blocks"] == expected_blocks(
        incident_id, "open"
    )


def test_pages_follow_a_monitoring_tool_resolving_the_incident(
    world: World, slack: FakeSlack
) -> None:
    """Not only people's commands: the alert source's own resolve (every alert resolved,
    auto-resolve on) re-renders the page too."""
    incident_id = page_on_slack(world, slack)
    send_generic(
        world.integration, {"title": "Disk full on db-1", "dedup_key": "disk", "status": "resolved"}
    )
    assert status_of(incident_id) is IncidentStatus.RESOLVED
    assert refresh_jobs(world.broker) == [incident_id]
    assert slack_provider.refresh_posted(incident_id) == 1
    (update,) = slack.calls("/api/chat.update")
    assert "resolved" in json.dumps(update["json"]["blocks"]).lower()


def test_a_refresh_slack_cannot_take_now_is_retried(world: World, slack: FakeSlack) -> None:
    incident_id = page_on_slack(world, slack)
    incidents.acknowledge(actor_of(world.crew.ben), incident_id)
    slack.fail = (429, {"ok": False, "error": "ratelimited"})
    with pytest.raises(ExternalServiceError) as raised:
        slack_provider.refresh_posted(incident_id)
    assert raised.value.retryable is True
    slack.fail = (200, {"ok": False, "error": "message_not_found"})  # deleted: not retried
    assert slack_provider.refresh_posted(incident_id) == 0


def test_without_a_slack_bot_no_refresh_is_queued(world: World) -> None:
    incident_id = world.alert()
    incidents.acknowledge(actor_of(world.crew.ben), incident_id)
    assert refresh_jobs(world.broker) == []


def test_pages_are_updated_when_acknowledged_from_an_e_mail_link(
    client: TestClient, world: World, slack: FakeSlack
) -> None:
    incident_id = page_on_slack(world, slack)
    with unit_of_work() as uow:
        url = magic_links.issue_link(
            uow.session,
            user_id=world.crew.id("ann"),
            incident_id=incident_id,
            action=Action.ACKNOWLEDGE,
            base_url="http://localhost:3000",
        )
    assert client.post(url.removeprefix("http://localhost:3000")).status_code == 200
    assert refresh_jobs(world.broker) == [incident_id]
    slack_provider.refresh_posted(incident_id)
    (update,) = slack.calls("/api/chat.update")
    assert update["json"]["blocks"] == expected_blocks(
        incident_id, "acknowledged", f"Acknowledged by {world.crew.ann.email}", ("resolve",)
    )


def test_a_slow_click_is_answered_in_time_and_reported_later(
    client: TestClient, world: World, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident_id = page_on_slack(world, slack)
    release = threading.Event()
    real = slack_actions.perform

    def slow(request: slack_actions.SlackRequest) -> slack_actions.ActResult:
        release.wait(5)
        return real(request)

    monkeypatch.setattr(slack_actions, "perform", slow)
    monkeypatch.setattr(remote_actions, "SLACK_ANSWER_SECONDS", 0.2)
    started = time.monotonic()
    assert click(client, slack, incident_id) == 200
    assert time.monotonic() - started < 3
    assert ephemeral(slack) == []
    release.set()
    deadline = time.monotonic() + 5
    while not ephemeral(slack) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ephemeral(slack) == [f"Incident #{incident_id} acknowledged."]
    assert status_of(incident_id) is IncidentStatus.ACKNOWLEDGED

"""Acting from e-mail links and SMS replies (NOTIF-05), through the HTTP endpoints.

Each callback is driven like the provider would: the magic link by GET then POST, the SMS
webhook with a correctly computed ``X-Twilio-Signature`` (the real ``twilio`` validator's
algorithm). Refused requests change nothing: the incident status and the audit log stay.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from twilio.request_validator import RequestValidator

from backend.audit.models import AuditEntry
from backend.core.db import unit_of_work
from backend.core.settings import get_settings
from backend.incidents.models import Incident, IncidentStatus
from backend.notifications import dispatch, magic_links
from backend.notifications.action_models import Action, ActionLink
from backend.notifications.models import ChannelKind, ContactMethod, OutboxMessage
from tests.factories.notifications import verified_method
from tests.service.test_notifications import World, world  # world: the fixture, reused

__all__ = ["world"]
AUTH_TOKEN = "twilio-auth-token-for-tests"
SMS_URL = "/api/v1/webhooks/twilio/sms"


def status_of(incident_id: int) -> IncidentStatus:
    with unit_of_work() as uow:
        incident = uow.session.get(Incident, incident_id)
        assert incident is not None
        return incident.status


def audit_actions() -> list[str]:
    with unit_of_work() as uow:
        return [a.action for a in uow.session.exec(select(AuditEntry)).all()]


def link(world: World, who: str, incident_id: int, action: Action) -> str:
    with unit_of_work() as uow:
        url = magic_links.issue_link(
            uow.session,
            user_id=world.crew.id(who),
            incident_id=incident_id,
            action=action,
            base_url="https://oncall.example.org",
        )
    assert url.startswith("https://oncall.example.org/api/v1/actions/email/")
    return url.removeprefix("https://oncall.example.org")


# --- e-mail magic links ----------------------------------------------------------------------


def test_a_magic_link_asks_on_get_and_acts_once_on_post(client: TestClient, world: World) -> None:
    incident_id = world.alert()
    path = link(world, "ann", incident_id, Action.ACKNOWLEDGE)
    page = client.get(path)
    assert page.status_code == 200
    assert f"Acknowledge incident #{incident_id}?" in page.text
    assert '<form method="post">' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert status_of(incident_id) is IncidentStatus.OPEN  # a GET (a mail scanner) never acts
    done = client.post(path)
    assert done.status_code == 200
    assert f"Incident #{incident_id} acknowledged." in done.text
    assert status_of(incident_id) is IncidentStatus.ACKNOWLEDGED
    again = client.post(path)
    assert again.status_code == 410
    assert "already been used" in again.text
    assert "already been used" in client.get(path).text
    assert audit_actions().count("incidents.incident.acknowledged") == 1


def test_a_magic_link_is_stored_hashed(client: TestClient, world: World) -> None:
    incident_id = world.alert()
    path = link(world, "ann", incident_id, Action.RESOLVE)
    token = path.rsplit("/", 1)[1]
    with unit_of_work() as uow:
        rows = uow.session.exec(select(ActionLink)).all()
    assert len(rows) == 1
    assert token not in rows[0].token_hash
    assert len(rows[0].token_hash) == 64


def test_a_magic_link_expires_after_15_minutes(client: TestClient, world: World) -> None:
    incident_id = world.alert()
    path = link(world, "ann", incident_id, Action.RESOLVE)
    world.traveller.shift(timedelta(minutes=14, seconds=59))
    assert client.get(path).status_code == 200
    world.traveller.shift(timedelta(seconds=1))
    for answer in (client.get(path), client.post(path)):
        assert answer.status_code == 410
        assert "expired" in answer.text
    assert status_of(incident_id) is IncidentStatus.OPEN


def test_a_tampered_or_unknown_link_changes_nothing(client: TestClient, world: World) -> None:
    incident_id = world.alert()
    path = link(world, "ann", incident_id, Action.ACKNOWLEDGE)
    tampered = path[:-1] + ("A" if path[-1] != "A" else "B")
    answer = client.post(tampered)
    assert answer.status_code == 410
    assert "not valid" in answer.text
    assert status_of(incident_id) is IncidentStatus.OPEN
    assert client.post(path).status_code == 200  # the real one still works


def test_a_magic_link_of_someone_outside_the_team_is_refused(
    client: TestClient, world: World
) -> None:
    incident_id = world.alert()
    path = link(world, "outsider", incident_id, Action.ACKNOWLEDGE)
    answer = client.post(path)
    assert answer.status_code == 403
    assert "you may not acknowledge" in answer.text
    assert status_of(incident_id) is IncidentStatus.OPEN
    assert "incidents.incident.acknowledged" not in audit_actions()


def test_a_resolve_link_after_an_acknowledge_resolves(client: TestClient, world: World) -> None:
    incident_id = world.alert()
    ack = link(world, "ann", incident_id, Action.ACKNOWLEDGE)
    res = link(world, "ann", incident_id, Action.RESOLVE)
    assert client.post(ack).status_code == 200
    assert f"Incident #{incident_id} resolved." in client.post(res).text
    assert status_of(incident_id) is IncidentStatus.RESOLVED
    late = link(world, "ann", incident_id, Action.ACKNOWLEDGE)
    assert f"Incident #{incident_id} is already resolved." in client.post(late).text


# --- SMS replies -----------------------------------------------------------------------------


@pytest.fixture
def twilio_token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    get_settings.cache_clear()
    return AUTH_TOKEN


def sms(
    client: TestClient, sender: str, text: str, *, token: str = AUTH_TOKEN, sign: bool = True
) -> tuple[int, str]:
    params = {"From": sender, "To": "+15559990000", "Body": text, "MessageSid": "SM1"}
    url = get_settings().base_url.rstrip("/") + SMS_URL
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(url, params)
    answer = client.post(SMS_URL, data=params, headers=headers)
    return answer.status_code, answer.text


def reply(text: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{text}</Message></Response>'


def test_sms_ack_and_resolve_with_the_short_id(
    client: TestClient, world: World, twilio_token: str
) -> None:
    verified_method(world.crew.id("ann"), ChannelKind.SMS, "+15550001")
    incident_id = world.alert()
    assert sms(client, "+15550001", f"ack {incident_id}") == (
        200,
        reply(f"OnCall: Incident #{incident_id} acknowledged."),
    )
    assert status_of(incident_id) is IncidentStatus.ACKNOWLEDGED
    # Twilio re-delivers the same webhook: nothing changes, a calm answer.
    assert sms(client, "+15550001", f"ack {incident_id}") == (
        200,
        reply(f"OnCall: Incident #{incident_id} is already acknowledged."),
    )
    assert sms(client, "+15550001", f"RESOLVE #{incident_id}") == (
        200,
        reply(f"OnCall: Incident #{incident_id} resolved."),
    )
    assert status_of(incident_id) is IncidentStatus.RESOLVED
    actions = audit_actions()
    assert actions.count("incidents.incident.acknowledged") == 1
    assert actions.count("incidents.incident.resolved") == 1


def test_sms_ack_without_an_id_takes_the_latest_page(
    client: TestClient, world: World, twilio_token: str
) -> None:
    verified_method(world.crew.id("ann"), ChannelKind.SMS, "+15550001")
    incident_id, _ = world.page()
    assert sms(client, "+15550001", "ACK") == (
        200,
        reply(f"OnCall: Incident #{incident_id} acknowledged."),
    )


@pytest.mark.parametrize(
    ("token", "sign"), [("wrong-token", True), (AUTH_TOKEN, False)], ids=["bad", "missing"]
)
def test_sms_with_a_bad_or_missing_signature_is_401(
    client: TestClient, world: World, twilio_token: str, token: str, sign: bool
) -> None:
    verified_method(world.crew.id("ann"), ChannelKind.SMS, "+15550001")
    incident_id = world.alert()
    status, _ = sms(client, "+15550001", f"ACK {incident_id}", token=token, sign=sign)
    assert status == 401
    assert status_of(incident_id) is IncidentStatus.OPEN


def test_sms_is_refused_when_no_auth_token_is_configured(client: TestClient, world: World) -> None:
    incident_id = world.alert()
    assert sms(client, "+15550001", f"ACK {incident_id}")[0] == 401


def test_sms_from_an_unknown_or_unverified_number_changes_nothing(
    client: TestClient, world: World, twilio_token: str
) -> None:
    incident_id = world.alert()
    with unit_of_work() as uow:
        uow.session.add(
            ContactMethod(user_id=world.crew.id("ann"), kind=ChannelKind.SMS, address="+15550002")
        )
    unknown = reply(
        "OnCall: this number is not a verified SMS contact of any user. "
        "Add and verify it under your notification settings."
    )
    assert sms(client, "+15550009", f"ACK {incident_id}") == (200, unknown)
    assert sms(client, "+15550002", f"ACK {incident_id}") == (200, unknown)
    assert status_of(incident_id) is IncidentStatus.OPEN


@pytest.mark.parametrize("text", ["hello", "ACK twelve", "ACK 1 2", ""])
def test_sms_with_an_unknown_keyword_gets_help(
    client: TestClient, world: World, twilio_token: str, text: str
) -> None:
    verified_method(world.crew.id("ann"), ChannelKind.SMS, "+15550001")
    incident_id = world.alert()
    assert sms(client, "+15550001", text) == (
        200,
        reply("OnCall: reply ACK &lt;id&gt; or RESOLVE &lt;id&gt;, e.g. ACK 123."),
    )
    assert status_of(incident_id) is IncidentStatus.OPEN


def test_sms_from_someone_outside_the_team_is_refused_politely(
    client: TestClient, world: World, twilio_token: str
) -> None:
    verified_method(world.crew.id("outsider"), ChannelKind.SMS, "+15550007")
    incident_id = world.alert()
    status, text = sms(client, "+15550007", f"ACK {incident_id}")
    assert (status, text) == (
        200,
        reply(
            f"OnCall: Sorry, you may not acknowledge incident #{incident_id}: "
            "you are not a responder of the team that owns it."
        ),
    )
    assert status_of(incident_id) is IncidentStatus.OPEN
    assert "incidents.incident.acknowledged" not in audit_actions()


def test_the_paging_e_mail_carries_links_that_acknowledge(client: TestClient, world: World) -> None:
    verified_method(world.crew.id("ann"), ChannelKind.EMAIL, "ann@example.org")
    incident_id, deliveries = world.page()
    for d in deliveries:
        dispatch.deliver(d.notification_id)
    with unit_of_work() as uow:
        mail = uow.session.exec(
            select(OutboxMessage).where(OutboxMessage.channel == ChannelKind.EMAIL)
        ).one()
    found = re.findall(r"^(Acknowledge|Resolve): http://localhost:3000(\S+)$", mail.body, re.M)
    assert [kind for kind, _ in found] == ["Acknowledge", "Resolve"]
    ack_path = found[0][1]
    assert "Acknowledge" in client.get(ack_path).text
    assert status_of(incident_id) is IncidentStatus.OPEN
    assert client.post(ack_path).status_code == 200
    assert status_of(incident_id) is IncidentStatus.ACKNOWLEDGED
    with unit_of_work() as uow:
        # Ann's two links, stored hashed; the token is only in the e-mail.
        stored = uow.session.exec(select(ActionLink)).all()
    assert sorted((r.user_id, r.action, r.used_at is not None) for r in stored) == [
        (world.crew.id("ann"), "acknowledge", True),
        (world.crew.id("ann"), "resolve", False),
    ]
    assert all(r.token_hash not in mail.body for r in stored)

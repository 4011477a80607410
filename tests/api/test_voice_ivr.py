"""The voice call's keypad (NOTIF-05) through ``POST /api/v1/webhooks/twilio/voice``.

Each request is signed like Twilio signs it (the real ``RequestValidator`` computing
``X-Twilio-Signature`` over the public URL with its ``notification`` query and the form), for a
voice page really planned by an escalation step. Refused requests change nothing.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select
from twilio.request_validator import RequestValidator

from backend.audit.models import AuditEntry
from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceCreate
from backend.core.db import unit_of_work
from backend.core.settings import get_settings
from backend.escalation import engine
from backend.escalation.models import PageRequest
from backend.escalation.policy import TargetKind
from backend.incidents.models import Incident, IncidentEvent, IncidentEventKind, IncidentStatus
from backend.ingest import integrations
from backend.ingest.models import IntegrationType
from backend.ingest.schemas import IntegrationCreate
from backend.notifications.models import ChannelKind
from tests.factories.escalation import make_policy
from tests.factories.identity import actor_of
from tests.factories.ingest import send_generic
from tests.factories.notifications import drain_paging, verified_method
from tests.service.test_notifications import World, world  # world: the fixture, reused

__all__ = ["world"]
AUTH_TOKEN = "twilio-auth-token-for-tests"
VOICE_PATH = "/api/v1/webhooks/twilio/voice"
HEAD = '<?xml version="1.0" encoding="UTF-8"?><Response>'
MENU = "Press 1 to acknowledge, 2 to hear the details, 9 to escalate."


@pytest.fixture(autouse=True)
def twilio_token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("ONCALL_BASE_URL", "https://oncall.example.org")
    get_settings.cache_clear()
    return AUTH_TOKEN


def press(
    client: TestClient,
    query: str,
    digits: str | None = "1",
    *,
    answered_by: str = "",
    token: str = AUTH_TOKEN,
    sign: bool = True,
    signed_query: str | None = None,
) -> tuple[int, str, str]:
    """POST like Twilio's ``<Gather>`` action: (status, content type, body)."""
    params = {"CallSid": "CA" + "1" * 32, "From": "+15550000", "To": "+15550001"}
    if digits is not None:
        params["Digits"] = digits
    if answered_by:
        params["AnsweredBy"] = answered_by
    public = f"https://oncall.example.org{VOICE_PATH}?{signed_query or query}"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(public, params)
    answer = client.post(f"{VOICE_PATH}?{query}", data=params, headers=headers)
    return answer.status_code, answer.headers.get("content-type", ""), answer.text


def voice_page(world: World) -> tuple[int, int]:
    """Ann is called for a new critical incident: (incident id, voice notification id)."""
    verified_method(world.crew.id("ann"), ChannelKind.VOICE, "+15550001")
    incident_id, (delivery,) = world.page()
    return incident_id, delivery.notification_id


def status_of(incident_id: int) -> IncidentStatus:
    with unit_of_work() as uow:
        incident = uow.session.get(Incident, incident_id)
        assert incident is not None
        return incident.status


def audit_actions() -> list[str]:
    with unit_of_work() as uow:
        return [a.action for a in uow.session.exec(select(AuditEntry)).all()]


def timeline(incident_id: int) -> list[tuple[IncidentEventKind, str]]:
    with unit_of_work() as uow:
        rows = uow.session.exec(
            select(IncidentEvent)
            .where(col(IncidentEvent.incident_id) == incident_id)
            .order_by(col(IncidentEvent.id))
        ).all()
        return [(e.kind, e.summary) for e in rows]


def said(text: str) -> str:
    return f"{HEAD}<Say>{text}</Say><Hangup /></Response>"


def menu(notification_id: int, lead: str, repeat: int = 0) -> str:
    url = f"https://oncall.example.org{VOICE_PATH}?notification={notification_id}"
    if repeat:
        url += f"&amp;repeat={repeat}"
    return (
        f'{HEAD}<Gather action="{url}" method="POST" numDigits="1" timeout="8">'
        f"<Say>{lead}{MENU}</Say></Gather><Say>No key was pressed. Goodbye.</Say></Response>"
    )


def test_pressing_1_acknowledges_as_the_called_user(client: TestClient, world: World) -> None:
    incident_id, notification_id = voice_page(world)
    query = f"notification={notification_id}"
    assert press(client, query, "1") == (
        200,
        "text/xml; charset=utf-8",
        said(f"Incident {incident_id} acknowledged. Goodbye."),
    )
    assert status_of(incident_id) is IncidentStatus.ACKNOWLEDGED
    with unit_of_work() as uow:
        incident = uow.session.get(Incident, incident_id)
        assert incident is not None
        assert (incident.acknowledged_by, incident.assignee_id) == (
            world.crew.ann.email,
            world.crew.id("ann"),
        )
    assert timeline(incident_id)[-1] == (
        IncidentEventKind.ACKNOWLEDGED,
        f"{world.crew.ann.email} acknowledged.",
    )
    # Twilio retries the request (or Ann calls back the menu): nothing changes.
    assert press(client, query, "1")[2] == said(
        f"Incident {incident_id} is already acknowledged. Goodbye."
    )
    assert audit_actions().count("incidents.incident.acknowledged") == 1


def test_pressing_2_reads_the_details_and_offers_the_menu_again(
    client: TestClient, world: World
) -> None:
    incident_id, notification_id = voice_page(world)
    details = (
        f"Incident {incident_id}: Disk full on db-1. Severity CRITICAL. Service Postgres. "
        "Status open. Escalation level 1. 1 alert. "
    )
    assert press(client, f"notification={notification_id}", "2") == (
        200,
        "text/xml; charset=utf-8",
        menu(notification_id, details),
    )
    assert status_of(incident_id) is IncidentStatus.OPEN


def test_pressing_9_escalates_to_the_next_level_now(client: TestClient, world: World) -> None:
    admin = actor_of(world.crew.admin)
    ann, ben = world.crew.id("ann"), world.crew.id("ben")
    policy_id = make_policy(
        world.crew.team_id,
        "Two levels",
        levels=[[(TargetKind.USER, ann)], [(TargetKind.USER, ben)]],
        timeouts=[30, 30],
        actor=admin,
    )
    service_id = catalog.create_service(
        admin, ServiceCreate(name="API", team_id=world.crew.team_id, escalation_policy_id=policy_id)
    ).id
    created = integrations.create_integration(
        admin, IntegrationCreate(name="API", type=IntegrationType.GENERIC, service_id=service_id)
    )
    verified_method(ann, ChannelKind.VOICE, "+15550001")
    incident_id = send_generic(created, {"title": "API down", "severity": "critical"}).alerts[0]
    assert incident_id.incident_id is not None
    iid = incident_id.incident_id
    (step,), _ = drain_paging(world.broker)
    assert engine.run_step(step.incident_id, step.token, step.step).outcome is (
        engine.StepOutcome.FIRED
    )
    _, (delivery,) = drain_paging(world.broker)

    assert press(client, f"notification={delivery.notification_id}", "9") == (
        200,
        "text/xml; charset=utf-8",
        said(f"Incident {iid} escalated to the next level. Goodbye."),
    )
    assert timeline(iid)[-1] == (
        IncidentEventKind.ESCALATED,
        f"{world.crew.ann.email} escalated by hand.",
    )
    assert audit_actions().count("incidents.incident.escalated") == 1
    # The re-armed step (sent now, not in 30 minutes) pages Ben.
    (rearmed,), _ = drain_paging(world.broker)
    assert (rearmed.step, rearmed.eta_ms) == (1, None)
    assert engine.run_step(rearmed.incident_id, rearmed.token, rearmed.step).outcome is (
        engine.StepOutcome.FIRED
    )
    with unit_of_work() as uow:
        paged = uow.session.exec(
            select(PageRequest.user_id, PageRequest.level)
            .where(col(PageRequest.incident_id) == iid)
            .order_by(col(PageRequest.id))
        ).all()
    assert [tuple(p) for p in paged] == [(ann, 0), (ben, 1)]


@pytest.mark.parametrize(
    ("_case", "token", "sign", "signed_for"),
    [
        ("wrong token", "not-the-auth-token", True, None),
        ("no signature", AUTH_TOKEN, False, None),
        ("signed for another call", AUTH_TOKEN, True, "notification=999999"),
    ],
)
def test_a_wrongly_signed_keypress_is_403_and_changes_nothing(
    client: TestClient, world: World, _case: str, token: str, sign: bool, signed_for: str | None
) -> None:
    incident_id, notification_id = voice_page(world)
    before = audit_actions()
    status, _, _ = press(
        client,
        f"notification={notification_id}",
        "1",
        token=token,
        sign=sign,
        signed_query=signed_for,
    )
    assert status == 403
    assert status_of(incident_id) is IncidentStatus.OPEN
    assert audit_actions() == before


def test_without_a_configured_auth_token_every_keypress_is_refused(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident_id, notification_id = voice_page(world)
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__TWILIO_AUTH_TOKEN", "")
    get_settings.cache_clear()
    assert press(client, f"notification={notification_id}", "1")[0] == 403
    assert status_of(incident_id) is IncidentStatus.OPEN


def test_a_voicemail_gets_the_summary_and_the_call_ends(client: TestClient, world: World) -> None:
    incident_id, notification_id = voice_page(world)
    assert press(
        client, f"notification={notification_id}", None, answered_by="machine_end_beep"
    ) == (
        200,
        "text/xml; charset=utf-8",
        said(
            f"This is OnCall with a page for you. CRITICAL incident {incident_id} on Postgres: "
            "Disk full on db-1. Open OnCall to respond. Goodbye."
        ),
    )
    # A voicemail greeting's tones are not Ann pressing 1.
    assert press(client, f"notification={notification_id}", "1", answered_by="machine_end_other")[
        2
    ].endswith("Open OnCall to respond. Goodbye.</Say><Hangup /></Response>")
    assert status_of(incident_id) is IncidentStatus.OPEN


def test_an_unknown_key_or_none_repeats_the_menu_then_says_goodbye(
    client: TestClient, world: World
) -> None:
    incident_id, notification_id = voice_page(world)
    query = f"notification={notification_id}"
    assert press(client, query, "7")[2] == menu(
        notification_id, "Sorry, that is not an option. ", repeat=1
    )
    assert press(client, query + "&repeat=1", "")[2] == menu(notification_id, "", repeat=2)
    assert press(client, query + "&repeat=2", "#")[2] == said("Goodbye.")
    assert status_of(incident_id) is IncidentStatus.OPEN
    assert "incidents.incident.acknowledged" not in audit_actions()


@pytest.mark.parametrize("query", ["notification=999999", "notification=abc", "other=1"])
def test_an_unknown_page_gets_a_polite_answer(client: TestClient, world: World, query: str) -> None:
    voice_page(world)
    assert press(client, query, "1") == (
        200,
        "text/xml; charset=utf-8",
        said(
            "Sorry, OnCall cannot find the page this call is about. Open OnCall to respond. "
            "Goodbye."
        ),
    )

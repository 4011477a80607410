"""The ingest command on SQLite: grouping, idempotency, resolution, routing, the delivery log."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlmodel import select

from backend.catalog import service as catalog
from backend.catalog.models import Service
from backend.core import clock
from backend.core.db import unit_of_work
from backend.core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from backend.core.events import InProcessEventBus
from backend.incidents.models import Incident, IncidentStatus, Severity
from backend.incidents.queries import alert_tallies
from backend.ingest import integrations, rejections, rules
from backend.ingest import service as ingest
from backend.ingest.errors import IntegrationNotFound, InvalidIntegrationSecret, InvalidSignature
from backend.ingest.models import (
    Alert,
    AlertStatus,
    DeliveryOutcome,
    InboundDelivery,
    IntegrationType,
)
from backend.ingest.schemas import MatcherIn, RoutingRuleCreate
from tests.factories.ingest import (
    ADMIN,
    make_integration,
    make_service,
    send_generic,
    send_provider,
    sign,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"


def incidents() -> list[Incident]:
    with unit_of_work() as uow:
        return list(uow.session.exec(select(Incident)))


def alert_count(incident: Incident) -> int:
    """The incident's alert count as the API shows it (derived from its alerts, ADR 0011)."""
    assert incident.id is not None
    with unit_of_work() as uow:
        tally = alert_tallies(uow.session, {incident.id}).get(incident.id)
    return tally[0] if tally else 0


def deliveries() -> list[InboundDelivery]:
    with unit_of_work() as uow:
        return list(uow.session.exec(select(InboundDelivery)))


def alerts() -> list[Alert]:
    with unit_of_work() as uow:
        return list(uow.session.exec(select(Alert)))


def test_first_alert_opens_an_incident_and_the_same_key_groups() -> None:
    created = make_integration()
    first = send_generic(created, {"title": "Disk full", "dedup_key": "disk", "severity": "low"})
    second = send_generic(
        created, {"title": "Disk full again", "dedup_key": "disk", "severity": "critical"}
    )
    assert [a.outcome for a in first.alerts] == ["new"]
    assert [a.outcome for a in second.alerts] == ["grouped"]
    assert first.alerts[0].incident_id == second.alerts[0].incident_id
    (incident,) = incidents()
    assert (alert_count(incident), incident.status, incident.severity) == (
        2,
        IncidentStatus.OPEN,
        Severity.CRITICAL,
    )
    assert incident.service_id == created.integration.service_id


def test_repeated_delivery_by_content_creates_nothing_and_is_logged_duplicate() -> None:
    created = make_integration()
    payload = {"title": "Disk full", "dedup_key": "disk"}
    first = send_generic(created, payload)
    again = send_generic(created, payload)
    assert again.outcome is DeliveryOutcome.DUPLICATE
    assert [(a.id, a.outcome, a.incident_id) for a in again.alerts] == [
        (first.alerts[0].id, "repeated", first.alerts[0].incident_id)
    ]
    assert len(alerts()) == 1
    assert alert_count(incidents()[0]) == 1
    assert [(d.outcome, d.reason) for d in deliveries()] == [
        (DeliveryOutcome.ACCEPTED, ""),
        (DeliveryOutcome.DUPLICATE, "repeated"),
    ]


def test_idempotency_key_first_then_content() -> None:
    created = make_integration()
    payload = {"title": "Disk full", "dedup_key": "disk"}
    send_generic(created, payload, idempotency_key="k1")
    # Same body, another key: a new delivery that groups.
    other = send_generic(created, payload, idempotency_key="k2")
    assert [a.outcome for a in other.alerts] == ["grouped"]
    # Another body, a key already seen: repeated.
    repeat = send_generic(created, {"title": "changed", "dedup_key": "x"}, idempotency_key="k1")
    assert repeat.outcome is DeliveryOutcome.DUPLICATE
    assert len(alerts()) == 2


def test_repeat_after_the_window_is_a_new_delivery() -> None:
    created = make_integration(dedup_window_seconds=60)
    payload = {"title": "Disk full", "dedup_key": "disk"}
    with time_machine.travel(clock.now(), tick=False) as traveller:
        send_generic(created, payload)
        traveller.shift(timedelta(seconds=61))
        later = send_generic(created, payload)
    assert [a.outcome for a in later.alerts] == ["grouped"]


def test_resolve_resolves_alerts_and_auto_resolves_the_incident() -> None:
    created = make_integration()
    send_generic(
        created, {"title": "Disk", "dedup_key": "disk", "timestamp": "2026-11-23T10:00:00Z"}
    )
    send_generic(
        created, {"title": "Disk", "dedup_key": "disk", "timestamp": "2026-11-23T10:01:00Z"}
    )
    resolved = send_generic(
        created,
        {
            "title": "Disk",
            "dedup_key": "disk",
            "status": "resolved",
            "timestamp": "2026-11-23T10:05:00Z",
        },
    )
    (incident,) = incidents()
    assert [a.outcome for a in resolved.alerts] == ["resolved"]
    assert resolved.alerts[0].incident_id == incident.id
    assert incident.status is IncidentStatus.RESOLVED
    assert {a.status for a in alerts()} == {AlertStatus.RESOLVED}
    # A new firing alert afterwards opens a new incident.
    again = send_generic(
        created, {"title": "Disk", "dedup_key": "disk", "timestamp": "2026-11-23T10:10:00Z"}
    )
    assert again.alerts[0].outcome == "new"
    assert len(incidents()) == 2


def test_auto_resolve_off_keeps_the_incident_open() -> None:
    created = make_integration(auto_resolve=False)
    send_generic(created, {"title": "Disk", "dedup_key": "disk"})
    send_generic(created, {"title": "Disk", "dedup_key": "disk", "status": "resolved"})
    assert incidents()[0].status is IncidentStatus.OPEN
    assert {a.status for a in alerts()} == {AlertStatus.RESOLVED}


def test_out_of_order_resolve_first_then_older_firing_is_stale() -> None:
    created = make_integration()
    early = send_generic(
        created,
        {
            "title": "Disk",
            "dedup_key": "disk",
            "status": "resolved",
            "timestamp": "2026-11-23T10:05:00Z",
        },
    )
    assert [(a.outcome, a.incident_id) for a in early.alerts] == [("resolved", None)]
    late = send_generic(
        created, {"title": "Disk", "dedup_key": "disk", "timestamp": "2026-11-23T10:00:00Z"}
    )
    assert [(a.outcome, a.incident_id) for a in late.alerts] == [("stale", None)]
    assert incidents() == []
    # A firing newer than the resolve is a real new problem.
    newer = send_generic(
        created, {"title": "Disk", "dedup_key": "disk", "timestamp": "2026-11-23T10:06:00Z"}
    )
    assert newer.alerts[0].outcome == "new"


def test_alertmanager_group_fires_and_resolves_per_fingerprint() -> None:
    created = make_integration(IntegrationType.ALERTMANAGER)
    fired = send_provider(created, json.loads((FIXTURES / "alertmanager/firing.json").read_text()))
    resolved = send_provider(
        created, json.loads((FIXTURES / "alertmanager/resolved.json").read_text())
    )
    assert [a.outcome for a in fired.alerts] == ["new"]
    assert [a.outcome for a in resolved.alerts] == ["resolved"]
    assert incidents()[0].status is IncidentStatus.RESOLVED


def test_query_token_authenticates_and_wrong_tokens_are_refused_and_logged() -> None:
    created = make_integration(IntegrationType.GRAFANA)
    payload = json.loads((FIXTURES / "grafana/firing.json").read_text())
    ok = send_provider(created, payload, headers={"authorization": ""}, query_token=created.secret)
    assert len(ok.alerts) == 2
    with pytest.raises(InvalidIntegrationSecret):
        send_provider(created, payload, headers={"authorization": "Bearer nope"})
    rejected = [d for d in deliveries() if d.outcome is DeliveryOutcome.REJECTED]
    assert [(d.reason, d.http_status) for d in rejected] == [("invalid_integration_secret", 401)]
    assert "authorization" not in rejected[0].headers


def test_signature_replay_window_and_wrong_secret() -> None:
    created = make_integration()
    body = json.dumps({"title": "x"}).encode()
    now = int(clock.now().timestamp())
    cases = [
        sign(created.secret, body, now - 301),
        sign(created.secret, body, now + 61),
        sign("not-the-secret", body, now),
        {"x-oncall-timestamp": str(now)},
        {},
    ]
    # The clock stands still: 1 s past the window must stay past it on a loaded machine.
    with time_machine.travel(clock.now(), tick=False):
        for headers in cases:
            with pytest.raises(InvalidSignature):
                ingest.ingest(
                    ingest.InboundRequest(
                        provider=IntegrationType.GENERIC, key=created.integration.key,
                        body=body, content_type="application/json", headers=headers,
                    )
                )  # fmt: skip
    assert [d.reason for d in deliveries()] == ["invalid_signature"] * 5
    assert alerts() == []


def test_size_content_type_and_payload_errors_change_nothing() -> None:
    created = make_integration()
    base = {"provider": IntegrationType.GENERIC, "key": created.integration.key}
    with pytest.raises(PayloadTooLarge):
        ingest.ingest(ingest.InboundRequest(**base, body=None, content_type="application/json"))
    with pytest.raises(UnsupportedMediaType):
        ingest.ingest(
            ingest.InboundRequest(
                **base, body=b"title=x", content_type="application/x-www-form-urlencoded"
            )
        )
    body = json.dumps({"severity": "high"}).encode()
    with pytest.raises(ValidationFailed):
        ingest.ingest(
            ingest.InboundRequest(
                **base,
                body=body,
                content_type="application/json",
                headers=sign(created.secret, body),
            )
        )
    assert [d.reason for d in deliveries()] == [
        "payload_too_large",
        "unsupported_media_type",
        "validation_failed",
    ]
    assert (alerts(), incidents()) == ([], [])


def test_unknown_key_and_wrong_provider_are_404_and_not_logged() -> None:
    created = make_integration()
    with pytest.raises(IntegrationNotFound):
        ingest.ingest(
            ingest.InboundRequest(
                provider=IntegrationType.GENERIC,
                key="nope",
                body=b"{}",
                content_type="application/json",
            )
        )
    with pytest.raises(IntegrationNotFound):
        ingest.ingest(
            ingest.InboundRequest(
                provider=IntegrationType.DATADOG,
                key=created.integration.key,
                body=b"{}",
                content_type="application/json",
            )
        )
    assert deliveries() == []


def test_rotation_keeps_the_old_secret_for_the_grace_period() -> None:
    created = make_integration(IntegrationType.DATADOG)
    payload = json.loads((FIXTURES / "datadog/default_payload.json").read_text())
    rotated = integrations.rotate_secret(ADMIN, created.integration.id)
    assert rotated.secret != created.secret
    send_provider(rotated, payload)
    payload["id"] = "another-event"
    send_provider(created, payload)  # old secret, within grace
    with time_machine.travel(clock.now() + timedelta(hours=25), tick=False):
        payload["id"] = "a-third-event"
        with pytest.raises(InvalidIntegrationSecret):
            send_provider(created, payload)
        send_provider(rotated, payload)


def test_routing_rule_and_triage_fallback() -> None:
    created = make_integration()
    payments = make_service("Payments")
    rules.create_rule(
        ADMIN,
        RoutingRuleCreate(
            name="payments",
            matchers=[MatcherIn(label="team", value="payments")],
            target_service_id=payments,
        ),
    )
    send_generic(created, {"title": "card declines", "labels": {"team": "payments"}})
    send_generic(created, {"title": "disk", "labels": {"team": "platform"}})
    service_ids = [a.service_id for a in sorted(alerts(), key=lambda a: a.id or 0)]
    assert service_ids == [payments, created.integration.service_id]


def test_an_integration_whose_service_was_deleted_routes_to_triage() -> None:
    created = make_integration()
    assert created.integration.service_id is not None
    catalog.delete_service(ADMIN, created.integration.service_id)
    result = send_generic(created, {"title": "still delivered"})
    with unit_of_work() as uow:
        triage = uow.session.exec(select(Service).where(Service.is_triage)).one()
    assert [a.outcome for a in result.alerts] == ["new"]
    assert [a.service_id for a in alerts()] == [triage.id]


def test_events_are_published_after_commit(bus: InProcessEventBus) -> None:
    created = make_integration()
    published: list[str] = []
    bus.publish = lambda event: published.append(event.name)  # type: ignore[method-assign]
    send_generic(created, {"title": "Disk", "dedup_key": "disk"})
    assert published == ["alerts.alert.received", "incidents.incident.opened"]


def test_a_refused_delivery_is_announced_to_open_delivery_logs_at_most_once_a_second(
    bus: InProcessEventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = make_integration()
    published: list[tuple[str, object]] = []
    bus.publish = lambda event: published.append(  # type: ignore[method-assign]
        (event.name, event.payload.get("integration_id"))
    )
    seconds = [1000.0]
    monkeypatch.setattr(rejections, "_now", lambda: seconds[0])
    monkeypatch.setattr(rejections, "_last", {})
    request = ingest.InboundRequest(
        provider=IntegrationType.GENERIC, key=created.integration.key,
        body=json.dumps({"title": "x"}).encode(), content_type="application/json", headers={},
    )  # fmt: skip
    for _ in range(3):  # a burst: logged three times, announced once
        with pytest.raises(InvalidSignature):
            ingest.ingest(request)
    seconds[0] += 1.5
    with pytest.raises(InvalidSignature):
        ingest.ingest(request)
    assert len(deliveries()) == 4
    assert published == [("ingest.delivery.rejected", created.integration.id)] * 2

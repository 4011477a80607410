"""Every provider's documented samples parse into the alerts we expect (INT-02)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from backend.core.errors import ValidationFailed
from backend.incidents.models import Severity
from backend.ingest.models import IntegrationType
from backend.ingest.normalise import DeliveryKind, EventAction, ParseContext
from backend.ingest.parsers import PARSERS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
RECEIVED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CTX = ParseContext(received_at=RECEIVED)


def load(provider: str, name: str) -> Any:
    return json.loads((FIXTURES / provider / f"{name}.json").read_text())


def parse(provider: str, name: str) -> Any:
    return PARSERS[IntegrationType(provider)](load(provider, name), CTX)


def test_every_integration_type_has_a_parser_fixtures_and_a_docs_page() -> None:
    root = FIXTURES.parents[2]
    for kind in IntegrationType:
        assert kind in PARSERS
        assert list((FIXTURES / kind.value).glob("*.json")), kind
        assert (root / "docs" / "integrations" / f"{kind.value}.md").is_file(), kind


@pytest.mark.parametrize(
    "path", sorted(FIXTURES.glob("*/*.json")), ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_every_fixture_parses(path: Path) -> None:
    parsed = PARSERS[IntegrationType(path.parent.name)](json.loads(path.read_text()), CTX)
    if parsed.kind is DeliveryKind.ALERTS:
        assert parsed.alerts
        for alert in parsed.alerts:
            assert alert.title
            assert alert.dedup_key
            assert alert.occurred_at is not None


def test_generic_full_payload_maps_every_field_and_keeps_unknown_ones() -> None:
    (alert,) = parse("generic", "full").alerts
    assert alert.title == "Checkout latency above SLO"
    assert alert.severity is Severity.CRITICAL
    assert alert.action is EventAction.TRIGGER
    assert alert.dedup_key == "checkout-latency-slo"
    assert alert.source == "prometheus-eu-1"
    assert alert.labels == {"service": "checkout", "env": "prod", "region": "eu-west-1"}
    assert alert.links == [
        {"href": "https://grafana.example.org/d/checkout", "text": "Dashboard"},
        {"href": "https://runbooks.example.org/checkout-latency", "text": ""},
    ]
    assert alert.occurred_at == datetime(2026, 11, 23, 10, 15, tzinfo=UTC)
    assert alert.raw["team"] == "payments"
    assert alert.raw["runbook_version"] == 3


def test_generic_aliases_camel_case_and_message_as_description() -> None:
    (alert,) = parse("generic", "resolved_camel_case").alerts
    assert alert.action is EventAction.RESOLVE
    assert alert.dedup_key == "checkout-latency-slo"
    assert alert.description == "Latency back under 800 ms."
    assert alert.severity is Severity.HIGH
    assert alert.occurred_at == datetime.fromtimestamp(1795428000, UTC)


def test_generic_minimal_falls_back_to_fingerprint_medium_and_received_time() -> None:
    (alert,) = parse("generic", "minimal").alerts
    assert alert.severity is Severity.MEDIUM
    assert alert.dedup_key.startswith("fp:")
    assert alert.occurred_at == RECEIVED


def test_generic_header_timestamp_is_the_second_fallback() -> None:
    header = datetime(2026, 11, 23, 11, 59, tzinfo=UTC)
    parsed = PARSERS[IntegrationType.GENERIC](
        {"title": "x"}, ParseContext(received_at=RECEIVED, header_time=header)
    )
    assert parsed.alerts[0].occurred_at == header


@pytest.mark.parametrize(
    ("_case", "body", "loc"),
    [
        ("no title", {"severity": "high"}, ["body", "title"]),
        ("blank title", {"title": "  "}, ["body", "title"]),
        ("unknown status", {"title": "x", "status": "exploded"}, ["body", "status"]),
        ("labels not an object", {"title": "x", "labels": ["a"]}, ["body", "labels"]),
        ("not an object", ["title"], ["body"]),
    ],
)
def test_generic_is_strict_on_required_fields(_case: str, body: Any, loc: list[str]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        PARSERS[IntegrationType.GENERIC](body, CTX)
    assert [e.as_dict()["loc"] for e in caught.value.errors] == [loc]


def test_alertmanager_group_is_one_alert_per_alert_keyed_by_fingerprint() -> None:
    (firing,) = parse("alertmanager", "firing").alerts
    assert firing.dedup_key == "1a30ba71cca2921f"
    assert firing.title == "BlackBox Probe Failure: https://server.example.org"
    assert firing.severity is Severity.CRITICAL
    assert firing.source == "https://server.example.org"
    assert firing.occurred_at == datetime(2023, 2, 6, 13, 8, 45, 828000, tzinfo=UTC)
    (resolved,) = parse("alertmanager", "resolved").alerts
    assert resolved.action is EventAction.RESOLVE
    assert resolved.dedup_key == firing.dedup_key
    assert resolved.occurred_at == datetime(2023, 2, 6, 13, 20, 45, 828000, tzinfo=UTC)


def test_alertmanager_mixed_group_and_missing_fingerprint() -> None:
    first, second = parse("alertmanager", "group_mixed").alerts
    assert (first.action, second.action) == (EventAction.TRIGGER, EventAction.RESOLVE)
    assert len(first.dedup_key) == 16  # hashed from the labels
    assert second.dedup_key == "7c5b1a8f7d0e0b32"
    assert first.title == "Test"
    assert first.description == "some description"
    assert second.severity is Severity.MEDIUM


def test_grafana_adds_its_links() -> None:
    first, second = parse("grafana", "firing").alerts
    assert first.dedup_key == "c6eadffa33fcdf37"
    assert second.dedup_key == "bc97ff14869b13e3"
    assert [link["text"] for link in first.links] == ["Source", "Runbook", "Silence"]
    (resolved,) = parse("grafana", "resolved").alerts
    assert resolved.action is EventAction.RESOLVE
    assert [link["text"] for link in resolved.links] == [
        "Source",
        "Runbook",
        "Dashboard",
        "Panel",
        "Silence",
    ]


def test_datadog_default_payload() -> None:
    parsed = parse("datadog", "default_payload")
    (alert,) = parsed.alerts
    assert parsed.delivery_id == "5553094553837397632"
    assert alert.title == "CPU load is very high on host:web-1"
    assert alert.action is EventAction.TRIGGER
    assert alert.occurred_at == datetime.fromtimestamp(1406662672, UTC)


def test_datadog_trigger_and_recovery_share_the_cycle_key() -> None:
    (fired,) = parse("datadog", "recommended_triggered").alerts
    (recovered,) = parse("datadog", "recommended_recovered").alerts
    assert fired.dedup_key == recovered.dedup_key == "9121498749013742184"
    assert (fired.action, recovered.action) == (EventAction.TRIGGER, EventAction.RESOLVE)
    assert fired.severity is Severity.CRITICAL
    assert fired.labels["env"] == "prod"
    assert fired.labels["scope"] == "host:web-1"
    assert fired.source == "web-1"


def test_newrelic_states() -> None:
    activated = parse("newrelic", "activated")
    (alert,) = activated.alerts
    assert alert.dedup_key == "d1b1f3fd-995a-4066-88ab-8ce4f6960654"
    assert alert.severity is Severity.CRITICAL
    assert alert.labels["policy"] == "Checkout production"
    assert activated.delivery_id == "d1b1f3fd-995a-4066-88ab-8ce4f6960654:activated:1795428000000"
    assert parse("newrelic", "acknowledged").alerts[0].action is EventAction.ACKNOWLEDGE
    assert parse("newrelic", "closed").alerts[0].action is EventAction.RESOLVE


def test_cloudwatch_alarm_ok_and_subscription_confirmation() -> None:
    alarm = parse("cloudwatch", "alarm")
    (fired,) = alarm.alerts
    assert alarm.delivery_id == "b9b7c6a5-0000-5b5c-9f0b-0e4b1a9e1c01"
    assert fired.dedup_key.startswith("arn:aws:cloudwatch:us-east-1:123456789012:alarm:")
    assert fired.labels["metric"] == "CPUUtilization"
    assert fired.occurred_at == datetime(2026, 11, 23, 10, 15, 10, 463000, tzinfo=UTC)
    (ok,) = parse("cloudwatch", "ok").alerts
    assert ok.action is EventAction.RESOLVE
    assert ok.dedup_key == fired.dedup_key
    confirmation = parse("cloudwatch", "subscription_confirmation")
    assert confirmation.kind is DeliveryKind.SUBSCRIPTION_CONFIRMATION
    assert confirmation.subscribe_url is not None
    assert confirmation.subscribe_url.startswith("https://sns.us-west-2.amazonaws.com/?")


def test_cloudwatch_refuses_a_subscribe_url_outside_aws() -> None:
    body = load("cloudwatch", "subscription_confirmation")
    body["SubscribeURL"] = "https://evil.example.org/?Action=ConfirmSubscription"
    with pytest.raises(ValidationFailed):
        PARSERS[IntegrationType.CLOUDWATCH](body, CTX)


def test_cloudwatch_insufficient_data_is_ignored_not_dropped_silently() -> None:
    body = load("cloudwatch", "alarm")
    alarm = json.loads(body["Message"])
    alarm["NewStateValue"] = "INSUFFICIENT_DATA"
    body["Message"] = json.dumps(alarm)
    parsed = PARSERS[IntegrationType.CLOUDWATCH](body, CTX)
    assert (parsed.kind, parsed.alerts) == (DeliveryKind.IGNORED, [])


def test_pagerduty_events() -> None:
    (trigger,) = parse("pagerduty", "trigger").alerts
    assert trigger.severity is Severity.INFO
    assert trigger.dedup_key == "samplekeyhere"
    assert "routing_key" not in trigger.raw
    assert trigger.labels["component"] == "postgres"
    assert trigger.occurred_at == datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)
    assert parse("pagerduty", "acknowledge").alerts[0].action is EventAction.ACKNOWLEDGE
    assert parse("pagerduty", "resolve").alerts[0].action is EventAction.RESOLVE


@pytest.mark.parametrize(
    ("_case", "body", "locs"),
    [
        ("no action", {"routing_key": "k"}, [["body", "event_action"]]),
        (
            "trigger without payload",
            {"event_action": "trigger"},
            [
                ["body", "payload", "summary"],
                ["body", "payload", "source"],
                ["body", "payload", "severity"],
            ],
        ),
        ("resolve without dedup key", {"event_action": "resolve"}, [["body", "dedup_key"]]),
    ],
)
def test_pagerduty_validation_like_pagerduty(_case: str, body: Any, locs: list[list[str]]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        PARSERS[IntegrationType.PAGERDUTY](body, CTX)
    assert [e.as_dict()["loc"] for e in caught.value.errors] == locs

"""Every provider parser, fed arbitrary JSON and mangled real samples, either normalises or
refuses with ValidationFailed, never anything else (issue 7 §5).

Inputs come from tests/factories/payloads.py (any JSON value, and the real samples mangled);
a sweep also drops and retypes every field of every sample in turn, exhaustively.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from backend.core.errors import ValidationFailed
from backend.incidents.models import Severity
from backend.ingest.models import IntegrationType
from backend.ingest.normalise import (
    MAX_DESCRIPTION,
    MAX_LABEL_VALUE,
    MAX_LABELS,
    MAX_LINKS,
    MAX_SOURCE,
    MAX_TITLE,
    DeliveryKind,
    EventAction,
    NormalisedAlert,
    ParseContext,
    ParsedDelivery,
)
from backend.ingest.parsers import PARSERS
from backend.ingest.parsers.cloudwatch import SUBSCRIBE_URL
from tests.factories.payloads import ODD_TEXT, SAMPLES, at, bodies, slots

RECEIVED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CTX = ParseContext(received_at=RECEIVED, header_time=RECEIVED - timedelta(seconds=3))
# A sha256-hashed over-long key is "sha256:" + 64 hex digits; the column holds 255.
MAX_DEDUP_KEY = 255

FUZZ = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def assert_sane_alert(alert: NormalisedAlert) -> None:
    assert isinstance(alert.severity, Severity)
    assert isinstance(alert.action, EventAction)
    assert isinstance(alert.title, str)
    assert 0 < len(alert.title) <= MAX_TITLE
    assert alert.title.strip()
    assert isinstance(alert.description, str)
    assert len(alert.description) <= MAX_DESCRIPTION
    assert isinstance(alert.source, str)
    assert len(alert.source) <= MAX_SOURCE
    assert isinstance(alert.dedup_key, str)
    assert 0 < len(alert.dedup_key) <= MAX_DEDUP_KEY
    assert len(alert.labels) <= MAX_LABELS
    for name, value in alert.labels.items():
        assert isinstance(name, str)
        assert name
        assert isinstance(value, str)
        assert len(value) <= MAX_LABEL_VALUE
    assert len(alert.links) <= MAX_LINKS
    for link in alert.links:
        assert set(link) == {"href", "text"}
        assert isinstance(link["href"], str)
        assert link["href"].startswith(("http://", "https://"))
        assert isinstance(link["text"], str)
    # PostgreSQL text columns refuse NUL, and a lone surrogate cannot be encoded as UTF-8.
    stored = [alert.title, alert.description, alert.source, alert.dedup_key]
    stored += [*alert.labels, *alert.labels.values()]
    stored += [part for link in alert.links for part in link.values()]
    for part in stored:
        assert "\x00" not in part
        assert part.encode(errors="replace").decode() == part  # no lone surrogate
    assert alert.occurred_at is not None
    assert alert.occurred_at.utcoffset() == timedelta(0)
    assert alert.occurred_at <= RECEIVED + timedelta(days=1)
    assert isinstance(alert.raw, dict)
    json.dumps(alert.raw, default=str)  # storable as JSON


def assert_sane(parsed: ParsedDelivery) -> None:
    assert isinstance(parsed.kind, DeliveryKind)
    if parsed.kind is DeliveryKind.ALERTS:
        assert parsed.alerts
    else:
        assert not parsed.alerts
    for alert in parsed.alerts:
        assert_sane_alert(alert)
    if parsed.kind is DeliveryKind.SUBSCRIPTION_CONFIRMATION:
        assert parsed.subscribe_url is not None
        assert SUBSCRIBE_URL.match(parsed.subscribe_url)
    assert parsed.delivery_id is None or isinstance(parsed.delivery_id, str)


def check(kind: IntegrationType, body: Any) -> None:
    try:
        parsed = PARSERS[kind](body, CTX)
    except ValidationFailed as exc:
        refusal = exc
    else:
        assert_sane(parsed)
        return
    assert refusal.errors, "a refusal names the fields at fault"
    assert all(error.loc[0] == "body" for error in refusal.errors)


@pytest.mark.parametrize("kind", list(IntegrationType), ids=lambda k: k.value)
def test_parser_normalises_or_refuses_anything(kind: IntegrationType) -> None:
    @FUZZ
    @given(body=bodies(kind))
    def run(body: Any) -> None:
        check(kind, body)

    run()


ODD_VALUES: list[Any] = [
    *ODD_TEXT,
    None,
    True,
    0,
    -1,
    10**30,
    1e308,
    float("nan"),
    float("-inf"),
    [],
    {},
    ["a:b", 1, None],
    {"nested": {"deeper": [1, "x"]}},
    "x" * 300_000,
    json.loads("[" * 100 + "]" * 100),
]


def _variants(sample: Any) -> Iterator[Any]:
    """``sample`` with each field in turn dropped, then set to each of ODD_VALUES."""
    for *parent_path, key in slots(sample):
        for value in [_DROP, *ODD_VALUES]:
            doc = copy.deepcopy(sample)
            parent = at(doc, tuple(parent_path))
            if value is _DROP:
                if not isinstance(parent, dict):
                    continue
                del parent[key]
            else:
                parent[key] = value
            yield doc


_DROP = object()


def _cloudwatch_alarm_variants(envelope: Any) -> Iterator[Any]:
    message = envelope.get("Message")
    if isinstance(message, str) and message.startswith("{"):
        for alarm in _variants(json.loads(message)):
            yield {**envelope, "Message": json.dumps(alarm)}


@pytest.mark.parametrize("kind", list(IntegrationType), ids=lambda k: k.value)
def test_every_field_of_every_sample_dropped_or_retyped(kind: IntegrationType) -> None:
    """Exhaustive where hypothesis samples: each field of each sample, each odd value."""
    checked = 0
    for sample in SAMPLES[kind]:
        variants = _variants(sample)
        if kind is IntegrationType.CLOUDWATCH:
            variants = itertools.chain(variants, _cloudwatch_alarm_variants(sample))
        for variant in variants:
            check(kind, variant)
            checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    "bad",
    [
        {"title": ""},
        {"title": "a\x00b"},
        {"description": "lone \ud800"},
        {"dedup_key": ""},
        {"labels": {"count": 1}},
        {"links": [{"href": "javascript:alert(1)", "text": ""}]},
        {"occurred_at": None},
        {"occurred_at": datetime(2026, 11, 23, 12, 0)},  # naive
        {"occurred_at": RECEIVED + timedelta(days=2)},
    ],
)
def test_the_invariants_can_fail(bad: dict[str, Any]) -> None:
    good = NormalisedAlert(title="t", dedup_key="k", occurred_at=RECEIVED)
    assert_sane_alert(good)
    with pytest.raises(AssertionError):
        assert_sane_alert(replace(good, **bad))

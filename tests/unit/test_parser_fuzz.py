"""Every provider parser, fed arbitrary JSON and mangled real samples, either normalises or
refuses with ValidationFailed, never anything else (issue 7 §5).

Inputs are what ``json.loads`` can hand a parser: any JSON value (NaN and the infinities
included, as Python's decoder accepts them), plus each fixture in tests/fixtures/payloads with
fields dropped, retyped, made huge, filled with odd unicode or nested junk. CloudWatch's alarm
travels as a JSON string inside the SNS envelope, so it is mangled inside that string too.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
RECEIVED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CTX = ParseContext(received_at=RECEIVED, header_time=RECEIVED - timedelta(seconds=3))
# A sha256-hashed over-long key is "sha256:" + 64 hex digits; the column holds 255.
MAX_DEDUP_KEY = 255

SAMPLES: dict[IntegrationType, list[Any]] = {
    kind: [json.loads(p.read_text()) for p in sorted((FIXTURES / kind.value).glob("*.json"))]
    for kind in IntegrationType
}
FUZZ = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


# The field names the parsers look for, so random objects hit real code paths, not only misses.
FIELD_NAMES = sorted({key for samples in SAMPLES.values() for key in _keys(samples)})
keys = st.sampled_from(FIELD_NAMES) | st.text(max_size=12)
ODD_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "lone \ud800 surrogate",
    "\u202e\u200b\ufeff",
    "\ud7ff\ue000\U0010ffff",
    "\U0001d518\U0001d52b\U0001d526 \U0001f525",  # astral-plane letters and an emoji
    "[Recovered] [P1] [Triggered]",
    "$EVENT_TITLE",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-10:00",
    "0001-01-01T00:00:00+14:00",
    "2026-11-23T10:15:10.123456789Z",
    "1e400",
    "99999999999999999999999",
    "https://",
    "http://example.org/" + "x" * 3000,
]
odd_text = st.sampled_from(ODD_TEXT)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=40)
    | odd_text
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6),
    max_leaves=25,
)
huge = st.sampled_from(["x" * 300_000, "é" * 50_000, " " * 20_000 + "t", "a:b," * 5_000])
nested_junk = st.integers(min_value=1, max_value=200).map(
    lambda depth: json.loads("[" * depth + "]" * depth)
)
replacement = json_values | odd_text | huge | nested_junk


def _slots(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every (container path, key) in ``value`` that a mutation can drop or replace."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from _slots(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*path, index)
            yield from _slots(item, (*path, index))


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def mangled(draw: st.DrawFn, sample: Any) -> Any:
    """``sample`` with one to four fields dropped or replaced by junk."""
    doc = copy.deepcopy(sample)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        slots = list(_slots(doc))
        if not slots:
            return draw(replacement)
        *parent_path, key = draw(st.sampled_from(slots))
        parent = _at(doc, tuple(parent_path))
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[key]
            continue
        parent[key] = draw(replacement)
    return doc


@st.composite
def mangled_sns(draw: st.DrawFn) -> Any:
    """A CloudWatch SNS envelope whose alarm (a JSON string in ``Message``) is mangled."""
    envelope = copy.deepcopy(draw(st.sampled_from(SAMPLES[IntegrationType.CLOUDWATCH])))
    message = envelope.get("Message")
    if isinstance(message, str) and message.startswith("{"):
        alarm = draw(mangled(json.loads(message)))
        envelope["Message"] = json.dumps(alarm)
    return draw(mangled(envelope)) if draw(st.booleans()) else envelope


# Objects made of the fields parsers read, holding odd values: reaches the edge cases a
# random key would almost never hit (a timestamp past datetime.max in UTC, say).
known_fields = st.dictionaries(
    st.sampled_from(FIELD_NAMES), scalars | odd_text | json_values, min_size=1, max_size=12
)


def bodies(kind: IntegrationType) -> st.SearchStrategy[Any]:
    samples = st.sampled_from(SAMPLES[kind])
    strategies = [json_values, known_fields, samples.flatmap(mangled), samples]
    if kind is IntegrationType.CLOUDWATCH:
        strategies.append(mangled_sns())
    return st.one_of(strategies)


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
    for *parent_path, key in _slots(sample):
        for value in [_DROP, *ODD_VALUES]:
            doc = copy.deepcopy(sample)
            parent = _at(doc, tuple(parent_path))
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

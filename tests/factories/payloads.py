"""Hypothesis strategies for webhook payloads: any JSON, and the real samples mangled.

Shared by the parser property tests and the end-to-end webhook fuzz test. Inputs are what
``json.loads`` can produce (NaN and the infinities included, as Python's decoder accepts them),
plus each fixture in tests/fixtures/payloads with fields dropped, retyped, made huge, filled with
odd unicode or nested junk.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from backend.ingest.models import IntegrationType

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"


SAMPLES: dict[IntegrationType, list[Any]] = {
    kind: [json.loads(p.read_text()) for p in sorted((FIXTURES / kind.value).glob("*.json"))]
    for kind in IntegrationType
}


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


def slots(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every (container path, key) in ``value`` that a mutation can drop or replace."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from slots(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*path, index)
            yield from slots(item, (*path, index))


def at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def mangled(draw: st.DrawFn, sample: Any) -> Any:
    """``sample`` with one to four fields dropped or replaced by junk."""
    doc = copy.deepcopy(sample)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        places = list(slots(doc))
        if not places:
            return draw(replacement)
        *parent_path, key = draw(st.sampled_from(places))
        parent = at(doc, tuple(parent_path))
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

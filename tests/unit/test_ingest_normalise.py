"""Severity mapping, aliases, the timestamp fallback chain and dedup keys (INT-02)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.incidents.models import Severity
from backend.ingest.normalise import (
    dedup_key_for,
    first_timestamp,
    labels_from,
    normalise_severity,
    parse_timestamp,
    pick,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("critical", Severity.CRITICAL),
        ("P1", Severity.CRITICAL),
        ("SEV-1", Severity.CRITICAL),
        ("error", Severity.HIGH),
        ("High", Severity.HIGH),
        ("warning", Severity.MEDIUM),
        ("minor", Severity.LOW),
        ("info", Severity.INFO),
        ("success", Severity.INFO),
        (5, Severity.INFO),
        ("banana", Severity.MEDIUM),
        (None, Severity.MEDIUM),
        ({"a": 1}, Severity.MEDIUM),
    ],
)
def test_severity(word: Any, expected: Severity) -> None:
    assert normalise_severity(word) is expected


@given(st.text())
def test_any_severity_word_maps_to_one_of_ours(word: str) -> None:
    assert normalise_severity(word) in set(Severity)


def test_pick_matches_snake_camel_and_kebab_case() -> None:
    data = {"dedupKey": "a", "occurred-at": "b", "Source_Name": "c"}
    assert pick(data, "dedup_key") == "a"
    assert pick(data, "occurred_at") == "b"
    assert pick(data, "sourcename") == "c"
    assert pick(data, "missing", "dedup_key") == "a"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1795428000, datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        (1795428000000, datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        ("1795428000", datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        ("2026-11-22T09:00:00+01:00", datetime(2026, 11, 22, 8, 0, tzinfo=UTC)),
        ("2026-11-22T08:00:00.123456789Z", datetime(2026, 11, 22, 8, 0, 0, 123456, tzinfo=UTC)),
        ("2026-11-22T08:00:00", datetime(2026, 11, 22, 8, 0, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),
        ("yesterday", None),
        (True, None),
        (None, None),
    ],
)
def test_parse_timestamp(value: Any, expected: datetime | None) -> None:
    assert parse_timestamp(value) == expected


def test_fallback_chain_skips_bad_and_far_future_values() -> None:
    future = "2030-01-01T00:00:00Z"
    good = "2026-11-23T11:00:00Z"
    assert first_timestamp(["junk", future, good], received_at=NOW) == parse_timestamp(good)
    assert first_timestamp([None, "junk"], received_at=NOW) == NOW


def test_dedup_key_given_long_and_fingerprinted() -> None:
    assert dedup_key_for("abc", title="t", source="s", labels={}) == "abc"
    long_key = dedup_key_for("x" * 300, title="t", source="s", labels={})
    assert long_key.startswith("sha256:")
    assert len(long_key) <= 255
    one = dedup_key_for(None, title="t", source="s", labels={"a": "1", "b": "2"})
    two = dedup_key_for("", title="t", source="s", labels={"b": "2", "a": "1"})
    assert one == two
    assert one != dedup_key_for(None, title="t", source="s", labels={"a": "2"})


def test_labels_from_objects_tag_lists_and_tag_strings() -> None:
    assert labels_from({"a": "1", "n": 2}) == {"a": "1", "n": "2"}
    assert labels_from(["env:prod", "flag"]) == {"env": "prod", "flag": ""}
    assert labels_from("env:prod, role:web") == {"env": "prod", "role": "web"}
    assert labels_from(42) == {}

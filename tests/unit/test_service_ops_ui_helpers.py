"""Pure helpers of the routing-rules page and the service page's heartbeats/maintenance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.ingest.routing import MatchOp
from backend.ingest.schemas import MaintenanceWindowOut, MatcherIn, RoutingRuleOut
from oncall_app.state.routing_rules import matchers_text, parse_matchers
from oncall_app.state.service_ops import _minute_fields, _minutes, every, window_row


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("env = prod", [{"label": "env", "op": "=", "value": "prod"}]),
        ("env=~prod|staging", [{"label": "env", "op": "=~", "value": "prod|staging"}]),
        ("team != payments", [{"label": "team", "op": "!=", "value": "payments"}]),
        ("host !~ ^db-", [{"label": "host", "op": "!~", "value": "^db-"}]),
        ("a = x = y\n\n b = ", [{"label": "a", "op": "=", "value": "x = y"},
                                {"label": "b", "op": "=", "value": ""}]),
    ],
)  # fmt: skip
def test_matcher_lines_are_read_longest_operator_first(
    text: str, expected: list[dict[str, str]]
) -> None:
    assert parse_matchers(text) == expected


def test_an_unreadable_matcher_line_is_named() -> None:
    assert parse_matchers("env = prod\njob backup") == (
        "Line 2: write label, an operator (= != =~ !~) and a value."
    )


def test_matchers_are_shown_as_they_are_typed() -> None:
    rule = RoutingRuleOut(
        id=1, name="r", position=1, integration_id=None, target_service_id=2, enabled=True,
        matchers=[MatcherIn(label="env", op=MatchOp.RE, value="prod|staging"),
                  MatcherIn(label="team", value="pay")],
    )  # fmt: skip
    assert matchers_text(rule) == "env =~ prod|staging, team = pay"


def test_intervals_read_as_people_say_them() -> None:
    assert [every(s) for s in (45, 60, 300, 7200, 5400)] == [
        "45 s",
        "1 min",
        "5 min",
        "2 h",
        "90 min",
    ]


def test_minutes_become_seconds_and_junk_is_left_for_the_schema() -> None:
    assert (_minutes("10", 5), _minutes("", 5), _minutes(None, 1), _minutes("1.5", 1)) == (
        600, 300, 60, "1.5",
    )  # fmt: skip
    assert _minute_fields({"interval_seconds": "x", "name": "y"}) == {
        "interval_minutes": "A whole number of minutes, 1 to 10080 (7 days).",
        "name": "y",
    }


def test_a_window_in_progress_is_marked() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    window = MaintenanceWindowOut(
        id=1, service_id=1, starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=1),
        reason="upgrade", created_by="ada",
    )  # fmt: skip
    row = window_row(window, "Europe/Berlin", now)
    assert row.active
    assert row.when == "Thu 03 Dec 12:55 → Thu 03 Dec 14:00"
    assert not window_row(window, "UTC", now + timedelta(hours=2)).active

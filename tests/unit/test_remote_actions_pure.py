"""Pure parts of acting from anywhere: keywords, Slack payloads, e-mail action links."""

from __future__ import annotations

import pytest

from backend.notifications import actions, formatting, slack_actions
from backend.notifications.action_models import Action


@pytest.mark.parametrize(
    ("word", "action"),
    [
        ("ACK", Action.ACKNOWLEDGE),
        ("ack", Action.ACKNOWLEDGE),
        ("Acknowledge", Action.ACKNOWLEDGE),
        ("RESOLVE", Action.RESOLVE),
        ("resolve", Action.RESOLVE),
        ("snooze", None),
        ("", None),
    ],
)
def test_keywords(word: str, action: Action | None) -> None:
    assert actions.parse_action(word) is action


@pytest.mark.parametrize(
    ("text", "incident_id"),
    [("123", 123), ("#123", 123), (" #7 ", 7), ("0x1", None), ("-3", None), ("1" * 13, None)],
)
def test_short_ids(text: str, incident_id: int | None) -> None:
    assert actions.parse_incident_id(text) == incident_id


def test_a_slash_command_is_parsed() -> None:
    got = slack_actions.parse_command(
        {"text": "RESOLVE #42", "user_id": "U1", "response_url": "https://hooks/x"}
    )
    assert got == slack_actions.SlackRequest("U1", Action.RESOLVE, 42, "https://hooks/x")
    assert slack_actions.parse_command({"text": "ack", "user_id": "U1"}).action is None


def test_only_our_buttons_are_interactions() -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "U1"},
        "response_url": "https://hooks/y",
        "actions": [{"action_id": "oncall_acknowledge", "value": "9"}],
    }
    assert slack_actions.parse_interaction(payload) == slack_actions.SlackRequest(
        "U1", Action.ACKNOWLEDGE, 9, "https://hooks/y"
    )
    open_link = {**payload, "actions": [{"action_id": "oncall_open", "url": "x"}]}
    assert slack_actions.parse_interaction(open_link) is None
    assert slack_actions.parse_interaction({**payload, "type": "view_submission"}) is None


def test_the_e_mail_carries_escaped_action_links() -> None:
    ctx = formatting.PageContext(
        incident_id=5,
        title="t",
        severity="HIGH",
        service_name="s",
        level=0,
        repeat=0,
        base_url="https://o",
        ack_url="https://o/api/v1/actions/email/a&b",
        resolve_url="https://o/api/v1/actions/email/c",
    )
    assert formatting.email_text(ctx).endswith(
        "Acknowledge: https://o/api/v1/actions/email/a&b\n"
        "Resolve: https://o/api/v1/actions/email/c\n"
        "(Each link works once, for 15 minutes.)\n"
    )
    html = formatting.email_html(ctx)
    assert 'href="https://o/api/v1/actions/email/a&amp;b"' in html
    assert ">Resolve</a>" in html
    plain = formatting.PageContext(5, "t", "HIGH", "s", 0, 0, "https://o")
    assert "Acknowledge" not in formatting.email_text(plain) + formatting.email_html(plain)


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions", "actions": "x"},
        {"type": "block_actions", "actions": ["x"]},
        {"type": "block_actions", "actions": []},
    ],
)
def test_malformed_interactions_are_ignored(payload: dict[str, object]) -> None:
    assert slack_actions.parse_interaction(payload) is None


def test_an_interaction_without_a_user_has_no_slack_user() -> None:
    payload = {
        "type": "block_actions",
        "user": "U1",
        "actions": [{"action_id": "oncall_resolve", "value": "3"}],
    }
    got = slack_actions.parse_interaction(payload)
    assert got is not None
    assert got.slack_user_id == ""

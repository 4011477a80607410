"""The channel-tier rule (NOTIF-03) as plain data: which tier a page falls back to."""

from __future__ import annotations

import pytest

from backend.notifications.fallback import Fallback, decide, summary

ALL = {"email", "slack", "sms", "voice"}


@pytest.mark.parametrize(
    ("rows", "failed", "verified", "expected"),
    [
        # Every primary notification failed: text.
        (
            [("email", "failed"), ("slack", "failed")],
            "slack",
            ALL,
            Fallback("sms", ("email", "slack")),
        ),
        # One primary channel still trying or through: nothing.
        ([("email", "failed"), ("slack", "queued")], "email", ALL, None),
        ([("email", "failed"), ("push", "sent")], "email", ALL, None),
        # An SMS already planned by the rules (even later): not doubled.
        ([("email", "failed"), ("sms", "queued")], "email", ALL, None),
        # SMS failed after the primary tier: call.
        (
            [("email", "failed"), ("sms", "failed")],
            "sms",
            ALL,
            Fallback("voice", ("email", "sms")),
        ),
        # The rules' own SMS failing with no primary step: call.
        ([("sms", "failed")], "sms", ALL, Fallback("voice", ("sms",))),
        # No verified SMS: straight to voice; nothing verified: say so.
        (
            [("email", "failed")],
            "email",
            {"email", "voice"},
            Fallback("voice", ("email",), ("sms",)),
        ),
        ([("email", "failed")], "email", {"email"}, Fallback(None, ("email",), ("sms", "voice"))),
        # A skipped primary (its method removed) counts as not reached.
        (
            [("email", "failed"), ("push", "skipped")],
            "email",
            ALL,
            Fallback("sms", ("email", "push")),
        ),
        # Voice is the last resort: its failure never falls "back up" to SMS.
        ([("voice", "failed")], "voice", ALL, None),
        ([("email", "failed"), ("sms", "failed"), ("voice", "failed")], "voice", ALL, None),
        # A voice call planned by the rules does not stop the SMS fallback.
        (
            [("email", "failed"), ("voice", "queued")],
            "email",
            ALL,
            Fallback("sms", ("email",)),
        ),
    ],
)
def test_decide(
    rows: list[tuple[str, str]], failed: str, verified: set[str], expected: Fallback | None
) -> None:
    assert decide(rows, failed, verified) == expected


def test_summaries() -> None:
    assert (
        summary(Fallback("sms", ("email", "slack", "teams")), "Ann")
        == "E-mail, Slack and Microsoft Teams to Ann failed; texting Ann by SMS instead."
    )
    assert (
        summary(Fallback("voice", ("sms",)), "Ann")
        == "SMS to Ann failed; calling Ann as the last resort."
    )
    assert (
        summary(Fallback(None, ("email",), ("sms", "voice")), "Ann")
        == "E-mail to Ann failed; Ann has no verified SMS or voice method to fall back to."
    )

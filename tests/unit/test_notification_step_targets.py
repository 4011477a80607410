"""/notifications: a rule step may name one verified contact method, not only a channel."""

from __future__ import annotations

import pytest

from oncall_app.state.notifications import (
    KINDS,
    MethodRow,
    StepRow,
    expand_steps,
    parse_target,
    step_targets,
)


def method(
    id_: int, kind: str, address: str, *, verified: bool = True, label: str = ""
) -> MethodRow:
    return MethodRow(
        id=id_, kind=kind, address=address, label=label, verified=verified, pending=False
    )


def test_the_choices_are_every_channel_then_each_verified_method() -> None:
    targets = step_targets(
        [
            method(3, "sms", "+15550002", label="work phone"),
            method(4, "email", "ann@example.org", verified=False),
            method(5, "voice", "+15550003"),
        ]
    )
    assert [(t.value, t.label) for t in targets] == [(k, k) for k in KINDS] + [
        ("method:3", "sms work phone"),
        ("method:5", "voice +15550003"),
    ]


def test_a_choice_parses_to_a_channel_or_a_method() -> None:
    assert parse_target("sms") == ("sms", 0)
    assert parse_target("method:12") == ("", 12)
    for bad in ("pager", "method:x", ""):
        with pytest.raises(ValueError, match="not a channel or a method"):
            parse_target(bad)


def test_a_method_step_is_kept_as_it_is_when_saving() -> None:
    steps = [
        StepRow(urgency="high", index=0, channel="every verified method", delay=0, default=True),
        StepRow(urgency="high", index=1, channel="sms", delay=2, default=False, method_id=3),
    ]
    out = expand_steps(steps, {"email"})
    assert [(s.channel, s.method_id, s.delay) for s in out] == [("email", 0, 0), ("sms", 3, 2)]

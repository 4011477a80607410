"""Pure helpers of the /notifications page state."""

from __future__ import annotations

from oncall_app.state.notifications import StepRow, expand_steps


def _step(channel: str, delay: int, index: int = 0) -> StepRow:
    return StepRow(urgency="high", index=index, channel=channel, delay=delay, default=True)


def test_every_verified_method_step_becomes_one_step_per_verified_channel() -> None:
    steps = [_step("every verified method", 0), _step("sms", 5, 1)]
    out = expand_steps(steps, {"slack", "email"})
    assert [(s.channel, s.delay) for s in out] == [("email", 0), ("slack", 0), ("sms", 5)]


def test_without_verified_methods_the_catch_all_step_is_dropped() -> None:
    out = expand_steps([_step("every verified method", 0), _step("email", 3)], set())
    assert [(s.channel, s.delay) for s in out] == [("email", 3)]

"""Pure notification logic: formats (NOTIF-06), rule planning (USER-04), backoff (NOTIF-02)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.notifications import formatting, rules
from backend.notifications.rules import Method, Planned, RuleStep

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def ctx(title: str = "Disk full on db-1", **kw: object) -> formatting.PageContext:
    values: dict[str, object] = {
        "incident_id": 123,
        "title": title,
        "severity": "CRITICAL",
        "service_name": "Postgres",
        "level": 1,
        "repeat": 0,
        "base_url": "https://oncall.example.org/",
    }
    values.update(kw)
    return formatting.PageContext(**values)  # type: ignore[arg-type]


# --- formats ---------------------------------------------------------------------------------


def test_sms_has_the_escalation_and_severity_prefix_short_id_and_reply_hint() -> None:
    assert formatting.sms_text(ctx()) == (
        "[ESC-L2][CRITICAL] #123 Disk full on db-1 | Reply ACK 123"
    )


def test_a_long_title_is_shortened_so_the_sms_is_exactly_160_characters() -> None:
    text = formatting.sms_text(ctx("x" * 400))
    assert len(text) == 160
    assert text.startswith("[ESC-L2][CRITICAL] #123 xxx")
    assert text.endswith("x… | Reply ACK 123")


def test_sms_folds_whitespace_in_titles() -> None:
    assert formatting.sms_text(ctx("a\n\n  b")) == "[ESC-L2][CRITICAL] #123 a b | Reply ACK 123"


def test_email_subject_text_and_html_carry_colour_and_link() -> None:
    c = ctx(priority="P1", title="<script>x</script>")
    assert formatting.email_subject(c) == "[CRITICAL][P1] #123 <script>x</script>"
    assert formatting.email_text(c) == (
        "CRITICAL incident #123: <script>x</script>\n"
        "Service: Postgres\n"
        "Escalation level: 2\n"
        "Priority: P1\n"
        "\n"
        "Open the incident: https://oncall.example.org/incidents/123\n"
    )
    html = formatting.email_html(c)
    assert "border-left:6px solid #b91c1c" in html
    assert '<a href="https://oncall.example.org/incidents/123">' in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>" not in html


@pytest.mark.parametrize(
    ("_case", "severity", "colour"),
    [("critical", "CRITICAL", "#b91c1c"), ("low", "LOW", "#2563eb"), ("unknown", "X", "#6b7280")],
)
def test_priority_colours(_case: str, severity: str, colour: str) -> None:
    assert f"solid {colour}" in formatting.email_html(ctx(severity=severity))


# --- planning --------------------------------------------------------------------------------

EMAIL = Method(1, "email", "ann@example.org", verified=True)
SMS = Method(2, "sms", "+15550001", verified=True)
VOICE_UNVERIFIED = Method(3, "voice", "+15550001", verified=False)


def test_high_urgency_defaults_every_verified_method_now_and_sms_again_after_5_minutes() -> None:
    steps, defaults = rules.effective_rules([], "high")
    assert defaults is True
    planned = rules.plan(steps, [EMAIL, SMS, VOICE_UNVERIFIED], T0, urgency="high")
    assert planned == [
        Planned(0, 1, "email", "ann@example.org", T0),
        Planned(0, 2, "sms", "+15550001", T0),
        Planned(1, 2, "sms", "+15550001", T0 + timedelta(minutes=5)),
    ]


def test_low_urgency_default_is_one_email() -> None:
    steps, _ = rules.effective_rules([], "low")
    assert rules.plan(steps, [EMAIL, SMS], T0, urgency="low") == [
        Planned(0, 1, "email", "ann@example.org", T0)
    ]


def test_own_rules_replace_the_defaults_in_position_order() -> None:
    stored = [
        RuleStep("high", 10, channel="email", position=1),
        RuleStep("high", 0, contact_method_id=2, position=0),
        RuleStep("low", 0, channel="sms", position=0),
    ]
    steps, defaults = rules.effective_rules(stored, "high")
    assert defaults is False
    assert rules.plan(steps, [EMAIL, SMS], T0, urgency="high") == [
        Planned(0, 2, "sms", "+15550001", T0),
        Planned(1, 1, "email", "ann@example.org", T0 + timedelta(minutes=10)),
    ]


def test_a_user_without_verified_methods_plans_nothing() -> None:
    steps, _ = rules.effective_rules([], "high")
    assert rules.plan(steps, [VOICE_UNVERIFIED], T0, urgency="high") == []


@pytest.mark.parametrize(
    ("_case", "severity", "urgency"),
    [("critical", "CRITICAL", "high"), ("high", "HIGH", "high"), ("medium", "MEDIUM", "low")],
)
def test_urgency_of_severity(_case: str, severity: str, urgency: str) -> None:
    assert rules.urgency_of(severity) == urgency


def test_low_urgency_inside_overnight_quiet_hours_waits_until_they_end_in_local_time() -> None:
    # 23:30 in Berlin (CET, UTC+1) is inside 22:00-07:00: due at 07:00 Berlin = 06:00 UTC.
    late = datetime(2026, 3, 4, 22, 30, tzinfo=UTC)
    steps, _ = rules.effective_rules([], "low")
    planned = rules.plan(
        steps, [EMAIL], late, urgency="low", quiet=(22 * 60, 7 * 60), time_zone="Europe/Berlin"
    )
    assert planned[0].due_at == datetime(2026, 3, 5, 6, 0, tzinfo=UTC)


def test_quiet_hours_after_midnight_and_outside_and_high_urgency() -> None:
    quiet = (22 * 60, 7 * 60)
    early = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
    assert rules.after_quiet_hours(early, quiet, "UTC") == datetime(2026, 3, 5, 7, 0, tzinfo=UTC)
    noon = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    assert rules.after_quiet_hours(noon, quiet, "UTC") == noon
    day_quiet = (9 * 60, 17 * 60)
    assert rules.after_quiet_hours(noon, day_quiet, "UTC") == datetime(
        2026, 3, 5, 17, 0, tzinfo=UTC
    )
    steps, _ = rules.effective_rules([], "high")
    assert rules.plan(steps, [EMAIL], early, urgency="high", quiet=quiet)[0].due_at == early


def test_backoff_doubles_from_the_base_between_five_attempts() -> None:
    assert rules.backoff_schedule(30) == [30.0, 60.0, 120.0, 240.0]
    assert rules.backoff_seconds(1, 0.5) == 0.5

"""Pure planning: a user's rules + verified contact methods + page time → planned deliveries.

No database, no clock, no settings: plain data in, plain data out (STYLE §6.1.3).

* Urgency: CRITICAL and HIGH incidents page at high urgency, the rest at low.
* Defaults (a user without rules for an urgency): high urgency notifies every verified
  method at once and SMS again after 5 minutes; low urgency sends one e-mail.
* Quiet hours (low urgency only): a delivery due inside the user's quiet hours (their local
  time) waits until the quiet hours end. High urgency always goes out on time.
* Retries: attempt ``n`` failed → try again ``base * 2^(n-1)`` later, at most 5 attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_ATTEMPTS = 5
HIGH_SEVERITIES = frozenset({"CRITICAL", "HIGH"})


@dataclass(frozen=True)
class RuleStep:
    urgency: str  # "high" | "low"
    delay_minutes: int
    channel: str | None = None  # every verified method of this kind …
    contact_method_id: int | None = None  # … or exactly this one
    position: int = 0


@dataclass(frozen=True)
class Method:
    id: int
    kind: str
    address: str
    verified: bool


@dataclass(frozen=True)
class Planned:
    step: int
    contact_method_id: int
    channel: str
    address: str
    due_at: datetime


DEFAULT_RULES: tuple[RuleStep, ...] = (
    RuleStep("high", 0, channel=None, position=0),  # None + default: every verified method
    RuleStep("high", 5, channel="sms", position=1),
    RuleStep("low", 0, channel="email", position=0),
)


def urgency_of(severity: str) -> str:
    return "high" if severity.upper() in HIGH_SEVERITIES else "low"


def effective_rules(stored: list[RuleStep], urgency: str) -> tuple[list[RuleStep], bool]:
    """The user's rules for ``urgency`` in order, or the defaults; (rules, are_defaults)."""
    mine = sorted((r for r in stored if r.urgency == urgency), key=lambda r: r.position)
    if mine:
        return mine, False
    return [r for r in DEFAULT_RULES if r.urgency == urgency], True


def _targets(rule: RuleStep, methods: list[Method]) -> list[Method]:
    verified = [m for m in methods if m.verified]
    if rule.contact_method_id is not None:
        return [m for m in verified if m.id == rule.contact_method_id]
    if rule.channel is None:
        return verified
    return [m for m in verified if m.kind == rule.channel]


def plan(
    rules: list[RuleStep],
    methods: list[Method],
    page_at: datetime,
    *,
    urgency: str,
    quiet: tuple[int, int] | None = None,
    time_zone: str = "UTC",
) -> list[Planned]:
    """One delivery per (rule step, verified matching method), due at page time + delay."""
    planned: list[Planned] = []
    for index, rule in enumerate(rules):
        due = page_at + timedelta(minutes=rule.delay_minutes)
        if urgency == "low" and quiet is not None:
            due = after_quiet_hours(due, quiet, time_zone)
        planned.extend(
            Planned(index, m.id, m.kind, m.address, due) for m in _targets(rule, methods)
        )
    return planned


def _in_window(minute: int, start: int, end: int) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end  # overnight


def after_quiet_hours(at: datetime, quiet: tuple[int, int], time_zone: str) -> datetime:
    """``at`` itself, or the end of the quiet hours it falls in (the user's local time)."""
    start, end = quiet
    zone = ZoneInfo(time_zone)
    local = at.astimezone(zone)
    minute = local.hour * 60 + local.minute
    if not _in_window(minute, start, end):
        return at
    end_day = local.date()
    if start > end and minute >= start:
        end_day = end_day + timedelta(days=1)
    end_local = datetime.combine(end_day, time(end // 60, end % 60), tzinfo=zone)
    return end_local.astimezone(at.tzinfo)


def backoff_seconds(failed_attempt: int, base_seconds: float) -> float:
    """Delay before the next try after attempt ``failed_attempt`` (1-based) failed."""
    return float(base_seconds * 2 ** (failed_attempt - 1))


def backoff_schedule(base_seconds: float, max_attempts: int = MAX_ATTEMPTS) -> list[float]:
    """Delays between the ``max_attempts`` tries (one fewer than the tries)."""
    return [backoff_seconds(n, base_seconds) for n in range(1, max_attempts)]

"""Pure routing: which service an alert belongs to (SVC-03).

An integration routes to its own service unless an enabled rule (in ``position`` order, rules
of that integration and global ones alike) matches the alert's labels; whatever is left with no
service goes to the platform triage service. An alert is never dropped here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class MatchOp(StrEnum):
    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"


@dataclass(frozen=True)
class Matcher:
    label: str
    op: MatchOp
    value: str


@dataclass(frozen=True)
class Rule:
    id: int
    position: int
    target_service_id: int
    matchers: tuple[Matcher, ...]
    integration_id: int | None = None


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def matches(matcher: Matcher, labels: Mapping[str, str]) -> bool:
    """Alertmanager semantics: a missing label is the empty string; regexes are anchored."""
    value = labels.get(matcher.label, "")
    if matcher.op is MatchOp.EQ:
        return value == matcher.value
    if matcher.op is MatchOp.NE:
        return value != matcher.value
    pattern = _compiled(f"(?:{matcher.value})")
    found = pattern is not None and pattern.fullmatch(value) is not None
    return found if matcher.op is MatchOp.RE else not found


def route(
    *,
    integration_id: int,
    integration_service_id: int | None,
    labels: Mapping[str, str],
    rules: Sequence[Rule],
    triage_service_id: int,
) -> int:
    """The service id for an alert with ``labels`` arriving on ``integration_id``."""
    for rule in sorted(rules, key=lambda r: (r.position, r.id)):
        if rule.integration_id not in (None, integration_id):
            continue
        if rule.matchers and all(matches(m, labels) for m in rule.matchers):
            return rule.target_service_id
    return integration_service_id if integration_service_id is not None else triage_service_id


def valid_regex(pattern: str) -> bool:
    return _compiled(f"(?:{pattern})") is not None

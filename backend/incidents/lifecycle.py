"""The incident state machine (INC-01). Pure: statuses in, statuses out, no I/O.

    OPEN ──acknowledge──▶ ACKNOWLEDGED
      │                        │
      └──────resolve──────┬────┘
                          ▼
                      RESOLVED ──close──▶ CLOSED
                          │
      OPEN ◀───reopen─────┘

Closing needs a resolved incident; a closed incident is final. Reopening starts the
escalation again (the service does that). Services apply a transition with a compare-and-set
on the from-statuses below, so two racing commands cannot both win.
"""

from __future__ import annotations

from enum import StrEnum

from backend.core.errors import InvalidTransition
from backend.incidents.models import IncidentStatus

S = IncidentStatus


class Transition(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"


# transition: (statuses it may start from, status it leads to)
TRANSITIONS: dict[Transition, tuple[frozenset[IncidentStatus], IncidentStatus]] = {
    Transition.ACKNOWLEDGE: (frozenset({S.OPEN}), S.ACKNOWLEDGED),
    Transition.RESOLVE: (frozenset({S.OPEN, S.ACKNOWLEDGED}), S.RESOLVED),
    Transition.CLOSE: (frozenset({S.RESOLVED}), S.CLOSED),
    Transition.REOPEN: (frozenset({S.RESOLVED}), S.OPEN),
}
# Statuses in which the incident may still page someone.
PAGEABLE = frozenset({S.OPEN})
# Statuses in which reassigning, editing and notes make sense (a closed incident is history).
EDITABLE = frozenset({S.OPEN, S.ACKNOWLEDGED, S.RESOLVED})


def sources(transition: Transition) -> frozenset[IncidentStatus]:
    """The statuses ``transition`` may start from."""
    return TRANSITIONS[transition][0]


def can(status: IncidentStatus, transition: Transition) -> bool:
    return status in sources(transition)


def apply(status: IncidentStatus, transition: Transition) -> IncidentStatus:
    """The status after ``transition``.

    Raises:
        InvalidTransition: ``transition`` is not allowed from ``status``.
    """
    allowed, target = TRANSITIONS[transition]
    if status not in allowed:
        raise InvalidTransition(
            f"Cannot {transition.value} an incident that is {status.value}.",
            status=status.value,
            transition=transition.value,
        )
    return target


def ensure_editable(status: IncidentStatus, what: str) -> None:
    """Raises InvalidTransition when the incident is closed (history is not edited)."""
    if status not in EDITABLE:
        raise InvalidTransition(
            f"Cannot {what} a {status.value} incident.", status=status.value, transition=what
        )


def stops_escalation(status: IncidentStatus) -> bool:
    """Whether an incident in ``status`` must not page anyone any more."""
    return status not in PAGEABLE

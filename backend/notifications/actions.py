"""Acting on an incident from outside the app (NOTIF-05): Slack, SMS replies, e-mail links,
the voice call's keypad.

Every channel ends here: the person is resolved to *our* user by the channel (a verified
contact method, a magic link), then the incident commands of :mod:`backend.incidents.service`
run as that user, so authorization (team roles), audit, timeline and events are exactly those
of the web app. The outcome is a short sentence fit for an SMS, a Slack ephemeral message or
a page; nothing here raises for a refused action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import structlog
from sqlalchemy import func, select
from sqlmodel import col

from backend.core.actor import Actor
from backend.core.db import unit_of_work
from backend.core.errors import DomainError, InvalidTransition, PermissionDenied, Unauthenticated
from backend.identity import sessions
from backend.identity.models import User
from backend.incidents import service as incidents
from backend.incidents.errors import IncidentNotFound
from backend.incidents.models import Incident, IncidentStatus
from backend.notifications import magic_links
from backend.notifications.action_models import Action
from backend.notifications.magic_links import LinkState
from backend.notifications.models import ChannelKind, ContactMethod, Notification

log = structlog.get_logger(__name__)


class Outcome(StrEnum):
    DONE = "done"
    ALREADY = "already"  # a re-delivery or a second click: nothing changes
    REFUSED = "refused"  # the user may not respond to this incident
    NOT_FOUND = "not_found"
    FAILED = "failed"


PAST = {Action.ACKNOWLEDGE: "acknowledged", Action.RESOLVE: "resolved"}
# The statuses in which the action is already done (or overtaken).
ALREADY = {
    Action.ACKNOWLEDGE: (IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED),
    Action.RESOLVE: (IncidentStatus.RESOLVED,),
}


@dataclass(frozen=True)
class ActResult:
    outcome: Outcome
    message: str
    incident_id: int | None = None

    @property
    def changed(self) -> bool:
        return self.outcome is Outcome.DONE


def parse_action(word: str) -> Action | None:
    """``ack``/``acknowledge``/``resolve`` (any case) → the action; anything else → None."""
    word = word.strip().lower()
    if word in ("ack", "acknowledge", "a"):
        return Action.ACKNOWLEDGE
    if word in ("resolve", "res", "r"):
        return Action.RESOLVE
    return None


def parse_incident_id(text: str) -> int | None:
    """The short id as printed (``#123``) or bare (``123``)."""
    text = text.strip().removeprefix("#")
    return int(text) if text.isdigit() and 0 < len(text) <= 12 else None


def _status(incident_id: int) -> IncidentStatus | None:
    with unit_of_work() as uow:
        incident = uow.session.get(Incident, incident_id)
        return incident.status if incident else None


def act(actor: Actor, incident_id: int, action: Action) -> ActResult:
    """Acknowledge or resolve ``incident_id`` as ``actor``; never raises a ``DomainError``."""
    command: Callable[[Actor, int], object] = (
        incidents.acknowledge if action is Action.ACKNOWLEDGE else incidents.resolve
    )
    short = f"#{incident_id}"
    try:
        command(actor, incident_id)
    except IncidentNotFound:
        return ActResult(Outcome.NOT_FOUND, f"Incident {short} does not exist.")
    except (PermissionDenied, Unauthenticated):
        return ActResult(
            Outcome.REFUSED,
            f"Sorry, you may not {action.value} incident {short}: you are not a responder "
            "of the team that owns it.",
            incident_id,
        )
    except InvalidTransition:
        status = _status(incident_id)
        if status in ALREADY[action]:
            word = status.value.lower() if status else PAST[action]
            return ActResult(Outcome.ALREADY, f"Incident {short} is already {word}.", incident_id)
        word = status.value.lower() if status else "changed"
        return ActResult(
            Outcome.FAILED, f"Incident {short} is {word}; it cannot be {PAST[action]}.", incident_id
        )
    except DomainError as exc:
        log.warning("remote_action_failed", incident_id=incident_id, error=exc.detail)
        return ActResult(Outcome.FAILED, f"Could not {action.value} {short}: {exc.detail}")
    return ActResult(Outcome.DONE, f"Incident {short} {PAST[action]}.", incident_id)


def escalate(actor: Actor, incident_id: int) -> ActResult:
    """Fire the incident's pending escalation level now as ``actor`` (the voice menu's 9);
    never raises a ``DomainError``."""
    short = f"#{incident_id}"
    try:
        incidents.escalate_now(actor, incident_id)
    except IncidentNotFound:
        return ActResult(Outcome.NOT_FOUND, f"Incident {short} does not exist.")
    except (PermissionDenied, Unauthenticated):
        return ActResult(
            Outcome.REFUSED,
            f"Sorry, you may not escalate incident {short}: you are not a responder of the "
            "team that owns it.",
            incident_id,
        )
    except InvalidTransition as exc:
        return ActResult(
            Outcome.FAILED, f"Incident {short} was not escalated: {exc.detail}", incident_id
        )
    except DomainError as exc:
        log.warning("remote_escalation_failed", incident_id=incident_id, error=exc.detail)
        return ActResult(Outcome.FAILED, f"Could not escalate {short}: {exc.detail}")
    return ActResult(Outcome.DONE, f"Incident {short} escalated to the next level.", incident_id)


def use_magic_link(token: str) -> tuple[LinkState, ActResult | None]:
    """Use an e-mail link once: (VALID, the result of the command) or (why not, None). The
    link is burnt before the command runs: a refused command leaves it used (the safe side
    for a bearer token)."""
    state, target = magic_links.burn(token)
    if target is None:
        return state, None
    actor = actor_of_user(target.user_id)
    if actor is None:
        return state, ActResult(Outcome.REFUSED, "This account is deactivated.")
    return state, act(actor, target.incident_id, target.action)


def actor_of_user(user_id: int) -> Actor | None:
    """The actor of an active user, or None."""
    with unit_of_work() as uow:
        user = uow.session.get(User, user_id)
        if user is None or not user.is_active:
            return None
        return sessions.actor_for(user, user_agent="remote action")


def user_by_contact(kind: ChannelKind, address: str) -> int | None:
    """The user with a *verified* contact method of ``kind`` at ``address`` (e-mail is matched
    case-insensitively); None when nobody or more than one user has it."""
    with unit_of_work() as uow:
        column = col(ContactMethod.address)
        match = (
            func.lower(column) == address.strip().lower()
            if kind is ChannelKind.EMAIL
            else column == address.strip()
        )
        owners = set(
            uow.session.scalars(
                select(col(ContactMethod.user_id)).where(
                    col(ContactMethod.kind) == kind,
                    col(ContactMethod.verified_at).is_not(None),
                    match,
                )
            ).all()
        )
    return owners.pop() if len(owners) == 1 else None


def user_by_email(email: str) -> int | None:
    """An active user by their account e-mail (case-insensitive)."""
    with unit_of_work() as uow:
        user_id = uow.session.scalars(
            select(col(User.id)).where(func.lower(col(User.email)) == email.strip().lower())
        ).first()
    return int(user_id) if user_id is not None else None


def latest_incident_for(user_id: int) -> int | None:
    """The newest incident, not yet resolved, this user was paged for (SMS without an id)."""
    with unit_of_work() as uow:
        found = uow.session.scalars(
            select(col(Notification.incident_id))
            .join(Incident, col(Incident.id) == col(Notification.incident_id))
            .where(
                col(Notification.user_id) == user_id,
                col(Incident.status) != IncidentStatus.RESOLVED,
            )
            .order_by(col(Notification.id).desc())
            .limit(1)
        ).first()
    return int(found) if found is not None else None

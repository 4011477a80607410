"""The voice call's keypad menu (NOTIF-05): the TwiML answer to each key pressed on a page call.

The call (``providers/twilio_voice.py``) reads the page inside a one-digit ``<Gather>`` that
posts to ``/api/v1/webhooks/twilio/voice?notification=<id>``; the HTTP adapter checks Twilio's
signature over that URL, so the notification id names who was called and about what. Here:

* ``1`` acknowledges the incident as that user (``actions.act``: the same role check, audit
  row, timeline line and event as the web app), then says the outcome and hangs up;
* ``2`` reads the incident's details and offers the menu again;
* ``9`` fires the pending escalation level now as that user (``actions.escalate``);
* anything else, or no key, offers the menu again up to ``MENU_REPEATS`` times, then goodbye;
* a machine answer (``AnsweredBy=machine_…``: a voicemail) leaves a short message with the
  incident's summary and hangs up; nobody is there to press keys.

Anything that is not a voice page (unknown id, a verification call) gets a polite TwiML
sentence and a hang-up; nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from twilio.twiml.voice_response import VoiceResponse

from backend.catalog.models import Service
from backend.core.db import unit_of_work
from backend.escalation.models import PageRequest
from backend.incidents.models import Incident
from backend.incidents.queries import alert_tallies
from backend.notifications import actions
from backend.notifications.action_models import Action
from backend.notifications.models import ChannelKind, Notification, NotificationPurpose
from backend.notifications.providers.twilio_voice import MENU, gather_url

log = structlog.get_logger(__name__)
MENU_REPEATS = 2
GOODBYE = "Goodbye."
NOT_FOUND = "Sorry, OnCall cannot find the page this call is about. Open OnCall to respond."
NOT_AN_OPTION = "Sorry, that is not an option."
DEACTIVATED = "Sorry, this OnCall account is deactivated."


@dataclass(frozen=True)
class Keypress:
    """What Twilio posted to the gather URL (after its signature was checked)."""

    notification_id: int | None
    digits: str = ""
    answered_by: str = ""  # "human", "machine_end_beep", … (answering machine detection)
    repeat: int = 0  # how many times the menu was offered again already


@dataclass(frozen=True)
class CallFacts:
    notification_id: int
    user_id: int
    incident_id: int
    title: str
    severity: str
    status: str
    service_name: str
    priority: str
    level: int  # 0-based
    alert_count: int
    acknowledged_by: str

    @property
    def summary(self) -> str:
        return (
            f"{self.severity} incident {self.incident_id} on {self.service_name or 'a service'}: "
            f"{self.title}."
        )

    @property
    def details(self) -> str:
        parts = [
            f"Incident {self.incident_id}: {self.title}.",
            f"Severity {self.severity}"
            + (f", priority {self.priority}." if self.priority else "."),
            f"Service {self.service_name}." if self.service_name else "",
            f"Status {self.status.lower()}"
            + (f", acknowledged by {self.acknowledged_by}." if self.acknowledged_by else "."),
            f"Escalation level {self.level + 1}.",
            f"{self.alert_count} alert{'s' if self.alert_count != 1 else ''}.",
        ]
        return " ".join(p for p in parts if p)


def facts(notification_id: int | None) -> CallFacts | None:
    """The page behind a voice notification, or None if it is not one."""
    if notification_id is None:
        return None
    with unit_of_work() as uow:
        session = uow.session
        row = session.get(Notification, notification_id)
        if (
            row is None
            or row.channel is not ChannelKind.VOICE
            or row.purpose is not NotificationPurpose.PAGE
            or row.incident_id is None
        ):
            return None
        incident = session.get(Incident, row.incident_id)
        if incident is None:
            return None
        service = session.get(Service, incident.service_id)
        page = session.get(PageRequest, row.page_request_id)
        tally = alert_tallies(session, {row.incident_id}).get(row.incident_id)
        return CallFacts(
            notification_id=notification_id,
            user_id=row.user_id,
            incident_id=row.incident_id,
            title=incident.title,
            severity=incident.severity.value,
            status=incident.status.value,
            service_name=service.name if service else "",
            priority=incident.priority.value if incident.priority else "",
            level=page.level if page else 0,
            alert_count=tally[0] if tally else 0,
            acknowledged_by=incident.acknowledged_by or "",
        )


def _menu(response: VoiceResponse, f: CallFacts, base_url: str, repeat: int, lead: str) -> str:
    url = gather_url(base_url, f.notification_id) + (f"&repeat={repeat}" if repeat else "")
    gather = response.gather(num_digits=1, action=url, method="POST", timeout=8)
    gather.say(f"{lead} {MENU}".strip())
    response.say(f"No key was pressed. {GOODBYE}")
    return str(response)


def _final(response: VoiceResponse, text: str) -> str:
    response.say(f"{text} {GOODBYE}".strip())
    response.hangup()
    return str(response)


def answer(press: Keypress, base_url: str) -> str:
    """The TwiML for one request to the gather URL."""
    response = VoiceResponse()
    f = facts(press.notification_id)
    if f is None:
        return _final(response, NOT_FOUND)
    if press.answered_by.startswith("machine"):
        log.info("voice_voicemail", notification_id=f.notification_id)
        return _final(
            response, f"This is OnCall with a page for you. {f.summary} Open OnCall to respond."
        )
    if press.digits == "2":
        return _menu(response, f, base_url, 0, f.details)
    if press.digits in ("1", "9"):
        actor = actions.actor_of_user(f.user_id)
        if actor is None:
            return _final(response, DEACTIVATED)
        if press.digits == "1":
            result = actions.act(actor, f.incident_id, Action.ACKNOWLEDGE)
        else:
            result = actions.escalate(actor, f.incident_id)
        return _final(response, result.message.replace("#", ""))  # "#12" is read "hash 12"
    if press.repeat >= MENU_REPEATS:
        return _final(response, "")
    lead = NOT_AN_OPTION if press.digits else ""
    return _menu(response, f, base_url, press.repeat + 1, lead)

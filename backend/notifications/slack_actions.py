"""Acting from Slack (NOTIF-05): buttons on a page, ``/oncall ack|resolve <id>``, and keeping
the posted pages up to date.

The HTTP adapter verifies Slack's signature and answers within Slack's 3 seconds; the work
here runs in a worker thread (see ``backend/api/routes/remote_actions.py``). The Slack user is
our user through a *verified* Slack contact method with their Slack user id, or else through
the e-mail of their Slack profile (``users.info``, scope ``users:read.email``) matching an
account's e-mail. Results go back as ephemeral messages (``response_url``); pages posted for
the incident are re-rendered with ``chat.update`` at once for the clicker, and by the
REFRESH_SLACK_MESSAGES job that every incident status change enqueues, from any channel.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import structlog
from slack_sdk.errors import SlackClientError
from slack_sdk.webhook import WebhookClient

from backend.core.settings import get_settings
from backend.notifications import actions
from backend.notifications.action_models import Action
from backend.notifications.actions import ActResult, Outcome
from backend.notifications.models import ChannelKind
from backend.notifications.providers import slack

log = structlog.get_logger(__name__)
USAGE = "Usage: /oncall ack <id> or /oncall resolve <id> (the id is the number after #)."
UNKNOWN_USER = (
    "Sorry, your Slack account is not linked to an OnCall user: add your Slack member id as a "
    "Slack contact method in OnCall and verify it, or use the same e-mail in both."
)


@dataclass(frozen=True)
class SlackRequest:
    """One thing a Slack user asked for: who, what, on which incident, where to answer."""

    slack_user_id: str
    action: Action | None
    incident_id: int | None
    response_url: str = ""


def parse_interaction(payload: dict[str, Any]) -> SlackRequest | None:
    """A ``block_actions`` payload from our buttons → the request; None for anything else
    (the Open link button, other apps' payloads)."""
    if payload.get("type") != "block_actions":
        return None
    found = payload.get("actions")
    user = payload.get("user")
    if not isinstance(found, list) or not found or not isinstance(found[0], dict):
        return None
    first = found[0]
    action_id = str(first.get("action_id", ""))
    action = {slack.ACK_ACTION: Action.ACKNOWLEDGE, slack.RESOLVE_ACTION: Action.RESOLVE}.get(
        action_id
    )
    if action is None:
        return None
    return SlackRequest(
        slack_user_id=str(user.get("id", "")) if isinstance(user, dict) else "",
        action=action,
        incident_id=actions.parse_incident_id(str(first.get("value", ""))),
        response_url=str(payload.get("response_url", "")),
    )


def parse_command(form: dict[str, str]) -> SlackRequest:
    """``/oncall ack 123`` (``#123`` too) → the request (action None: show the usage)."""
    words = form.get("text", "").split()
    action = actions.parse_action(words[0]) if len(words) == 2 else None
    incident_id = actions.parse_incident_id(words[1]) if len(words) == 2 else None
    return SlackRequest(
        slack_user_id=form.get("user_id", ""),
        action=action if incident_id is not None else None,
        incident_id=incident_id,
        response_url=form.get("response_url", ""),
    )


def user_of(slack_user_id: str) -> int | None:
    """Our user behind a Slack user: verified Slack contact method, else the profile e-mail."""
    if not slack_user_id:
        return None
    user_id = actions.user_by_contact(ChannelKind.SLACK, slack_user_id)
    if user_id is not None:
        return user_id
    settings = get_settings().notifications
    if not settings.slack_bot_token.get_secret_value():
        return None
    try:
        info = slack.client(settings).users_info(user=slack_user_id)
    except (SlackClientError, OSError) as exc:
        # A Slack answer, not a bug: no traceback (rendering one can outlast Slack's 3 s).
        log.warning("slack_users_info_failed", slack_user=slack_user_id, error=_short(exc))
        return None
    email = str(((info.get("user") or {}).get("profile") or {}).get("email") or "")
    return actions.user_by_email(email) if email else None


def perform(request: SlackRequest) -> ActResult:
    """Run the request as our user and refresh the incident's Slack pages; never raises."""
    if request.action is None or request.incident_id is None:
        return ActResult(Outcome.FAILED, USAGE)
    user_id = user_of(request.slack_user_id)
    actor = actions.actor_of_user(user_id) if user_id is not None else None
    if actor is None:
        return ActResult(Outcome.REFUSED, UNKNOWN_USER)
    result = actions.act(actor, request.incident_id, request.action)
    if result.outcome in (Outcome.DONE, Outcome.ALREADY):
        # The clicker sees the page change at once (and a stale page is put right); the
        # REFRESH_SLACK_MESSAGES job the change enqueued re-renders it again, harmlessly.
        refresh(request.incident_id)
    return result


def reply_later(response_url: str, text: str) -> None:
    """An ephemeral message to the user who clicked or typed (Slack's ``response_url``)."""
    if not response_url:
        return
    try:
        WebhookClient(
            response_url, timeout=max(1, int(get_settings().notifications.timeout_seconds))
        ).send(text=text, response_type="ephemeral", replace_original=False)
    except (SlackClientError, OSError) as exc:
        log.warning("slack_response_url_failed", error=_short(exc))


def perform_and_reply(request: SlackRequest) -> ActResult:
    result = perform(request)
    reply_later(request.response_url, result.message)
    return result


def refresh(incident_id: int) -> int:
    """Re-render the incident's Slack pages (see ``providers.slack.update_posted``)."""
    return slack.update_posted(incident_id)


def _short(exc: Exception) -> str:
    return slack.failure(exc).summary


def decode_interaction(form_payload: str) -> dict[str, Any] | None:
    try:
        data = json.loads(form_payload)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None

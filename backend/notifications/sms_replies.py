"""SMS replies (NOTIF-05): ``ACK 123`` / ``RESOLVE 123`` from a verified phone number.

The page SMS ends in ``Reply ACK <id>`` (see ``formatting.sms_text``); ``#123`` works too, and
a bare ``ACK`` / ``RESOLVE`` means the newest unresolved incident the sender was paged for.
The sender is our user only through a *verified* SMS contact method; anything else gets a
helpful answer and changes nothing. The answer is the text of the reply SMS.
"""

from __future__ import annotations

from backend.notifications import actions
from backend.notifications.models import ChannelKind

HELP = "OnCall: reply ACK <id> or RESOLVE <id>, e.g. ACK 123."
UNKNOWN_SENDER = (
    "OnCall: this number is not a verified SMS contact of any user. "
    "Add and verify it under your notification settings."
)


def handle(sender: str, text: str) -> str:
    """The reply to one inbound SMS (after its signature was checked)."""
    user_id = actions.user_by_contact(ChannelKind.SMS, sender)
    if user_id is None:
        return UNKNOWN_SENDER
    words = text.split()
    action = actions.parse_action(words[0]) if words else None
    if action is None or len(words) > 2:
        return HELP
    if len(words) == 2:
        incident_id = actions.parse_incident_id(words[1])
        if incident_id is None:
            return HELP
    else:
        found = actions.latest_incident_for(user_id)
        if found is None:
            return "OnCall: you have no open incident to " + action.value + ". " + HELP
        incident_id = found
    actor = actions.actor_of_user(user_id)
    if actor is None:
        return "OnCall: this account is deactivated."
    return "OnCall: " + actions.act(actor, incident_id, action).message

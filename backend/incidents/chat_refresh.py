"""Posted chat pages follow their incident: after a status change commits, the
REFRESH_SLACK_MESSAGES job re-renders them, whoever made the change (a responder's command, or
a monitoring tool's resolve/acknowledge through ingestion)."""

from __future__ import annotations

import structlog

from backend.core.db import UnitOfWork
from backend.core.jobs import JobName, enqueue
from backend.core.settings import get_settings

log = structlog.get_logger(__name__)


def refresh_chat_pages(uow: UnitOfWork, incident_id: int) -> None:
    """After commit, have the incident's posted Slack pages re-rendered with its new status
    (the REFRESH_SLACK_MESSAGES job), whichever channel changed it. Without a Slack bot token
    there is nothing to refresh. A broker failure is only logged: the pages stay stale, the
    incident itself is right."""
    if not get_settings().notifications.slack_bot_token.get_secret_value():
        return

    def send() -> None:
        try:
            enqueue(JobName.REFRESH_SLACK_MESSAGES, incident_id=incident_id)
        except Exception:  # committed already; a stale Slack page is not worth failing over
            log.warning("slack_refresh_enqueue_failed", incident_id=incident_id, exc_info=True)

    uow.after_commit(send)

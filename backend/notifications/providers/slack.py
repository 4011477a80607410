"""Slack through the real ``slack_sdk.WebClient``: a Block Kit page with Acknowledge and
Resolve buttons (``chat.postMessage``), and the same message updated (``chat.update``) when
the incident is acknowledged or resolved.

The contact method's address is a Slack user id (``U…``, a direct message from the bot) or a
channel id. ``slack_base_url`` replaces ``https://slack.com/api/`` (tests use a local server).
Where the page went (channel + ts) is kept in ``slack_message`` per notification. 429, 5xx,
Slack's own transient errors and network errors are retryable; other errors (``channel_not_found``,
``invalid_auth`` …) are not. No hidden retries in the client: ours are in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import select
from sqlmodel import Session, col

from backend.catalog.models import Service
from backend.core.db import unit_of_work
from backend.core.errors import ExternalServiceError
from backend.core.settings import NotificationSettings, get_settings
from backend.escalation.models import PageRequest
from backend.incidents.models import Incident
from backend.notifications.action_models import SlackMessage
from backend.notifications.models import Notification
from backend.notifications.providers.base import OutgoingMessage, ProviderResult

log = structlog.get_logger(__name__)
SLACK_API = "https://slack.com/api/"
ACK_ACTION = "oncall_acknowledge"
RESOLVE_ACTION = "oncall_resolve"
TRANSIENT = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
SEVERITY_EMOJI = {
    "CRITICAL": ":red_circle:",
    "HIGH": ":large_orange_circle:",
    "MEDIUM": ":large_yellow_circle:",
    "LOW": ":large_blue_circle:",
    "INFO": ":white_circle:",
}


@dataclass(frozen=True)
class SlackFacts:
    """What a Slack page shows: the same facts as the SMS and e-mail (NOTIF-06)."""

    incident_id: int
    title: str
    severity: str
    service_name: str
    status: str  # OPEN | ACKNOWLEDGED | RESOLVED | CLOSED
    link: str
    level: int = 0  # 0-based
    acknowledged_by: str = ""
    resolved_by: str = ""

    @property
    def text(self) -> str:
        """The notification's plain text (shown in notifications and by old clients)."""
        return f"[ESC-L{self.level + 1}][{self.severity}] #{self.incident_id} {self.title}"


def facts(session: Session, incident_id: int, base_url: str, level: int = 0) -> SlackFacts | None:
    incident = session.get(Incident, incident_id)
    if incident is None:
        return None
    service = session.get(Service, incident.service_id)
    return SlackFacts(
        incident_id=incident_id,
        title=incident.title,
        severity=incident.severity.value,
        service_name=service.name if service else "",
        status=incident.status.value,
        link=f"{base_url.rstrip('/')}/incidents/{incident_id}",
        level=level,
        acknowledged_by=incident.acknowledged_by or "",
        resolved_by=incident.resolved_by or "",
    )


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def blocks(f: SlackFacts) -> list[dict[str, Any]]:
    """Block Kit: the facts, then the buttons the incident's status still allows."""
    emoji = SEVERITY_EMOJI.get(f.severity, SEVERITY_EMOJI["INFO"])
    out: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"{emoji} *[{f.severity}] <{f.link}|#{f.incident_id}> {_mrkdwn(f.title)}*",
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Service: {_mrkdwn(f.service_name)} · escalation level "
                    f"{f.level + 1} · status *{f.status.lower()}*",
                }
            ],
        },
    ]
    value = str(f.incident_id)
    buttons: list[dict[str, Any]] = []
    if f.status == "OPEN":
        buttons.append(_button("Acknowledge", ACK_ACTION, value, "primary"))
    if f.status in ("OPEN", "ACKNOWLEDGED"):
        buttons.append(_button("Resolve", RESOLVE_ACTION, value))
    if f.status == "ACKNOWLEDGED" and f.acknowledged_by:
        out.append(_note(f"Acknowledged by {_mrkdwn(f.acknowledged_by)}"))
    if f.status in ("RESOLVED", "CLOSED") and f.resolved_by:
        out.append(_note(f"Resolved by {_mrkdwn(f.resolved_by)}"))
    buttons.append(
        {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open"},
            "action_id": "oncall_open",
            "url": f.link,
        }
    )
    out.append({"type": "actions", "block_id": f"incident:{value}", "elements": buttons})
    return out


def _note(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _mrkdwn(text: str) -> str:
    """Escape Slack's control characters (``&``, ``<``, ``>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def client(settings: NotificationSettings) -> WebClient:
    base = settings.slack_base_url or SLACK_API
    return WebClient(
        token=settings.slack_bot_token.get_secret_value() or None,
        base_url=base if base.endswith("/") else base + "/",
        timeout=max(1, int(settings.timeout_seconds)),
        retry_handlers=[],
    )


def failure(exc: Exception) -> ProviderResult:
    """A Slack error as a provider result (never with the token)."""
    if isinstance(exc, SlackApiError):
        status = int(getattr(exc.response, "status_code", 0) or 0)
        error = str(exc.response.get("error", "")) if exc.response is not None else ""
        retryable = status == 429 or status >= 500 or error in TRANSIENT
        return ProviderResult.failure(f"Slack {status} {error}", retryable=retryable)
    return ProviderResult.failure(f"{type(exc).__name__}: {exc}"[:200], retryable=True)


class SlackProvider:
    name = "slack"

    def __init__(self, settings: NotificationSettings) -> None:
        self._s = settings

    def _page_facts(self, notification_id: int | None) -> SlackFacts | None:
        if notification_id is None:
            return None
        with unit_of_work() as uow:
            row = uow.session.get(Notification, notification_id)
            if row is None or row.incident_id is None:
                return None
            page = uow.session.get(PageRequest, row.page_request_id)
            level = page.level if page else 0
            return facts(uow.session, row.incident_id, get_settings().base_url, level)

    def send(self, message: OutgoingMessage) -> ProviderResult:
        page = self._page_facts(message.notification_id)
        kwargs: dict[str, Any] = {"channel": message.to, "text": message.body}
        if page is not None:
            kwargs = {"channel": message.to, "text": page.text, "blocks": blocks(page)}
        try:
            answer = client(self._s).chat_postMessage(**kwargs)
        except (SlackClientError, OSError) as exc:
            return failure(exc)
        channel, ts = str(answer.get("channel", "")), str(answer.get("ts", ""))
        if page is not None and channel and ts:
            _remember(message.notification_id, page.incident_id, channel, ts)
        return ProviderResult(
            ok=True, status="sent", summary=f"Slack posted to {channel}", provider_id=ts
        )


def _remember(notification_id: int | None, incident_id: int, channel: str, ts: str) -> None:
    """Keep where the page went (a re-sent notification replaces its earlier post)."""
    with unit_of_work() as uow:
        row = uow.session.scalars(
            select(SlackMessage).where(col(SlackMessage.notification_id) == notification_id)
        ).first()
        if row is None:
            row = SlackMessage(
                notification_id=notification_id, incident_id=incident_id, channel=channel, ts=ts
            )
        row.channel, row.ts = channel, ts
        uow.session.add(row)


def _level(session: Session, row: SlackMessage) -> int:
    """The escalation level the page was posted for (the update keeps it)."""
    notification = session.get(Notification, row.notification_id) if row.notification_id else None
    page = session.get(PageRequest, notification.page_request_id) if notification else None
    return page.level if page else 0


def update_posted(incident_id: int) -> int:
    """Re-render every Slack page of the incident (``chat.update``); how many were updated.
    Failures are logged, never raised: the incident has changed either way."""
    return _update_all(incident_id)[0]


def refresh_posted(incident_id: int) -> int:
    """The REFRESH_SLACK_MESSAGES job: ``update_posted``, but when a page could not be updated
    for a passing reason (rate limit, Slack or the network down) it raises, so the job runs
    again later (every page is re-rendered again: ``chat.update`` is idempotent).

    Raises:
        ExternalServiceError: retryable, some page was not updated for a passing reason.
    """
    updated, retry = _update_all(incident_id)
    if retry:
        raise ExternalServiceError(
            f"{retry} Slack page(s) of incident {incident_id} not updated", retryable=True
        )
    return updated


def _update_all(incident_id: int) -> tuple[int, int]:
    """(pages updated, pages that failed for a retryable reason)."""
    settings = get_settings()
    if not settings.notifications.slack_bot_token.get_secret_value():
        return 0, 0
    with unit_of_work() as uow:
        rows = uow.session.scalars(
            select(SlackMessage)
            .where(col(SlackMessage.incident_id) == incident_id)
            .order_by(col(SlackMessage.id))
        ).all()
        posted: list[tuple[str, str, SlackFacts]] = []
        for row in rows:
            current = facts(uow.session, incident_id, settings.base_url, _level(uow.session, row))
            if current is not None:
                posted.append((row.channel, row.ts, current))
    if not posted:
        return 0, 0
    web = client(settings.notifications)
    updated = retry = 0
    for channel, ts, current in posted:
        try:
            web.chat_update(channel=channel, ts=ts, text=current.text, blocks=blocks(current))
            updated += 1
        except (SlackClientError, OSError) as exc:
            result = failure(exc)
            retry += int(result.retryable)
            log.warning("slack_update_failed", incident_id=incident_id, error=result.summary)
    return updated, retry

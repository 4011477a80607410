"""Microsoft Teams through a Workflows webhook (ADR 0008): one ``POST`` of an Adaptive Card to
the contact method's URL, with ``httpx2`` and the notifications timeout.

The contact method's address is the URL of a workflow started by "When a Teams webhook request
is received" that posts the card to a channel or chat (Microsoft retired the Office 365
connectors' incoming webhooks for it). A page's card shows the same facts as the Slack page
(severity colour, short id, title, service, escalation level, priority) with buttons that
*open* URLs: Workflows cannot send a button click back to us, so Acknowledge and Resolve are
the single-use e-mail magic links (``magic_links``), issued here for this recipient on every
attempt, plus a link to the incident. Verification codes and admin alerts go as a plain card.

The URL carries a signature (a credential): it is never logged or put in a result summary.
2xx is sent (Workflows answers 202 Accepted: the flow runs after); 408, 429, 5xx, timeouts
and network errors are retryable; other answers (400 bad card, 401/403 signature, 404 workflow
deleted or turned off) are not. No hidden retries: ours are in the database.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import httpx2

from backend.catalog.models import Service
from backend.core.db import unit_of_work
from backend.core.errors import ValidationFailed
from backend.core.settings import NotificationSettings, get_settings
from backend.escalation.models import PageRequest
from backend.incidents.models import Incident
from backend.notifications import formatting, magic_links, teams_webhook
from backend.notifications.action_models import Action
from backend.notifications.models import Notification, NotificationPurpose
from backend.notifications.providers.base import OutgoingMessage, ProviderResult

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"
RETRYABLE_STATUS = frozenset({408, 429})
# Adaptive Cards have named colours only: the nearest to formatting.SEVERITY_COLOURS.
SEVERITY_STYLE = {
    "CRITICAL": "attention",
    "HIGH": "warning",
    "MEDIUM": "warning",
    "LOW": "accent",
    "INFO": "default",
}
LINK_NOTE = "Acknowledge and Resolve open OnCall to confirm; each link works once, for 15 minutes."


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _open(title: str, url: str, style: str = "default") -> dict[str, Any]:
    return {"type": "Action.OpenUrl", "title": title, "url": url, "style": style}


def envelope(card: dict[str, Any]) -> dict[str, Any]:
    """The message a Workflows webhook takes: one Adaptive Card attachment."""
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }


def _card(
    body: list[dict[str, Any]], actions: list[dict[str, Any]], fallback: str
) -> dict[str, Any]:
    return {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "fallbackText": fallback,
        "msteams": {"width": "Full"},
        "body": body,
        "actions": actions,
    }


def page_card(ctx: formatting.PageContext) -> dict[str, Any]:
    """A page: the facts of the Slack page and e-mail (NOTIF-06) with link buttons."""
    colour = SEVERITY_STYLE.get(ctx.severity, "default")
    head = f"[ESC-L{ctx.level + 1}][{ctx.severity}] {ctx.short_id} {ctx.title}"
    level = f"{ctx.level + 1}" + (f" (repeat {ctx.repeat})" if ctx.repeat else "")
    facts = [
        {"title": "Incident", "value": ctx.short_id},
        {"title": "Severity", "value": ctx.severity},
        {"title": "Service", "value": ctx.service_name or "-"},
        {"title": "Escalation level", "value": level},
    ]
    if ctx.priority:
        facts.insert(2, {"title": "Priority", "value": ctx.priority})
    body: list[dict[str, Any]] = [
        {
            "type": "Container",
            "style": colour,
            "bleed": True,
            "items": [
                _text(f"{ctx.severity} · {ctx.short_id}", weight="Bolder", color=colour),
                _text(ctx.title, size="Large", weight="Bolder"),
            ],
        },
        {"type": "FactSet", "facts": facts},
    ]
    actions: list[dict[str, Any]] = []
    if ctx.ack_url:
        actions += [
            _open("Acknowledge", ctx.ack_url, "positive"),
            _open("Resolve", ctx.resolve_url),
        ]
        body.append(_text(LINK_NOTE, size="Small", isSubtle=True))
    actions.append(_open("Open incident", ctx.link))
    return _card(body, actions, head)


def text_card(text: str) -> dict[str, Any]:
    """Anything but a page (a verification code, an alert to the admins): the text alone."""
    return _card([_text("OnCall", weight="Bolder"), _text(text)], [], text)


def _page_context(notification_id: int | None, base_url: str) -> formatting.PageContext | None:
    """The page's facts with fresh acknowledge/resolve links for its recipient (committed
    before the post, so they work the moment the card shows), or None for other messages."""
    if notification_id is None:
        return None
    with unit_of_work() as uow:
        session = uow.session
        row = session.get(Notification, notification_id)
        if row is None or row.purpose is not NotificationPurpose.PAGE or row.incident_id is None:
            return None
        incident = session.get(Incident, row.incident_id)
        page = session.get(PageRequest, row.page_request_id)
        if incident is None or incident.id is None:
            return None
        service = session.get(Service, incident.service_id)
        ctx = formatting.PageContext(
            incident_id=incident.id,
            title=incident.title,
            severity=incident.severity.value,
            service_name=service.name if service else "",
            level=page.level if page else 0,
            repeat=page.repeat if page else 0,
            base_url=base_url,
            priority=incident.priority.value if incident.priority else None,
        )
        links = {
            action: magic_links.issue_link(
                session,
                user_id=row.user_id,
                incident_id=incident.id,
                action=action,
                base_url=base_url,
            )
            for action in (Action.ACKNOWLEDGE, Action.RESOLVE)
        }
    return replace(ctx, ack_url=links[Action.ACKNOWLEDGE], resolve_url=links[Action.RESOLVE])


def outcome(status: int, content: bytes) -> ProviderResult:
    """The webhook's HTTP answer as a provider result (the body's error code, never the URL)."""
    if 200 <= status < 300:
        return ProviderResult(ok=True, status="sent", summary=f"Teams workflow accepted ({status})")
    code = _error_code(content)
    summary = f"Teams {status}" + (f" {code}" if code else "")
    return ProviderResult.failure(summary, retryable=status in RETRYABLE_STATUS or status >= 500)


def _error_code(content: bytes) -> str:
    """``error.code`` of a Workflows error answer (``WorkflowTriggerIsNotEnabled`` …)."""
    try:
        data = json.loads(content or b"null")
    except ValueError:
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code)[:80] if isinstance(code, str) else ""


class TeamsProvider:
    name = "teams"

    def __init__(self, settings: NotificationSettings, base_url: str | None = None) -> None:
        self._s = settings
        self._base_url = base_url

    def send(self, message: OutgoingMessage) -> ProviderResult:
        s = self._s
        try:
            url = teams_webhook.check_url(
                message.to, hosts=s.teams_webhook_hosts, allow_insecure=s.teams_allow_insecure_urls
            )
        except ValidationFailed as exc:
            reason = f"Not a usable Teams webhook URL ({exc.detail[:120]})"
            return ProviderResult.failure(reason, retryable=False)
        base_url = self._base_url if self._base_url is not None else get_settings().base_url
        ctx = _page_context(message.notification_id, base_url)
        card = page_card(ctx) if ctx is not None else text_card(message.body)
        try:
            with httpx2.Client(timeout=s.timeout_seconds, follow_redirects=False) as client:
                answer = client.post(url, json=envelope(card))
        except (httpx2.HTTPError, httpx2.InvalidURL) as exc:
            # The exception's text may hold the URL (and so its signature): the type only.
            return ProviderResult.failure(f"Teams {type(exc).__name__}", retryable=True)
        return outcome(answer.status_code, answer.content)

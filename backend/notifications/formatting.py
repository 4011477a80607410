"""Message formats per channel (NOTIF-06), from plain data (no database, no settings).

* SMS: at most 160 characters: ``[ESC-L2][CRITICAL] #123 Disk full on db-1 | Reply ACK 123``;
  the title is shortened with an ellipsis so the prefix, id and reply hint always fit.
* E-mail: a subject with severity and short id, a text body and an HTML body with the
  severity's colour and a link to the incident.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

SMS_LIMIT = 160
SEVERITY_COLOURS = {
    "CRITICAL": "#b91c1c",
    "HIGH": "#ea580c",
    "MEDIUM": "#ca8a04",
    "LOW": "#2563eb",
    "INFO": "#6b7280",
}


@dataclass(frozen=True)
class PageContext:
    incident_id: int
    title: str
    severity: str
    service_name: str
    level: int  # 0-based
    repeat: int
    base_url: str
    priority: str | None = None
    # Single-use magic links for this recipient (e-mail only; see magic_links.py).
    ack_url: str = ""
    resolve_url: str = ""

    @property
    def short_id(self) -> str:
        return f"#{self.incident_id}"

    @property
    def link(self) -> str:
        return f"{self.base_url.rstrip('/')}/incidents/{self.incident_id}"


def _clip(text: str, room: int) -> str:
    text = " ".join(text.split())
    if len(text) <= room:
        return text
    return text[: max(0, room - 1)].rstrip() + "…"


def sms_text(ctx: PageContext) -> str:
    """The SMS: prefix, short id, title (shortened to fit) and the reply hint; ≤ 160 chars."""
    head = f"[ESC-L{ctx.level + 1}][{ctx.severity}] {ctx.short_id} "
    tail = f" | Reply ACK {ctx.incident_id}"
    return head + _clip(ctx.title, SMS_LIMIT - len(head) - len(tail)) + tail


def voice_text(ctx: PageContext) -> str:
    return (
        f"OnCall page. {ctx.severity} incident {ctx.incident_id} on {ctx.service_name}: "
        f"{ctx.title}."
    )


def short_text(ctx: PageContext) -> str:
    """Push and chat: one line with a link."""
    return f"[{ctx.severity}] {ctx.short_id} {ctx.title} ({ctx.service_name}) {ctx.link}"


def email_subject(ctx: PageContext) -> str:
    priority = f"[{ctx.priority}]" if ctx.priority else ""
    return _clip(f"[{ctx.severity}]{priority} {ctx.short_id} {ctx.title}", 200)


def email_text(ctx: PageContext) -> str:
    lines = [
        f"{ctx.severity} incident {ctx.short_id}: {ctx.title}",
        f"Service: {ctx.service_name}",
        f"Escalation level: {ctx.level + 1}" + (f" (repeat {ctx.repeat})" if ctx.repeat else ""),
    ]
    if ctx.priority:
        lines.append(f"Priority: {ctx.priority}")
    lines += ["", f"Open the incident: {ctx.link}"]
    if ctx.ack_url:
        lines += [
            f"Acknowledge: {ctx.ack_url}",
            f"Resolve: {ctx.resolve_url}",
            "(Each link works once, for 15 minutes.)",
        ]
    return "\n".join(lines) + "\n"


def email_html(ctx: PageContext) -> str:
    colour = SEVERITY_COLOURS.get(ctx.severity, SEVERITY_COLOURS["INFO"])
    link = escape(ctx.link, quote=True)
    return (
        f'<div style="font-family:sans-serif">'
        f'<div style="border-left:6px solid {colour};padding:8px 12px">'
        f'<p style="margin:0;color:{colour};font-weight:bold">{escape(ctx.severity)}'
        f"{' · ' + escape(ctx.priority) if ctx.priority else ''} · {escape(ctx.short_id)}</p>"
        f'<h2 style="margin:4px 0">{escape(ctx.title)}</h2>'
        f"<p>Service: {escape(ctx.service_name)} · level {ctx.level + 1}</p></div>"
        f'<p><a href="{link}">Open the incident</a></p>{_action_buttons(ctx)}</div>'
    )


def _action_buttons(ctx: PageContext) -> str:
    if not ctx.ack_url:
        return ""
    style = "display:inline-block;padding:8px 16px;margin-right:8px;color:#fff;text-decoration:none"
    return (
        f'<p><a href="{escape(ctx.ack_url, quote=True)}" style="{style};background:#15803d">'
        "Acknowledge</a>"
        f'<a href="{escape(ctx.resolve_url, quote=True)}" style="{style};background:#1d4ed8">'
        "Resolve</a></p>"
        '<p style="color:#6b7280;font-size:12px">Each link works once, for 15 minutes.</p>'
    )


def critical_text(ctx: PageContext, who: str) -> str:
    """To the platform admins when e-mail and SMS to ``who`` both failed."""
    return _clip(
        f"[CRITICAL DELIVERY FAILURE] E-mail and SMS to {who} failed for {ctx.severity} "
        f"incident {ctx.short_id} ({ctx.title}). Check the providers. {ctx.link}",
        SMS_LIMIT * 2,
    )


def verification_text(code: str) -> str:
    return f"Your OnCall verification code is {code}. It expires in 10 minutes."

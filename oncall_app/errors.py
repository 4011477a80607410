"""How backend errors reach the user: a toast for DomainErrors, inline messages for fields.

Session errors are not toasted: the user is sent to the login page instead. Anything that is not
a DomainError is a bug; it is logged and the user gets a generic message, never a traceback.
"""

from __future__ import annotations

from urllib.parse import urlencode

import reflex as rx
import structlog

from backend.core.errors import DomainError, Unauthenticated, ValidationFailed

log = structlog.get_logger(__name__)


def login_url(next_path: str = "/", error: str = "") -> str:
    params = {"next": next_path or "/"}
    if error:
        params["error"] = error
    return f"/login?{urlencode(params)}"


def events_for(exc: Exception, *, path: str = "/") -> list[rx.event.EventSpec]:
    """The UI reaction to a failed service call."""
    if isinstance(exc, Unauthenticated):
        return [rx.redirect(login_url(path, "session_expired"))]
    if isinstance(exc, DomainError):
        return [rx.toast.error(exc.title, description=_detail(exc))]
    log.error("ui_unexpected_error", exc_info=exc)
    return [
        rx.toast.error(
            "Something went wrong", description="The error was logged; please try again."
        )
    ]


def _detail(exc: DomainError) -> str:
    # The detail defaults to the title; repeating it in the description adds nothing.
    return "" if exc.detail == exc.title else exc.detail


def field_messages(exc: ValidationFailed) -> dict[str, str]:
    """``{"name": "String should have at least 2 characters", ...}`` for inline form errors.

    The location's first part is the body prefix; the second names the field. Several messages
    for one field (a list of tags) are joined.
    """
    messages: dict[str, str] = {}
    for err in exc.errors:
        parts = [str(p) for p in err.loc[1:]] or ["form"]
        field = parts[0]
        text = err.msg.removeprefix("Value error, ")
        messages[field] = f"{messages[field]}; {text}" if field in messages else text
    if not messages and exc.detail:
        messages["form"] = exc.detail
    return messages

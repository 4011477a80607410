"""The login page's view of its query string (``error``, ``next``) and of SSO settings."""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from backend.core.settings import get_settings
from backend.identity import sessions
from oncall_app.services import call
from oncall_app.state.session import SessionState

# One message per code the auth routes send back. ``invalid_credentials`` is deliberately the
# same for unknown accounts, wrong passwords and locked accounts (no account enumeration).
MESSAGES = {
    "invalid_credentials": "Invalid e-mail or password.",
    "rate_limited": "Too many sign-in attempts. Wait a few minutes, then try again.",
    "validation_failed": "Enter your e-mail address and password.",
    "permission_denied": "The sign-in request was refused. Reload this page and try again.",
    "session_expired": "Your session has ended. Please sign in again.",
    "sso_failed": "Single sign-on failed. Try again, or use a break-glass account below.",
    "sso_not_configured": "Single sign-on is not configured on this server.",
}
GENERIC = "Sign-in failed. Please try again."


def safe_next(target: str) -> str:
    """Only same-site paths (the API checks again; this keeps the form honest)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class LoginState(SessionState):
    error_message: str = ""
    next_path: str = "/"
    sso_enabled: bool = False
    sso_label: str = ""

    @rx.event
    async def load(self):
        params = self.router.url.query_parameters
        code = params.get("error", "")
        self.error_message = MESSAGES.get(code, GENERIC) if code else ""
        self.next_path = safe_next(params.get("next", "/"))
        sso = get_settings().sso
        self.sso_enabled = sso.enabled
        self.sso_label = sso.display_name
        # Already signed in (for example a second tab): go where the user wanted to go.
        token = self._cookie_token()
        if token and not code and await call(sessions.is_valid, token):
            return rx.redirect(self.next_path)
        return None

    @rx.var
    def sso_href(self) -> str:
        return f"/api/auth/sso/start?next={quote(self.next_path, safe='/')}"

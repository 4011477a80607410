"""OpenID Connect sign-in for browsers: start (redirect to the provider) and callback.

Failures come back to the login page as ``/login?error=sso_failed&next=...``; only "SSO is not
configured" is a 404 problem, since no login page offers SSO then.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from backend.api.deps import client_ip, user_agent
from backend.api.routes.auth import login_redirect, safe_next, set_session_cookie
from backend.core.errors import DomainError
from backend.identity import oidc
from backend.identity.errors import SsoNotConfigured

router = APIRouter(prefix="/api/auth/sso", tags=["auth"])


@router.get("/start", response_class=RedirectResponse, status_code=302)
async def sso_start(
    next: Annotated[str, Query(max_length=500)] = "/",  # the page to return to
) -> RedirectResponse:
    """Redirect to the identity provider (404 problem ``sso_not_configured`` when SSO is off)."""
    target = safe_next(next)
    try:
        url = await run_in_threadpool(oidc.begin_login, target)
    except SsoNotConfigured:
        raise
    except DomainError as exc:
        return login_redirect(exc.code.value, target)
    return RedirectResponse(url, status_code=302)


@router.get("/callback", response_class=RedirectResponse, status_code=303)
async def sso_callback(
    request: Request,
    code: Annotated[str, Query(max_length=2048)] = "",
    state: Annotated[str, Query(max_length=200)] = "",
    error: Annotated[str, Query(max_length=200)] = "",
) -> RedirectResponse:
    """The provider's redirect back: set the session cookie and go to the saved page, or back
    to the login page with ``error=sso_failed``."""
    try:
        login = await run_in_threadpool(
            oidc.complete_login,
            state,
            code,
            error=error,
            ip=client_ip(request),
            user_agent=user_agent(request),
        )
    except SsoNotConfigured:
        raise
    except DomainError as exc:
        return login_redirect(exc.code.value, safe_next(exc.extra.get("return_to")))
    response = RedirectResponse(safe_next(login.return_to), status_code=303)
    set_session_cookie(response, login.token)
    return response

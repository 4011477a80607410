"""Browser authentication: break-glass login form, logout, and who-am-I.

Forms post here with a normal HTML form so the session cookie can be HttpOnly (script never
sees it); failures redirect back to the login page with an error code it turns into a message.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import client_ip, session_actor, session_token, user_agent
from backend.core.actor import Actor
from backend.core.errors import DomainError, PermissionDenied, RateLimited
from backend.core.settings import get_settings
from backend.identity import break_glass, sessions
from backend.identity import service as identity
from backend.identity.schemas import UserOut

router = APIRouter(prefix="/api/auth", tags=["auth"])


def safe_next(target: str | None) -> str:
    """Only same-site relative paths: an open redirect would make phishing easy."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def check_same_origin(request: Request) -> None:
    """Refuse cross-site form posts (login CSRF): browsers always send Origin on POST."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return
    ours = urlsplit(get_settings().base_url)
    theirs = urlsplit(origin)
    host_ok = theirs.netloc == request.headers.get("host", "") or theirs.netloc == ours.netloc
    if not host_ok:
        raise PermissionDenied("Cross-site form posts are not accepted.")


def set_session_cookie(response: Response, token: str) -> None:
    auth = get_settings().auth
    response.set_cookie(
        auth.session_cookie,
        token,
        max_age=auth.session_ttl_hours * 3600,
        httponly=True,
        secure=auth.cookie_secure,
        samesite="lax",  # lax, not strict: the SSO callback is a top-level cross-site redirect
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    auth = get_settings().auth
    response.delete_cookie(
        auth.session_cookie, path="/", httponly=True, secure=auth.cookie_secure, samesite="lax"
    )


def login_redirect(error: str, next_path: str) -> RedirectResponse:
    query = urlencode({"error": error, "next": next_path})
    return RedirectResponse(f"/login?{query}", status_code=303)


@router.post("/break-glass", response_class=RedirectResponse, status_code=303)
async def break_glass_login(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",  # the form field's name
) -> RedirectResponse:
    """Sign in with a break-glass account; redirects to ``next`` or back to the login page."""
    check_same_origin(request)
    target = safe_next(next)
    try:
        result = await run_in_threadpool(
            break_glass.login,
            email,
            password,
            ip=client_ip(request),
            user_agent=user_agent(request),
        )
    except RateLimited as exc:
        response = login_redirect(exc.code.value, target)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except DomainError as exc:
        return login_redirect(exc.code.value, target)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, result.token)
    return response


@router.post("/logout", response_class=RedirectResponse, status_code=303)
async def logout(request: Request) -> RedirectResponse:
    """End the current session (if any) and clear the cookie."""
    check_same_origin(request)
    token = session_token(request)
    if token:
        try:
            actor = await session_actor(request)
        except DomainError:
            actor = Actor.anonymous(ip=client_ip(request), user_agent=user_agent(request))
        await run_in_threadpool(sessions.close_session, token, actor)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response)
    return response


@router.get("/me")
async def me(actor: Annotated[Actor, Depends(session_actor)]) -> UserOut:
    """The signed-in user (401 problem when the session is missing, revoked or expired)."""
    assert actor.user_id is not None
    return await run_in_threadpool(identity.get_user, actor, actor.user_id)

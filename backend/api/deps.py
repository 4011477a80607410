"""Request-scoped dependencies: client address, the API-key actor, the session actor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from backend.apikeys import service as apikeys
from backend.apikeys.errors import InvalidApiKey
from backend.apikeys.scopes import Scope
from backend.core.actor import Actor
from backend.core.settings import get_settings
from backend.identity import sessions


def client_ip(request: Request) -> str:
    # Behind a proxy, configure uvicorn/granian's forwarded-allow-ips; we trust what they set.
    return request.client.host if request.client else "unknown"


def user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidApiKey("Send an API key as 'Authorization: Bearer <key>'.")
    return token.strip()


def api_key(scope: Scope) -> Callable[[Request], Awaitable[Actor]]:
    """A dependency that authenticates the request's API key and requires ``scope``."""

    async def dependency(request: Request) -> Actor:
        token = bearer_token(request)
        return await run_in_threadpool(
            apikeys.authenticate,
            token,
            scope,
            ip=client_ip(request),
            user_agent=user_agent(request),
        )

    return dependency


def session_token(request: Request) -> str:
    return request.cookies.get(get_settings().auth.session_cookie, "")


async def session_actor(request: Request) -> Actor:
    """The signed-in user behind the session cookie. Raises SessionExpired."""
    return await run_in_threadpool(
        sessions.resolve,
        session_token(request),
        ip=client_ip(request),
        user_agent=user_agent(request),
    )

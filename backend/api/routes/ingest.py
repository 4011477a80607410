"""Inbound alerts: ``POST /api/v1/integrations/{key}/alerts`` (signed generic webhook),
``POST /api/v1/integrations/{key}/{provider}`` (bearer or ``?token=``) and heartbeat check-ins.

Public contract (docs/integrations/). 202 means committed. The body is read with a hard cap
(413 without reading past it); the service does everything else.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.api import problems
from backend.api.deps import client_ip
from backend.core.errors import DomainError
from backend.core.settings import get_settings
from backend.ingest import heartbeats
from backend.ingest import service as ingest
from backend.ingest.errors import IntegrationNotFound
from backend.ingest.models import IntegrationType
from backend.ingest.schemas import GenericAlertIn, HeartbeatOut, IngestResult

router = APIRouter(tags=["ingest"])
T = TypeVar("T")
# Ingest transactions running at once in one server process (``ONCALL_INGEST__CONCURRENCY``).
# More requests wait (in the event loop, holding nothing) for a slot. AnyIO's default pool (40
# threads) let 40 transactions per process fight over the GIL while holding their row locks
# and connections: on the 2-core bench box an identical-alert storm at concurrency 64 went from
# ~60 to ~115-145 alerts/s with 10 instead of 40, and 6 did better again once each alert was
# one statement; since the threads' statements are committed together (group commit), 12 does
# best (docs/benchmarks.md). A slot is held until the alert has committed, so the 202 still
# means committed.
_limiter: RunVar[CapacityLimiter] = RunVar("oncall_ingest_limiter")  # one per event loop


async def in_ingest_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking ingest command in a worker thread, at most ``ingest.concurrency`` at
    once per event loop."""
    try:
        limiter = _limiter.get()
    except LookupError:
        limiter = CapacityLimiter(get_settings().ingest.concurrency)
        _limiter.set(limiter)
    return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=limiter)


PROVIDERS = [
    t.value
    for t in IntegrationType
    if t not in (IntegrationType.GENERIC, IntegrationType.PAGERDUTY)
]


def _problem(status: int, code: str, title: str) -> dict[str, Any]:
    return {
        "description": title,
        "content": {
            "application/problem+json": {
                "example": {
                    "type": f"https://oncall.example.org/docs/problems/{code}",
                    "title": title,
                    "status": status,
                    "code": code,
                    "detail": "…",
                    "instance": "/api/v1/integrations/…",
                }
            }
        },
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem(401, "invalid_signature", "Bad signature, timestamp or secret"),
    404: _problem(404, "not_found", "Unknown integration key"),
    413: _problem(413, "payload_too_large", "Body over 256 KB"),
    415: _problem(415, "unsupported_media_type", "Not JSON"),
    422: _problem(422, "validation_failed", "Payload invalid (field-level errors)"),
    503: _problem(503, "service_unavailable", "Database unavailable; retry (Retry-After)"),
}


async def read_capped(request: Request) -> bytes | None:
    """The raw body, or None as soon as it exceeds the ingest limit (never read further)."""
    limit = get_settings().ingest.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def inbound(
    request: Request, provider: IntegrationType | None, key: str | None
) -> ingest.InboundRequest:
    return ingest.InboundRequest(
        provider=provider,
        key=key,
        body=await read_capped(request),
        content_type=request.headers.get("content-type", ""),
        headers=dict(request.headers),
        query_token=request.query_params.get("token"),
        remote_ip=client_ip(request),
    )


_GENERIC_PATH = re.compile(r"/api/v1/integrations/([^/]{1,64})/alerts")


class GenericAlertFastPath:
    """ASGI middleware: ``POST /api/v1/integrations/{key}/alerts`` straight to the service.

    The signed generic webhook is the ingest hot path; FastAPI's routing (each of ~200 routes
    tried in order), dependency solving and response-model validation cost about a tenth of
    its CPU per alert (docs/benchmarks.md). This answers it with the same service call, the
    same 202 body and the same problem+json errors as :func:`generic_alert` (which stays for
    the OpenAPI document and answers what this passes on: other paths and methods, keys over
    64 characters). Installed inside RequestContextMiddleware, so request ids and security
    headers are unchanged; unexpected errors still reach the app's 500 handler.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            match = _GENERIC_PATH.fullmatch(path[len(root) :] if path.startswith(root) else path)
            if match is not None:
                await self._answer(match[1], scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _answer(self, key: str, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response: Response
        try:
            request_in = await inbound(request, IntegrationType.GENERIC, key)
            result = await in_ingest_thread(ingest.ingest, request_in)
            response = Response(
                result.model_dump_json(), status_code=202, media_type="application/json"
            )
        except DomainError as exc:
            response = problems.from_domain_error(request, exc)
        await response(scope, receive, send)


@router.post(
    "/api/v1/integrations/{key}/alerts",
    status_code=202,
    responses=ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": GenericAlertIn.model_json_schema()}},
        },
        "parameters": [
            {
                "name": "X-OnCall-Timestamp",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "Unix seconds; refused if > 5 min old or > 60 s ahead.",
            },
            {
                "name": "X-OnCall-Signature",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "v1=<hex HMAC-SHA256(secret, '<timestamp>.' + raw body)>",
            },
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "Seen within the dedup window: 'repeated', nothing created.",
            },
        ],
    },
)
async def generic_alert(request: Request, key: Annotated[str, Path(max_length=64)]) -> IngestResult:
    """Receive one alert on the signed generic webhook (docs/integrations/generic.md)."""
    request_in = await inbound(request, IntegrationType.GENERIC, key)
    return await in_ingest_thread(ingest.ingest, request_in)


@router.post(
    "/api/v1/integrations/{key}/{provider}",
    status_code=202,
    responses=ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
    },
)
async def provider_alert(
    request: Request,
    key: Annotated[str, Path(max_length=64)],
    provider: Annotated[str, Path(description=f"One of {', '.join(PROVIDERS)}")],
    token: Annotated[
        str | None, Query(description="The secret (for senders without headers)")
    ] = None,
) -> IngestResult:
    """Receive a provider's native webhook (Authorization: Bearer <secret> or ?token=<secret>)."""
    del token  # read from the request (and kept out of logs); declared for the OpenAPI document
    if provider not in PROVIDERS:
        raise IntegrationNotFound(f"No provider '{provider}': use one of {', '.join(PROVIDERS)}.")
    request_in = await inbound(request, IntegrationType(provider), key)
    return await in_ingest_thread(ingest.ingest, request_in)


@router.post("/api/v1/heartbeats/{token}", responses={404: ERRORS[404]})
async def heartbeat_check_in(token: Annotated[str, Path(max_length=128)]) -> HeartbeatOut:
    """Check in a heartbeat monitor (the URL is the secret, shown once when created)."""
    return await run_in_threadpool(heartbeats.check_in, token)


@router.get("/api/v1/heartbeats/{token}", responses={404: ERRORS[404]})
async def heartbeat_check_in_get(token: Annotated[str, Path(max_length=128)]) -> HeartbeatOut:
    """The same check-in for senders that can only GET (cron + curl, uptime tools)."""
    return await run_in_threadpool(heartbeats.check_in, token)

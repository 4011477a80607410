"""RFC 9457 problem+json for every error the HTTP API returns.

``type`` points at ``<docs>/problems/<code>``; extension members ``code`` (stable, for
programs), ``errors`` (field-level details) and ``request_id`` (to find the log lines).
Unknown exceptions become a 500 ``internal_error`` that never echoes the exception text.
"""

from __future__ import annotations

import copy
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.core.errors import DomainError, ErrorCode, FieldError, RateLimited, ServiceUnavailable
from backend.core.settings import get_settings

log = structlog.get_logger(__name__)
PROBLEM_JSON = "application/problem+json"

_HTTP_CODES: dict[int, tuple[ErrorCode, str]] = {
    400: (ErrorCode.VALIDATION_FAILED, "Bad request"),
    401: (ErrorCode.UNAUTHENTICATED, "Authentication required"),
    403: (ErrorCode.PERMISSION_DENIED, "Permission denied"),
    404: (ErrorCode.NOT_FOUND, "Not found"),
    405: (ErrorCode.VALIDATION_FAILED, "Method not allowed"),
    413: (ErrorCode.VALIDATION_FAILED, "Payload too large"),
    415: (ErrorCode.VALIDATION_FAILED, "Unsupported media type"),
}


class ProblemFieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """What every error answer looks like (RFC 9457 plus our extension members), for OpenAPI."""

    # Some problems carry more members (e.g. ``checks`` on a failed readiness probe).
    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str
    code: str
    errors: list[ProblemFieldError] | None = None
    request_id: str | None = None


_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request",
    401: "Missing or invalid credentials (API key, session, signature or token)",
    403: "Authenticated, but lacking the scope or role",
    404: "Not found (an id in the path, or a disabled feature)",
    409: "Conflicts with the current state",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Invalid input (field-level ``errors``)",
    429: "Rate limited (Retry-After)",
    502: "An external service failed",
    503: "Database or broker unavailable; retry after Retry-After seconds",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries documenting ``statuses`` as application/problem+json Problems."""
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, "Error"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


# What any operation may answer besides the errors it documents itself.
STANDARD_ERRORS = error_responses(400, 401, 403, 404, 409, 422, 429, 503)
# Probes answer no client errors (ready documents its own 503).
_NO_CLIENT_ERRORS = "/api/health/"


def document(app: FastAPI) -> None:
    """Document STANDARD_ERRORS on every operation (what a route declares itself wins) and the
    Problem schema they refer to, in the app's OpenAPI document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()  # FastAPI's, cached until the routes change
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        if "Problem" in components:
            return schema
        problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem_schema.pop("$defs", {}))
        components["Problem"] = problem_schema
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith(_NO_CLIENT_ERRORS):
                for operation in operations.values():
                    _add_standard_errors(operation.setdefault("responses", {}))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def _add_standard_errors(responses: dict[str, Any]) -> None:
    default_422 = responses.get("422", {}).get("content", {}).get("application/json", {})
    if default_422.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
        del responses["422"]  # FastAPI's own, describing a body our handler never sends
    for status, entry in STANDARD_ERRORS.items():
        responses.setdefault(str(status), copy.deepcopy(entry))


def problem(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"{get_settings().docs_base_url}/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
    }
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def from_domain_error(request: Request, exc: DomainError) -> JSONResponse:
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited | ServiceUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="oncall"'
    return problem(
        request,
        status=exc.status,
        code=exc.code.value,
        title=exc.title,
        detail=exc.detail,
        errors=getattr(exc, "errors", None),
        headers=headers or None,
    )


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json, and document them."""
    document(app)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return from_domain_error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            FieldError(loc=tuple(e["loc"]), msg=e["msg"], type=e["type"]) for e in exc.errors()
        ]
        summary = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in errors)
        return problem(
            request,
            status=422,
            code=ErrorCode.VALIDATION_FAILED.value,
            title="Validation failed",
            detail=summary or "The request is not valid.",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, title = _HTTP_CODES.get(exc.status_code, (ErrorCode.INTERNAL_ERROR, "Error"))
        return problem(
            request,
            status=exc.status_code,
            code=code.value,
            title=title,
            detail=str(exc.detail) if exc.detail else title,
        )

    @app.exception_handler(OverflowError)
    async def _out_of_range(request: Request, exc: OverflowError) -> JSONResponse:
        # Dates near year 1 or 9999 with an offset (converting to UTC leaves the calendar),
        # windows computed from them: the input is past what can be represented, so it is the
        # client's error. Logged with the trace, so a server-side overflow still shows.
        log.warning("value_out_of_range", path=request.url.path, exc_info=exc)
        return problem(
            request,
            status=422,
            code=ErrorCode.VALIDATION_FAILED.value,
            title="Validation failed",
            detail="A date or number is out of the range that can be represented.",
        )

    @app.exception_handler(Exception)
    async def _unknown(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_exception", path=request.url.path, exc_info=exc)
        return problem(
            request,
            status=500,
            code=ErrorCode.INTERNAL_ERROR.value,
            title="Internal error",
            detail="Something went wrong on our side; quote the request id when reporting it.",
        )

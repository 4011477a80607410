"""Liveness and readiness probes."""

from __future__ import annotations

import redis
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from backend.api.problems import error_responses, problem
from backend.core.db import get_engine
from backend.core.errors import ErrorCode
from backend.core.settings import get_settings
from backend.notifications import health

router = APIRouter(prefix="/api/health", tags=["health"])


@router.get("/live")
async def live() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


def _check_db() -> str | None:
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; the reason goes in the body
        return type(exc).__name__
    return None


def _check_redis(url: str) -> str | None:
    try:
        redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return type(exc).__name__
    return None


@router.get("/ready", response_model=None, responses=error_responses(503))
async def ready(request: Request) -> dict[str, object] | JSONResponse:
    """Ready when the database answers and, if configured, Redis answers.

    ``providers`` (NOTIF-04) is each notification provider's circuit breaker, as details: an
    open breaker means failover, not an unready process, so it never makes this a 503. Only
    the state and the failure count: the last error may name accounts or numbers, and this
    endpoint has no authentication (the Notifications page shows it to signed-in users)."""
    settings = get_settings()
    checks: dict[str, str] = {}
    db_error = await run_in_threadpool(_check_db)
    checks["database"] = "ok" if db_error is None else f"failed: {db_error}"
    if settings.redis.enabled:
        redis_error = await run_in_threadpool(_check_redis, settings.redis.url)
        checks["redis"] = "ok" if redis_error is None else f"failed: {redis_error}"
    failing = [name for name, result in checks.items() if result != "ok"]
    if failing:
        return problem(
            request,
            status=503,
            code=ErrorCode.SERVICE_UNAVAILABLE.value,
            title="Not ready",
            detail=f"Failing checks: {', '.join(failing)}",
            headers={"Retry-After": "5"},
            checks=checks,
        )
    providers = await run_in_threadpool(_providers)
    return {"status": "ok", "checks": checks, "providers": providers}


def _providers() -> dict[str, dict[str, object]] | str:
    try:
        found = health.provider_health(get_settings().notifications)
    except Exception as exc:  # details only (e.g. a database not migrated yet): never a 500
        return f"unavailable: {type(exc).__name__}"
    return {
        p.name: {"state": p.state.value, "consecutive_failures": p.consecutive_failures}
        for p in found
    }

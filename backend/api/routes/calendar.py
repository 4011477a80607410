"""``/api/calendar/{token}.ics``: secret iCalendar feeds (the token is the only credential);
``/api/calendar/oauth/callback``: where Google and Microsoft send the browser back after the
user grants calendar access (the single-use OAuth state is the only credential)."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from backend.core.errors import DomainError
from backend.schedules import calendar_sync, feeds

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/api/calendar", tags=["calendar"])


@router.get("/{token}.ics")
async def calendar_feed(token: str) -> Response:
    """The feed's shifts as ``text/calendar``; 404 for an unknown or revoked token."""
    body = await run_in_threadpool(feeds.render_feed, token)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        # The URL is a secret: keep it out of shared caches and referrers.
        headers={"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"},
    )


@router.get("/oauth/callback")
async def oauth_callback(state: str = "", code: str = "", error: str = "") -> Response:
    """Finish connecting a calendar, then back to the profile page with the outcome."""
    if error or not state or not code:
        return RedirectResponse("/profile?calendar=denied", status_code=303)
    try:
        await run_in_threadpool(calendar_sync.complete_connect, state, code)
    except DomainError as exc:
        log.warning("calendar_connect_failed", code=exc.code.value)
        return RedirectResponse("/profile?calendar=failed", status_code=303)
    return RedirectResponse("/profile?calendar=connected", status_code=303)

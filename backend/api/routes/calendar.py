"""``/api/calendar/{token}.ics``: secret iCalendar feeds. The token is the only credential."""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from backend.schedules import feeds

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

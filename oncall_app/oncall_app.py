"""The composition root: the Reflex app with the HTTP API mounted on the same port, the live
update task and (embedded default) the Dramatiq worker threads."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import reflex as rx
import structlog

from backend.api.app import create_api
from jobs.embedded import start_embedded_worker
from oncall_app import pages, realtime  # noqa: F401  # pages register their routes on import

log = structlog.get_logger(__name__)


@contextlib.asynccontextmanager
async def embedded_worker() -> AsyncIterator[None]:
    """Worker threads inside this process when no Redis is configured (None in production)."""
    worker = await asyncio.to_thread(start_embedded_worker)
    try:
        yield
    finally:
        if worker is not None:
            await asyncio.to_thread(worker.stop)


app = rx.App(
    api_transformer=create_api(),
    html_lang="en",
    head_components=[
        rx.el.meta(name="theme-color", content="#3e63dd"),
        rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
    ],
)
app.register_lifespan_task(realtime.run)
app.register_lifespan_task(embedded_worker)

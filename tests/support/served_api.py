"""The API as production serves it, for granian in the reliability tests: the Dramatiq broker
from settings (Redis), so the web process enqueues after commit like ``oncall serve`` does
(there, ``jobs.embedded.start_embedded_worker`` sets the broker up at start)."""

from __future__ import annotations

from fastapi import FastAPI

from backend.api.app import create_api
from backend.core.logging import configure_logging
from jobs.broker import setup_broker


def build() -> FastAPI:
    configure_logging(json_output=False, level="WARNING")
    setup_broker()
    return create_api()

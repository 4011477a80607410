"""Worker threads inside the app process, for the embedded default (no Redis)."""

from __future__ import annotations

import dramatiq
import structlog
from dramatiq.brokers.stub import StubBroker

from backend.core.settings import Settings, get_settings
from jobs import actors  # noqa: F401  # registers every actor on the broker
from jobs.broker import setup_broker

log = structlog.get_logger(__name__)


def start_embedded_worker(settings: Settings | None = None) -> dramatiq.Worker | None:
    """Start worker threads when the broker is the in-memory stub; None in production."""
    settings = settings or get_settings()
    broker = setup_broker(settings)
    if not isinstance(broker, StubBroker):
        return None
    worker = dramatiq.Worker(broker, worker_threads=settings.embedded_worker_threads)
    worker.start()
    log.info("embedded_worker_started", threads=settings.embedded_worker_threads)
    return worker

"""The Dramatiq broker, built from settings.

Production: a RedisBroker; ``oncall worker`` runs worker processes. Embedded: a StubBroker
with worker threads inside the app process, so the product runs with no Redis at all.
"""

from __future__ import annotations

import threading

import dramatiq
import structlog
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware

from backend.core.settings import Settings, get_settings

log = structlog.get_logger(__name__)


class LogContextMiddleware(Middleware):
    """Binds the message id and actor name to every log line a job writes."""

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:  # type: ignore[type-arg]  # Message is generic
        structlog.contextvars.bind_contextvars(
            message_id=message.message_id, job=message.actor_name
        )

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.Message,  # type: ignore[type-arg]  # Message is generic
        *,
        result: object = None,
        exception: BaseException | None = None,
    ) -> None:
        structlog.contextvars.unbind_contextvars("message_id", "job")


def build_broker(settings: Settings) -> dramatiq.Broker:
    if settings.redis.enabled:
        broker: dramatiq.Broker = RedisBroker(url=settings.redis.url, db=settings.redis.broker_db)
    else:
        broker = StubBroker()
        broker.emit_after("process_boot")
    broker.add_middleware(LogContextMiddleware())
    return broker


_lock = threading.Lock()
_configured = False


def setup_broker(settings: Settings | None = None) -> dramatiq.Broker:
    """Build the broker once per process and make it Dramatiq's global broker."""
    global _configured
    with _lock:
        if not _configured:
            dramatiq.set_broker(build_broker(settings or get_settings()))
            _configured = True
        return dramatiq.get_broker()

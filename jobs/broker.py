"""The Dramatiq broker, built from settings.

Production: a RedisBroker; ``oncall worker`` runs worker processes. Embedded: a StubBroker
with worker threads inside the app process, so the product runs with no Redis at all.
"""

from __future__ import annotations

import threading

import dramatiq
import redis
import structlog
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware

from backend.core.settings import Settings, get_settings

log = structlog.get_logger(__name__)


class LogContextMiddleware(Middleware):
    """Binds the message id and actor name to every log line a job writes."""

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        structlog.contextvars.bind_contextvars(
            message_id=message.message_id, job=message.actor_name
        )

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: object = None,
        exception: BaseException | None = None,
    ) -> None:
        structlog.contextvars.unbind_contextvars("message_id", "job")


def broker_redis_client(settings: Settings) -> redis.Redis:
    """A client on logical database ``settings.redis.broker_db`` of the server in the URL.

    The URL names the server; Reflex keeps its state in db 0 of it (``rxconfig.py``) and the
    broker keeps its queues in ``broker_db``, whatever db the URL's path names. Passing
    ``RedisBroker(url=..., db=...)`` would not do this: Dramatiq turns the URL into a connection
    pool, and redis-py ignores ``db`` beside a pool, so the queues landed in the URL's db (0
    when it names none), beside the Reflex state.
    """
    options = redis.connection.parse_url(settings.redis.url)  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
    options["db"] = settings.redis.broker_db
    return redis.Redis(connection_pool=redis.ConnectionPool(**options))


def build_broker(settings: Settings) -> dramatiq.Broker:
    if settings.redis.enabled:
        broker: dramatiq.Broker = RedisBroker(client=broker_redis_client(settings))  # type: ignore[no-untyped-call]  # Dramatiq leaves __init__ unannotated
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

"""Fixtures shared by every test: a fresh database, settings, a stub broker, an in-process bus.

Safe by default: no test reaches Redis, PostgreSQL or the network unless it asks for the
``integration`` fixtures, which skip loudly without those services (and fail under CI=true).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import TimeLimit, default_middleware
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import backend.models  # noqa: F401  # registers every table
from backend.core import db, events
from backend.core.settings import get_settings

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_URL = os.environ.get("ONCALL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ONCALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test starts from default settings (no Redis, no SSO) and a temp data dir."""
    for key in list(os.environ):
        if key.startswith("ONCALL_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ONCALL_DATABASE__URL", f"sqlite:///{tmp_path / 'test.db'}")
    monkeypatch.setenv("ONCALL_OBSERVABILITY__LOG_JSON", "false")
    # The CloudWatch samples are AWS's documented examples, signed by nobody we can check
    # offline; tests/api/test_sns_signatures.py turns the check on with its own certificate.
    monkeypatch.setenv("ONCALL_INGEST__SNS_VERIFY_SIGNATURES", "false")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def engine(settings_env: None) -> Iterator[Engine]:
    """A fresh SQLite database per test with every table created."""
    eng = db.build_engine(get_settings().database.url)
    SQLModel.metadata.create_all(eng)
    db.set_engine(eng)
    yield eng
    db.set_engine(None)


@pytest.fixture(autouse=True)
def bus() -> Iterator[events.InProcessEventBus]:
    in_process = events.InProcessEventBus()
    events.set_bus(in_process)
    yield in_process
    events.set_bus(None)


class _SessionTimeLimit(TimeLimit):
    """TimeLimit whose deadline thread is started once for the whole test session.

    Dramatiq's own starts a thread at process boot that never stops; one per test's broker left
    ~1,000 idle threads by the end of the suite, slowing every later test.
    """

    _shared_manager = None

    def __init__(self) -> None:
        super().__init__()
        if _SessionTimeLimit._shared_manager is None:
            self.manager.start()
            _SessionTimeLimit._shared_manager = self.manager
        self.manager = _SessionTimeLimit._shared_manager

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        pass  # started once above


@pytest.fixture(autouse=True)
def stub_broker() -> Iterator[StubBroker]:
    broker = StubBroker(
        middleware=[_SessionTimeLimit() if m is TimeLimit else m() for m in default_middleware]
    )
    broker.emit_after("process_boot")
    dramatiq.set_broker(broker)
    yield broker
    broker.flush_all()
    broker.close()


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip loudly when a service is missing; under CI=true, fail instead."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}: integration test cannot run"
    if IN_CI:
        pytest.fail(f"{message} (CI=true requires it)")
    pytest.skip(f"SKIPPED LOUDLY: {message}")


@pytest.fixture
def pg_url() -> str:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return PG_URL


@pytest.fixture
def redis_url() -> str:
    require_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL

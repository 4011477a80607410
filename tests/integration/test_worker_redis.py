"""A real Dramatiq worker process on Redis runs our actors against PostgreSQL.

The test enqueues by name through ``backend.core.jobs.enqueue`` (as the backend does, without
importing ``jobs``) on a RedisBroker built from the same settings as the worker's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dramatiq
import pytest
import redis
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.core import clock
from backend.core.db import build_engine
from backend.core.jobs import JOB_QUEUES, JobName, enqueue
from backend.core.settings import get_settings
from backend.identity.models import User, UserSession
from jobs.broker import build_broker

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WORKER_START_TIMEOUT_S = 60.0
JOB_TIMEOUT_S = 60.0


def _server_url(redis_url: str) -> str:
    """The Redis server of ``redis_url`` without a db: the broker's db comes from settings."""
    parts = urlsplit(redis_url)
    return f"redis://{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"


def _poll(
    what: str,
    timeout_s: float,
    check: Callable[[], bool],
    diagnostics: Callable[[], str] = str,
) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}\n{diagnostics()}")
        time.sleep(0.1)


@pytest.fixture
def broker_env(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_own_db: int, migrated_pg_database: str
) -> dict[str, str]:
    """ONCALL_* for this test's PostgreSQL database and Redis db, here and in the worker."""
    values = {
        "ONCALL_DATABASE__URL": migrated_pg_database,
        "ONCALL_REDIS__URL": _server_url(redis_url),
        "ONCALL_REDIS__BROKER_DB": str(redis_own_db),
        "ONCALL_OBSERVABILITY__LOG_JSON": "false",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    return values


@pytest.fixture
def redis_broker(broker_env: dict[str, str], stub_broker: StubBroker) -> Iterator[RedisBroker]:
    """The global broker is a RedisBroker from settings for the test; the stub again after."""
    broker = build_broker(get_settings())
    assert isinstance(broker, RedisBroker)
    dramatiq.set_broker(broker)
    try:
        yield broker
    finally:
        dramatiq.set_broker(stub_broker)
        broker.close()


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]


@pytest.fixture
def worker(broker_env: dict[str, str], tmp_path: Path) -> Iterator[WorkerProcess]:
    """``python -m dramatiq jobs.actors`` in its own process group, killed afterwards."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ONCALL_")}
    env.update(broker_env)
    env["PYTHONUNBUFFERED"] = "1"
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "jobs.actors", "--processes", "1", "--threads", "2"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    handle = WorkerProcess(process, log_path)
    try:
        yield handle
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
    except ProcessLookupError:
        process.wait(timeout=15)


def _add_sessions(engine: Engine) -> dict[str, int]:
    now = clock.now()
    # label: (expires_at, revoked_at). purge_expired deletes sessions that expired or were
    # revoked over 30 days ago.
    rows: dict[str, tuple[datetime, datetime | None]] = {
        "expired_long_ago": (now - timedelta(days=40), None),
        "revoked_long_ago": (now + timedelta(hours=1), now - timedelta(days=31)),
        "expired_yesterday": (now - timedelta(days=1), None),
        "live": (now + timedelta(hours=12), None),
    }
    with Session(engine) as session:
        user = User(email="worker-it@example.org", name="Worker IT")
        session.add(user)
        session.flush()
        assert user.id is not None
        records: dict[str, UserSession] = {}
        for label, (expires_at, revoked_at) in rows.items():
            record = UserSession(
                token_hash=label.ljust(64, "0"),
                user_id=user.id,
                auth_method="test",
                expires_at=expires_at,
                revoked_at=revoked_at,
            )
            session.add(record)
            records[label] = record
        session.commit()
        return {label: record.id for label, record in records.items() if record.id is not None}


def _remaining(engine: Engine, ids: dict[str, int]) -> set[str]:
    by_id = {row_id: label for label, row_id in ids.items()}
    with Session(engine) as session:
        found = session.exec(select(UserSession.id).where(col(UserSession.id).in_(by_id))).all()
    return {by_id[row_id] for row_id in found if row_id is not None}


def _redis_db(redis_url: str, db: int) -> redis.Redis:
    return redis.Redis.from_url(f"{_server_url(redis_url)}/{db}")


def _queue_sizes(client: redis.Redis, queue: str) -> tuple[int, int]:
    # RedisBroker keeps message ids in a list and bodies in a hash beside it.
    ids, bodies = client.llen(f"dramatiq:{queue}"), client.hlen(f"dramatiq:{queue}.msgs")
    assert isinstance(ids, int)
    assert isinstance(bodies, int)
    return ids, bodies


def test_worker_purges_expired_sessions(
    redis_broker: RedisBroker,
    worker: WorkerProcess,
    broker_env: dict[str, str],
    redis_own_db: int,
    redis_url: str,
) -> None:
    engine = build_engine(broker_env["ONCALL_DATABASE__URL"])
    try:
        ids = _add_sessions(engine)
        assert len(ids) == 4

        message = enqueue(JobName.PURGE_EXPIRED_SESSIONS)
        assert message.queue_name == JOB_QUEUES[JobName.PURGE_EXPIRED_SESSIONS].value == "bulk"
        assert message.actor_name == "purge_expired_sessions"

        def purged() -> bool:
            if worker.process.poll() is not None:
                pytest.fail(
                    f"the worker exited with {worker.process.returncode}:\n{worker.output()}"
                )
            return _remaining(engine, ids) == {"expired_yesterday", "live"}

        _poll(
            "the worker to purge the expired sessions",
            WORKER_START_TIMEOUT_S + JOB_TIMEOUT_S,
            purged,
            worker.output,
        )
        assert _remaining(engine, ids) == {"expired_yesterday", "live"}

        # The message was acknowledged: nothing left in the queue or its body hash.
        client = _redis_db(redis_url, redis_own_db)
        try:
            _poll("the message to be acked", 10, lambda: _queue_sizes(client, "bulk") == (0, 0))
            assert _queue_sizes(client, "bulk") == (0, 0)
        finally:
            client.close()
    finally:
        engine.dispose()


def test_broker_keeps_its_queues_in_broker_db_not_in_the_urls_db(
    broker_env: dict[str, str], redis_own_db: int, redis_url: str
) -> None:
    # The URL names no db (db 0 belongs to Reflex state); the broker must use broker_db.
    settings = get_settings()
    assert settings.redis.url == _server_url(redis_url)
    assert settings.redis.broker_db == redis_own_db
    broker = build_broker(settings)
    own = _redis_db(redis_url, redis_own_db)
    db0 = _redis_db(redis_url, 0)
    sent: Message[Any] | None = None
    try:
        sent = broker.enqueue(
            Message(
                queue_name="bulk",
                actor_name=JobName.PURGE_AUDIT_LOG.value,
                args=(),
                kwargs={},
                options={},
            )
        )
        key = sent.options["redis_message_id"]
        assert own.hexists("dramatiq:bulk.msgs", key) is True
        assert own.lrange("dramatiq:bulk", 0, -1) == [key.encode()]
        assert db0.hexists("dramatiq:bulk.msgs", key) is False
    finally:
        if sent is not None:
            # Only if the broker wrongly wrote to db 0: remove exactly our message there.
            key = sent.options["redis_message_id"]
            db0.hdel("dramatiq:bulk.msgs", key)
            db0.lrem("dramatiq:bulk", 0, key)
        broker.close()
        own.close()
        db0.close()

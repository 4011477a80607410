"""Own PostgreSQL databases, own Redis logical databases and dead ports, for tests that need
real services.

Other suites share PostgreSQL database ``test`` and Redis db 15, so every test here creates its
own PostgreSQL database (dropped WITH (FORCE) afterwards) and, when it writes Redis keys, picks
an empty logical Redis database and flushes only that one. Conftests import the fixtures by
name (``from tests.support.databases import pg_database``) to make them available.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from backend.cli import alembic_config

# Logical Redis databases a test may claim for broker tests: not 0 (Reflex state),
# not 1 (the default broker db) and not 15 (the shared test db).
_CLAIMABLE_REDIS_DBS = tuple(range(2, 15))


def admin_connection(pg_url: str) -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(pg_url)
    return psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname=url.database,
        autocommit=True,
        connect_timeout=5,
    )


def _create_database(pg_url: str) -> tuple[str, str]:
    name = f"oncall_it_{secrets.token_hex(6)}"
    with admin_connection(pg_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(pg_url).set(drivername="postgresql+psycopg", database=name)
    return name, url.render_as_string(hide_password=False)


def _drop_database(pg_url: str, name: str) -> None:
    with admin_connection(pg_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database of this test's own."""
    name, url = _create_database(pg_url)
    try:
        yield url
    finally:
        _drop_database(pg_url, name)


def alembic_config_for(url: str) -> Config:
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", url)
    return config


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config_for(url), revision)


@pytest.fixture
def migrated_pg_database(pg_database: str) -> str:
    """An own PostgreSQL database migrated to head."""
    migrate(pg_database)
    return pg_database


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local TCP port that refuses connections: bound (so nobody else takes it), not listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def free_port() -> int:
    """A local TCP port that was free a moment ago (for a server the test starts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def redis_own_db(redis_url: str) -> Iterator[int]:
    """An empty logical Redis database for this test; flushed (only it) afterwards."""
    base = urlsplit(redis_url)
    host, port = base.hostname or "127.0.0.1", base.port or 6379
    for db in secrets.SystemRandom().sample(_CLAIMABLE_REDIS_DBS, len(_CLAIMABLE_REDIS_DBS)):
        client = redis.Redis(host=host, port=port, db=db, socket_timeout=5)
        # Claim it with a marker key so a concurrent run picks another one.
        if client.dbsize() == 0 and client.set("oncall_it:claimed", "1", nx=True, ex=600):
            try:
                yield db
            finally:
                client.flushdb()
                client.close()
            return
        client.close()
    pytest.fail("no empty Redis logical database among 2..14 to run the broker test in")

"""The ingest and escalation-start behaviour tests again, on a migrated PostgreSQL database.

On PostgreSQL a delivery of one firing alert is stored by one statement (the
``oncall_ingest_trigger`` function, ADR 0010); on SQLite, and for every other delivery, by the
Python path. These are the same test functions as ``tests/service/test_ingest.py``,
``tests/service/test_ingest_escalation_start.py`` and ``tests/service/test_escalation_engine.py``
(imported, not copied), run here with the
``engine`` fixture replaced by a PostgreSQL one, so both paths answer to the same behaviour.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import Engine, make_url

from backend.core import db
from backend.core.settings import get_settings
from backend.ingest import cache, single_statement
from tests.conftest import PG_URL, require_service
from tests.factories.ingest import make_integration, send_generic
from tests.integration.conftest import migrate
from tests.service.test_escalation_engine import *  # noqa: F403  # the same tests, on PostgreSQL
from tests.service.test_ingest import *  # noqa: F403  # the same tests, on PostgreSQL
from tests.service.test_ingest_escalation_start import *  # noqa: F403  # the same, on PostgreSQL

pytestmark = pytest.mark.integration


def _admin(pg_url: str) -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(pg_url)
    return psycopg.connect(
        host=url.host, port=url.port or 5432, user=url.username, dbname=url.database,
        autocommit=True, connect_timeout=5,
    )  # fmt: skip


@pytest.fixture(scope="module")
def migrated_template() -> Iterator[str]:
    """One database migrated to head; each test gets a copy (CREATE DATABASE … TEMPLATE)."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    pg_url = PG_URL
    name = f"oncall_it_tpl_{secrets.token_hex(6)}"
    with _admin(pg_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(pg_url).set(drivername="postgresql+psycopg", database=name)
        migrate(url.render_as_string(hide_password=False), "heads")
        yield name
    finally:
        with _admin(pg_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(
    settings_env: None,
    pg_url: str,
    migrated_template: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Engine]:
    """Replaces the suite's SQLite ``engine``: a fresh migrated PostgreSQL database per test."""
    name = f"oncall_it_{secrets.token_hex(6)}"
    with _admin(pg_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
    url = make_url(pg_url).set(drivername="postgresql+psycopg", database=name)
    rendered = url.render_as_string(hide_password=False)
    monkeypatch.setenv("ONCALL_DATABASE__URL", rendered)
    monkeypatch.setenv("ONCALL_SECRET_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    eng = db.build_engine(rendered)
    db.set_engine(eng)
    cache.clear_all()
    try:
        yield eng
    finally:
        db.set_engine(None)
        cache.clear_all()
        with _admin(pg_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_one_firing_alert_takes_the_single_statement_path_here(engine: Engine) -> None:
    """Guards the point of this module: on PostgreSQL the hot path is the one under test."""
    calls: list[object] = []
    store = single_statement.store

    def counting(d: object) -> object:
        calls.append(d)
        return store(d)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(single_statement, "store", counting)
        created = make_integration()
        result = send_generic(created, {"title": "Disk full", "dedup_key": "disk"})
    assert len(calls) == 1
    assert [a.outcome for a in result.alerts] == ["new"]

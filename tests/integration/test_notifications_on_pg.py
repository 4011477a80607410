"""The delivery behaviour tests again, on a migrated PostgreSQL database.

On PostgreSQL a delivery's claim (with the e-mail's magic links) and its successful record are
one statement each (``backend/notifications/delivery_statements.py``, ADR 0015); on SQLite they
go through the ORM's unit of work. These are the same test functions as the service tests of
the dispatcher, its fallback, lease, breaker and web push, the step's held first delivery, and
the API tests of the e-mail's links (imported, not copied), run here with the ``engine``
fixture replaced by a PostgreSQL one, so both paths answer to the same behaviour.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest
from _pytest.fixtures import FixtureFunctionDefinition
from sqlalchemy.engine import Engine

from backend.notifications import delivery_statements, dispatch
from backend.notifications.models import ChannelKind
from tests.api.conftest import client
from tests.factories.notifications import verified_method
from tests.integration import test_ingest_on_pg as on_pg
from tests.service.test_notification_breaker import twilio
from tests.service.test_notifications import World, world

SAME_TESTS = (
    "tests.api.test_remote_actions",
    "tests.service.test_notification_breaker",
    "tests.service.test_notification_fallback",
    "tests.service.test_notification_lease",
    "tests.service.test_notification_web_push",
    "tests.service.test_notifications",
    "tests.service.test_notifications_demo",
    "tests.service.test_step_delivers_first",
)


def _tests_and_fixtures(module: ModuleType) -> dict[str, object]:
    """A module's test functions and its own fixtures, by name (a star import would take
    only its ``__all__``, the fixtures it re-exports)."""
    return {
        name: value
        for name, value in vars(module).items()
        if name.startswith("test_") or isinstance(value, FixtureFunctionDefinition)
    }


for _name in SAME_TESTS:
    globals().update(_tests_and_fixtures(importlib.import_module(_name)))
# Last: the modules above bring the suite's SQLite ``engine`` along.
engine, migrated_template = on_pg.engine, on_pg.migrated_template
__all__ = ["client", "engine", "migrated_template", "twilio", "world"]
pytestmark = pytest.mark.integration


def test_a_delivery_takes_the_one_statement_path_here(engine: Engine, world: World) -> None:
    """Guards the point of this module: on PostgreSQL the statements are the ones under test."""
    calls: list[str] = []
    claim, record = delivery_statements.claim, delivery_statements.record_done

    def counting_claim(*args: object, **kwargs: object) -> object:
        calls.append("claim")
        return claim(*args, **kwargs)  # type: ignore[arg-type]

    def counting_record(**kwargs: object) -> bool:
        calls.append("record")
        return record(**kwargs)  # type: ignore[arg-type]

    verified_method(world.crew.id("ann"), ChannelKind.SMS, "+15550001")
    _, deliveries = world.page()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(delivery_statements, "claim", counting_claim)
        patch.setattr(delivery_statements, "record_done", counting_record)
        outcomes = [dispatch.deliver(d.notification_id) for d in deliveries]
    assert outcomes[0] is dispatch.DeliverOutcome.DONE
    assert calls[:2] == ["claim", "record"]

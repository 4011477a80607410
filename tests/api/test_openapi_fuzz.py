"""Schemathesis over ``/api/openapi.json``: every operation, no 5xx, every answer as documented.

One pytest item per operation, each against a fresh database, authenticated with an API key
holding every scope and a signed-in admin's session cookie (the browser routes). Generation is
derandomized with no example database so CI sees the same cases on every run; schemathesis
generates valid and invalid inputs (positive and negative modes). About 100 operations x up to
15 examples: 2-3 minutes on the 2-core CI box.

Checks: no 5xx; every status code, content type (application/problem+json for errors),
response header and body as the OpenAPI document says.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.api.app import create_api
from backend.apikeys.scopes import Scope
from backend.core.actor import PlatformRole
from backend.core.db import unit_of_work
from backend.core.settings import get_settings
from backend.identity import sessions
from tests.api.conftest import issue_key
from tests.factories.escalation import make_policy
from tests.factories.identity import make_user
from tests.factories.ingest import make_integration, send_generic
from tests.factories.schedules import make_crew, make_schedule

schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_api())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def seed() -> None:
    """One of each thing, so small generated ids (1, 2…) reach real rows, not only 404s."""
    crew = make_crew()
    make_schedule(crew)
    make_policy(crew.team_id)
    created = make_integration()
    send_generic(created, {"title": "Disk full", "severity": "high"})


@pytest.fixture
def credentials() -> tuple[dict[str, str], dict[str, str]]:
    """Headers with an all-scope API key, and cookies with a platform admin's session."""
    seed()
    admin = make_user("Fuzz Admin", platform_role=PlatformRole.PLATFORM_ADMIN)
    with unit_of_work() as uow:
        token = sessions.open_session(uow, admin, method="test", ip=None, user_agent=None)
    key = issue_key(*Scope)
    return {"Authorization": f"Bearer {key}"}, {get_settings().auth.session_cookie: token}


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    database=None,
    deadline=None,
    # Each example is an HTTP round trip: shrinking a failure would cost minutes, and the
    # failing case is reported (with a curl line) without it.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation(
    case: schemathesis.Case, credentials: tuple[dict[str, str], dict[str, str]]
) -> None:
    headers, cookies = credentials
    case.call_and_validate(headers=headers, cookies=cookies, checks=CHECKS)

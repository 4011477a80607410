"""Deleting a team that still owns a service is refused with a clear conflict."""

from __future__ import annotations

import pytest

from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceCreate
from backend.core.errors import ErrorCode
from backend.teams import service as teams
from backend.teams.errors import TeamInUse
from tests.factories.identity import actor_of, make_team, make_user


def test_deleting_a_team_that_owns_a_service_is_a_409_and_changes_nothing() -> None:
    admin = make_user("Admin")
    team_id = make_team(admin, "Core")
    catalog.create_service(actor_of(admin), ServiceCreate(name="API", team_id=team_id))
    with pytest.raises(TeamInUse) as info:
        teams.delete_team(actor_of(admin), team_id)
    assert info.value.code is ErrorCode.TEAM_IN_USE
    detail = teams.get_team(actor_of(admin), team_id)
    assert [m.name for m in detail.members] == ["Admin"]

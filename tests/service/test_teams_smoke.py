from backend.teams import service as teams
from tests.factories.identity import actor_of, make_team, make_user


def test_creator_becomes_team_admin() -> None:
    owner = make_user("Owner")
    team_id = make_team(owner, "Payments")
    detail = teams.get_team(actor_of(owner), team_id)
    assert [(m.name, m.role.value) for m in detail.members] == [("Owner", "TEAM_ADMIN")]

"""Home: the teams I belong to, my role in each and their health; who is on call now in my
teams' schedules."""

from __future__ import annotations

import reflex as rx

from backend.core.actor import Actor
from backend.core.events import DomainEvent
from backend.incidents import queries as incident_queries
from backend.incidents.models import IncidentStatus
from backend.incidents.schemas import IncidentFilter
from backend.teams import service as teams
from backend.teams.schemas import MyTeamOut
from oncall_app.services import call
from oncall_app.state.incidents import IncidentRow, row_of
from oncall_app.state.schedules import ScheduleRow, my_teams_oncall
from oncall_app.state.session import SessionState

OPEN_SHOWN = 5


def _home(actor: Actor) -> tuple[list[MyTeamOut], list[ScheduleRow]]:
    mine = teams.my_teams(actor)
    return mine, my_teams_oncall(actor, [t.id for t in mine])


def _open_incidents(actor: Actor) -> tuple[list[IncidentRow], bool]:
    """The newest active incidents and whether there are more."""
    active = IncidentFilter(statuses=[IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED])
    page = incident_queries.list_incidents(actor, active, limit=OPEN_SHOWN)
    return [row_of(i) for i in page.items], page.next_cursor is not None


class HomeState(SessionState):
    my_teams: list[MyTeamOut] = []
    oncall_now: list[ScheduleRow] = []
    open_incidents: list[IncidentRow] = []
    more_incidents: bool = False
    loaded: bool = False

    @rx.var
    def i_am_on_call(self) -> bool:
        return any(row.oncall_mine for row in self.oncall_now)

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._watch(HomeState, ("teams", "schedules", "incidents"))
        try:
            actor = await self._actor()
            self.my_teams, self.oncall_now = await call(_home, actor)
            self.open_incidents, self.more_incidents = await call(_open_incidents, actor)
        except Exception as exc:
            return self._fail(exc)
        self.loaded = True
        return None

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        # The lists are small: re-read them; no toast on the home page.
        if event.name.startswith("incidents."):
            self.open_incidents, self.more_incidents = await call(_open_incidents, actor)
        else:
            self.my_teams, self.oncall_now = await call(_home, actor)
        return ""

"""Home: the teams I belong to, my role in each and their health; who is on call now in my
teams' schedules."""

from __future__ import annotations

import reflex as rx

from backend.core.actor import Actor
from backend.core.events import DomainEvent
from backend.teams import service as teams
from backend.teams.schemas import MyTeamOut
from oncall_app.services import call
from oncall_app.state.schedules import ScheduleRow, my_teams_oncall
from oncall_app.state.session import SessionState


def _home(actor: Actor) -> tuple[list[MyTeamOut], list[ScheduleRow]]:
    mine = teams.my_teams(actor)
    return mine, my_teams_oncall(actor, [t.id for t in mine])


class HomeState(SessionState):
    my_teams: list[MyTeamOut] = []
    oncall_now: list[ScheduleRow] = []
    loaded: bool = False

    @rx.var
    def i_am_on_call(self) -> bool:
        return any(row.oncall_mine for row in self.oncall_now)

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._watch(HomeState, ("teams", "schedules"))
        try:
            self.my_teams, self.oncall_now = await call(_home, await self._actor())
        except Exception as exc:
            return self._fail(exc)
        self.loaded = True
        return None

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        del event  # the list is small: re-read it; no toast on the home page
        self.my_teams, self.oncall_now = await call(_home, actor)
        return ""

"""Home: the teams I belong to, my role in each and their health."""

from __future__ import annotations

import reflex as rx

from backend.core.actor import Actor
from backend.core.events import DomainEvent
from backend.teams import service as teams
from backend.teams.schemas import MyTeamOut
from oncall_app.services import call
from oncall_app.state.session import SessionState


class HomeState(SessionState):
    my_teams: list[MyTeamOut] = []
    loaded: bool = False

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._watch(HomeState, ("teams",))
        try:
            self.my_teams = await call(teams.my_teams, await self._actor())
        except Exception as exc:
            return self._fail(exc)
        self.loaded = True
        return None

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        del event  # the list is small: re-read it; no toast on the home page
        self.my_teams = await call(teams.my_teams, actor)
        return ""

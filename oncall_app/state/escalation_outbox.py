"""/outbox: the page requests escalation produced, newest first, live on ``incidents``.

Each page request becomes notifications (one per verified method); see /notifications.
"""

from __future__ import annotations

import reflex as rx
from pydantic import BaseModel

from backend.core.actor import Actor
from backend.core.events import DomainEvent
from backend.escalation import outbox
from backend.escalation.schemas import PageRequestOut
from oncall_app.services import call
from oncall_app.state.session import SessionState

PAGE_SIZE = 50


class OutboxRow(BaseModel):
    id: int
    incident_id: int
    incident_title: str
    user_name: str
    level: int
    repeat: int
    status: str
    reason: str
    created_at: str


def outbox_row(p: PageRequestOut) -> OutboxRow:
    return OutboxRow(
        id=p.id,
        incident_id=p.incident_id,
        incident_title=p.incident_title,
        user_name=p.user_name,
        level=p.level,
        repeat=p.repeat,
        status=p.status,
        reason=p.reason,
        created_at=p.created_at.isoformat(),
    )


class OutboxState(SessionState):
    items: list[OutboxRow] = []
    loaded: bool = False
    more: bool = False
    mine_only: bool = False

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._watch(OutboxState, ("incidents",))
        try:
            await self._first(await self._actor())
        except Exception as exc:
            return self._fail(exc)
        return None

    async def _first(self, actor: Actor, limit: int = PAGE_SIZE) -> None:
        rows = await call(
            outbox.list_page_requests,
            actor,
            user_id=self.user_id if self.mine_only else None,
            limit=limit + 1,
        )
        self.items = [outbox_row(p) for p in rows[:limit]]
        self.more = len(rows) > limit
        self.loaded = True

    @rx.event
    async def set_mine_only(self, value: bool):
        self.mine_only = bool(value)
        try:
            await self._first(await self._actor())
        except Exception as exc:
            return self._fail(exc)
        return None

    @rx.event
    async def load_more(self):
        if not self.items:
            return None
        try:
            rows = await call(
                outbox.list_page_requests,
                await self._actor(),
                user_id=self.user_id if self.mine_only else None,
                before_id=self.items[-1].id,
                limit=PAGE_SIZE + 1,
            )
        except Exception as exc:
            return self._fail(exc)
        self.items = [*self.items, *(outbox_row(p) for p in rows[:PAGE_SIZE])]
        self.more = len(rows) > PAGE_SIZE
        return None

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        if event.name in (
            "incidents.incident.escalated",
            "incidents.incident.opened",
            "incidents.incident.reopened",
        ):
            await self._first(actor, max(PAGE_SIZE, min(len(self.items), 200)))
        return ""

"""The audit log: search by text and severity, newest first, keyset "load more", live rows."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.audit import service as audit
from backend.audit.models import Severity
from backend.audit.queries import AuditFilter
from backend.audit.schemas import AuditEntryOut
from backend.core.actor import Actor
from backend.core.events import DomainEvent
from oncall_app.services import call
from oncall_app.state.session import SessionState

PAGE_SIZE = 50


class AuditState(SessionState):
    entries: list[AuditEntryOut] = []
    text: str = ""
    severity: str = ""
    loaded: bool = False
    has_more: bool = False

    def _filter(self) -> AuditFilter:
        severity = Severity(self.severity) if self.severity in Severity.__members__ else None
        return AuditFilter(text=self.text.strip(), severity=severity)

    async def _page(self, actor: Actor, before_id: int | None) -> list[AuditEntryOut]:
        # One extra row tells whether a next page exists without a count query.
        rows = await call(
            audit.search_entries, actor, self._filter(), before_id=before_id, limit=PAGE_SIZE + 1
        )
        self.has_more = len(rows) > PAGE_SIZE
        return rows[:PAGE_SIZE]

    async def _first_page(self) -> list[Any] | None:
        try:
            self.entries = await self._page(await self._actor(), None)
        except Exception as exc:
            return self._fail(exc)
        self.loaded = True
        return None

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._watch(AuditState, ("audit",))
        return await self._first_page()

    @rx.event
    async def search(self, form: dict[str, Any]):
        self.text = str(form.get("text", ""))
        self.severity = str(form.get("severity", ""))
        return await self._first_page()

    @rx.event
    async def load_more(self):
        if not self.entries:
            return None
        try:
            older = await self._page(await self._actor(), self.entries[-1].id)
        except Exception as exc:
            return self._fail(exc)
        self.entries = self.entries + older
        return None

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        """Put new rows on top and keep the pages already loaded below them."""
        newest = self.entries[0].id if self.entries else 0
        rows = await call(audit.search_entries, actor, self._filter(), limit=PAGE_SIZE)
        fresh = [r for r in rows if r.id > newest]
        if len(fresh) == len(rows) and self.entries:
            # More new rows than a page: start over rather than leave a gap.
            self.entries = await self._page(actor, None)
        else:
            self.entries = fresh + self.entries
        if not fresh:
            return ""
        return f"{event.actor_label or 'Someone'}: {event.payload.get('action', event.name)}"

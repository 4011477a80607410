"""Reading alerts for the API and the UI (search with cursor pagination)."""

from __future__ import annotations

from dataclasses import replace

from backend.core.actor import Actor
from backend.core.db import unit_of_work
from backend.ingest import access, queries
from backend.ingest.errors import AlertNotFound
from backend.ingest.models import Alert
from backend.ingest.queries import AlertFilter
from backend.ingest.schemas import AlertOut, AlertPage


def _out(row: Alert) -> AlertOut:
    return AlertOut.model_validate(row, from_attributes=True)


def search_alerts(
    actor: Actor, flt: AlertFilter, *, cursor: str | None = None, limit: int = 50
) -> AlertPage:
    """Alerts the actor may see (their teams' services; everything for platform admins),
    newest first. ``next_cursor`` continues with older alerts; None when there are no more.

    Raises:
        Unauthenticated, ValidationFailed (a cursor we did not issue).
    """
    limit = max(1, min(limit, 200))
    before_id = queries.decode_cursor(cursor) if cursor else None
    with unit_of_work() as uow:
        visible = access.visible_service_ids(uow.session, actor)
        if visible is not None:
            flt = replace(flt, service_ids=tuple(visible))
        rows = queries.search(uow.session, flt, before_id=before_id, limit=limit + 1)
        items = [_out(row) for row in rows[:limit]]
    more = len(rows) > limit
    next_cursor = queries.encode_cursor(items[-1].id) if more and items else None
    return AlertPage(items=items, next_cursor=next_cursor)


def get_alert(actor: Actor, alert_id: int) -> AlertOut:
    """One alert with its normalised fields (the raw payload stays in the delivery log).

    Raises:
        Unauthenticated, AlertNotFound (no such alert, or not visible).
    """
    with unit_of_work() as uow:
        row = uow.session.get(Alert, alert_id)
        visible = access.visible_service_ids(uow.session, actor)
        if row is None or (visible is not None and row.service_id not in visible):
            raise AlertNotFound(f"Alert {alert_id} does not exist.")
        return _out(row)

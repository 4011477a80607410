"""Saved incident-list filters, one set per user (the dashboard's presets)."""

from __future__ import annotations

from sqlmodel import col, select

from backend.core.actor import Actor, require_authenticated
from backend.core.db import unit_of_work
from backend.core.errors import ValidationFailed
from backend.incidents.errors import PresetNotFound
from backend.incidents.models import IncidentFilterPreset
from backend.incidents.schemas import IncidentFilter, PresetIn, PresetOut

MAX_PRESETS = 50


def _user_id(actor: Actor) -> int:
    require_authenticated(actor)
    if actor.user_id is None:
        raise ValidationFailed("Only users save filter presets.")
    return actor.user_id


def _out(row: IncidentFilterPreset) -> PresetOut:
    return PresetOut(
        id=row.id or 0,
        name=row.name,
        filters=IncidentFilter.model_validate(row.filters),
        created_at=row.created_at,
    )


def list_presets(actor: Actor) -> list[PresetOut]:
    """The actor's saved filters, by name.

    Raises:
        Unauthenticated, ValidationFailed (not a user).
    """
    user_id = _user_id(actor)
    with unit_of_work() as uow:
        rows = uow.session.exec(
            select(IncidentFilterPreset)
            .where(IncidentFilterPreset.user_id == user_id)
            .order_by(col(IncidentFilterPreset.name))
        ).all()
        return [_out(row) for row in rows]


def save_preset(actor: Actor, data: PresetIn) -> PresetOut:
    """Save a filter under a name; saving an existing name replaces its filter.

    Raises:
        Unauthenticated, ValidationFailed (not a user, too many presets).
    """
    user_id = _user_id(actor)
    with unit_of_work() as uow:
        mine = uow.session.exec(
            select(IncidentFilterPreset).where(IncidentFilterPreset.user_id == user_id)
        ).all()
        row = next((p for p in mine if p.name == data.name), None)
        if row is None:
            if len(mine) >= MAX_PRESETS:
                raise ValidationFailed.field("name", f"at most {MAX_PRESETS} presets")
            row = IncidentFilterPreset(user_id=user_id, name=data.name)
        row.filters = data.filters.model_dump(mode="json")
        uow.session.add(row)
        uow.session.flush()
        return _out(row)


def delete_preset(actor: Actor, preset_id: int) -> None:
    """Delete one of the actor's presets.

    Raises:
        Unauthenticated, ValidationFailed (not a user), PresetNotFound (not theirs either).
    """
    user_id = _user_id(actor)
    with unit_of_work() as uow:
        row = uow.session.get(IncidentFilterPreset, preset_id)
        if row is None or row.user_id != user_id:
            raise PresetNotFound(f"You have no saved filter {preset_id}.")
        uow.session.delete(row)

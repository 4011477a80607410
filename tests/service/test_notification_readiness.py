"""USER-03 "can be on call": a team's required channels, the paging preview's warning and the
signed-in user's own gaps on /notifications."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlmodel import col, select

from backend.audit.models import AuditEntry
from backend.core.db import unit_of_work
from backend.core.errors import PermissionDenied
from backend.escalation import preview
from backend.notifications import readiness
from backend.notifications.models import ChannelKind
from backend.teams import service as teams
from backend.teams.schemas import TeamUpdate
from tests.factories.identity import actor_of
from tests.factories.notifications import verified_method
from tests.service.test_notifications import World, world

__all__ = ["world"]


def require(world: World, *kinds: ChannelKind) -> list[str]:
    detail = teams.update_team(
        actor_of(world.crew.admin), world.crew.team_id, TeamUpdate(required_channels=list(kinds))
    )
    return detail.required_channels


def test_a_member_without_a_required_channel_is_warned_about(world: World) -> None:
    ann, admin = world.crew.id("ann"), actor_of(world.crew.admin)
    verified_method(ann, ChannelKind.EMAIL, "ann@example.org")
    assert preview.preview_paging(admin, world.service_id).warnings == []
    assert readiness.my_gaps(actor_of(world.crew.ann), ann) == []

    assert require(world, ChannelKind.SMS, ChannelKind.VOICE, ChannelKind.SMS) == ["sms", "voice"]
    assert preview.preview_paging(admin, world.service_id).warnings == [
        "level 1: Ann cannot be on call: the team requires a verified SMS and voice method"
    ]
    assert readiness.my_gaps(actor_of(world.crew.ann), ann) == [
        "Team Platform requires a verified SMS and voice method: you cannot be on call for it yet."
    ]
    verified_method(ann, ChannelKind.SMS, "+15550001")
    assert preview.preview_paging(admin, world.service_id).warnings == [
        "level 1: Ann cannot be on call: the team requires a verified voice method"
    ]
    verified_method(ann, ChannelKind.VOICE, "+15550001")
    assert preview.preview_paging(admin, world.service_id).warnings == []
    assert readiness.my_gaps(actor_of(world.crew.ann), ann) == []


def test_an_unreachable_member_gets_only_the_stronger_warning(world: World) -> None:
    require(world, ChannelKind.SMS)
    assert preview.preview_paging(actor_of(world.crew.admin), world.service_id).warnings == [
        "level 1: Ann has no verified contact method: nobody can notify them"
    ]


def test_required_channels_are_audited_and_checked(world: World) -> None:
    require(world, ChannelKind.SMS)
    with unit_of_work() as uow:
        entry = uow.session.exec(
            select(AuditEntry)
            .where(AuditEntry.action == "teams.team.updated")
            .order_by(col(AuditEntry.id).desc())
        ).first()
    assert entry is not None
    assert entry.diff["required_channels"] == [[], ["sms"]]  # before, after
    with pytest.raises(ValidationError):
        TeamUpdate.model_validate({"required_channels": ["pager"]})
    with pytest.raises(PermissionDenied):
        teams.update_team(
            actor_of(world.crew.ann), world.crew.team_id, TeamUpdate(required_channels=[])
        )
    with pytest.raises(PermissionDenied):
        readiness.my_gaps(actor_of(world.crew.ben), world.crew.id("ann"))

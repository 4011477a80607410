"""/notifications for a non-admin: my own outbox messages and quiet hours (authorised in the
service), and a rule step naming one contact method rather than a channel (USER-04)."""

from __future__ import annotations

import pytest

from backend.core.errors import PermissionDenied
from backend.core.settings import get_settings
from backend.notifications import dispatch, personal
from backend.notifications import service as notifications
from backend.notifications.dispatch import DeliverOutcome
from backend.notifications.models import ChannelKind, Urgency
from backend.notifications.schemas import ContactMethodIn, QuietHoursIn, RuleIn
from tests.factories.identity import actor_of
from tests.factories.notifications import drain_paging, verified_method
from tests.service.test_notifications import World, notification_rows, world

__all__ = ["world"]


def add_and_send(world: World, who: str, address: str) -> None:
    user = getattr(world.crew, who)
    notifications.add_contact_method(
        actor_of(user), world.crew.id(who), ContactMethodIn(kind=ChannelKind.EMAIL, address=address)
    )
    _, (sent,) = drain_paging(world.broker)
    assert dispatch.deliver(sent.notification_id) is DeliverOutcome.DONE


def test_a_user_sees_only_their_own_outbox_messages(world: World) -> None:
    ann, ben = world.crew.id("ann"), world.crew.id("ben")
    add_and_send(world, "ann", "ann@example.org")
    add_and_send(world, "ben", "ben@example.org")
    add_and_send(world, "ann", "ann@home.example")
    mine = personal.my_outbox(actor_of(world.crew.ann), ann)
    assert [m.to for m in mine] == ["ann@home.example", "ann@example.org"]
    assert all("verification code is" in m.body for m in mine)
    assert [m.to for m in personal.my_outbox(actor_of(world.crew.ben), ben)] == ["ben@example.org"]
    with pytest.raises(PermissionDenied):
        personal.my_outbox(actor_of(world.crew.ben), ann)
    with pytest.raises(PermissionDenied):  # admins have the whole outbox elsewhere
        personal.my_outbox(actor_of(world.crew.root), ann)


def test_no_outbox_messages_when_no_channel_uses_the_outbox(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_and_send(world, "ann", "ann@example.org")
    for kind in ChannelKind:
        monkeypatch.setenv(f"ONCALL_NOTIFICATIONS__{kind.value.upper()}_PROVIDER", "real")
    get_settings.cache_clear()
    assert personal.outbox_channels(get_settings().notifications) == []
    assert personal.my_outbox(actor_of(world.crew.ann), world.crew.id("ann")) == []


def test_quiet_hours_read_back_for_the_user(world: World) -> None:
    ann, actor = world.crew.id("ann"), actor_of(world.crew.ann)
    assert personal.my_quiet_hours(actor, ann) is None
    notifications.set_quiet_hours(actor, ann, QuietHoursIn(start="22:30", end="07:05"))
    assert personal.my_quiet_hours(actor, ann) == QuietHoursIn(start="22:30", end="07:05")
    with pytest.raises(PermissionDenied):
        personal.my_quiet_hours(actor_of(world.crew.ben), ann)


def test_a_rule_step_naming_one_method_pages_only_that_method(world: World) -> None:
    ann, actor = world.crew.id("ann"), actor_of(world.crew.ann)
    verified_method(ann, ChannelKind.SMS, "+15550001")
    work_phone = verified_method(ann, ChannelKind.SMS, "+15550002")
    email = verified_method(ann, ChannelKind.EMAIL, "ann@example.org")
    notifications.set_rules(
        actor,
        ann,
        Urgency.HIGH,
        [
            RuleIn(urgency=Urgency.HIGH, contact_method_id=work_phone),
            RuleIn(urgency=Urgency.HIGH, contact_method_id=email, delay_minutes=2),
        ],
    )
    assert [(r.channel, r.contact_method_id) for r in notifications.list_rules(actor, ann)][:2] == [
        (None, work_phone),
        (None, email),
    ]
    incident_id, _ = world.page()
    assert [(r.contact_method_id, r.address, r.step) for r in notification_rows(incident_id)] == [
        (work_phone, "+15550002", 0),
        (email, "ann@example.org", 1),
    ]

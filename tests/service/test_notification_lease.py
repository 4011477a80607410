"""A delivery claim is a lease: while a worker holds it, a duplicate delivery message (a
sweeper re-send of a backlogged message, a redelivery) changes nothing, even when the incident
was acknowledged meanwhile; once the lease has run out, the claim is taken over."""

from __future__ import annotations

from datetime import timedelta

from backend.core.db import unit_of_work
from backend.incidents import service as incidents
from backend.notifications import dispatch
from backend.notifications.dispatch import DeliverOutcome
from backend.notifications.models import ChannelKind, Notification, NotificationStatus
from tests.factories.identity import actor_of
from tests.factories.notifications import verified_method
from tests.service.test_notifications import T0, World, notification_rows, world

__all__ = ["world"]


def test_a_duplicate_message_while_the_claim_is_held_does_not_skip_a_page_in_flight(
    world: World,
) -> None:
    verified_method(world.crew.id("ann"), ChannelKind.EMAIL, "ann@example.org")
    incident_id, deliveries = world.page(severity="low")
    notification_id = deliveries[0].notification_id
    # A worker claimed it while the incident was open and is inside the provider call.
    with unit_of_work() as uow:
        row = uow.session.get(Notification, notification_id)
        assert row is not None
        row.status, row.attempts = NotificationStatus.SENDING, 1
        row.next_attempt_at = T0 + timedelta(seconds=70)
        uow.session.add(row)
    incidents.acknowledge(actor_of(world.crew.ann), incident_id)

    assert dispatch.deliver(notification_id) is DeliverOutcome.STALE
    (row,) = notification_rows(incident_id)
    assert (row.status, row.attempts) == (NotificationStatus.SENDING, 1)

    world.at(71)  # the lease ran out: the worker is taken for dead, its claim taken over
    assert dispatch.deliver(notification_id) is DeliverOutcome.SKIPPED
    (row,) = notification_rows(incident_id)
    assert row.status is NotificationStatus.SKIPPED

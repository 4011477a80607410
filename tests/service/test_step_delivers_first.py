"""The escalation step's job delivers the page's first notification itself (ADR 0016): one
message less per page, and that notification does not queue behind a backlog. Everything else
goes through the queue as before; a failure hands the held one to the queue too."""

from __future__ import annotations

import pytest

import jobs.actors
from backend.notifications import dispatch
from backend.notifications.models import ChannelKind, NotificationStatus
from tests.factories.notifications import drain_paging, verified_method
from tests.service.test_notifications import (
    NOTIFY_KINDS,
    World,
    notification_rows,
    outbox,
    timeline,
    world,
)

__all__ = ["world"]


def _step_job(world: World) -> int:
    """Open an incident and run its first step the way the worker does (the actor)."""
    incident_id = world.alert()
    (step,), _ = drain_paging(world.broker)
    jobs.actors.escalate_step.fn(step.incident_id, step.token, step.step)
    return incident_id


def test_the_step_job_delivers_the_first_due_notification_itself(world: World) -> None:
    ann = world.crew.id("ann")
    verified_method(ann, ChannelKind.EMAIL, "ann@example.org")
    verified_method(ann, ChannelKind.SMS, "+15550001")
    incident_id = _step_job(world)

    email, sms_now, sms_later = notification_rows(incident_id)
    assert (email.channel, email.status, email.attempts) == (
        ChannelKind.EMAIL,
        NotificationStatus.DELIVERED,
        1,
    )
    assert [c for c, *_ in outbox()] == ["email"]
    assert timeline(incident_id, *NOTIFY_KINDS) == ["Paged Ann by e-mail."]
    # The others went to the queue as before: the SMS now, its reminder delayed to minute 5.
    _, deliveries = drain_paging(world.broker)
    assert [(d.notification_id, d.eta_ms is None) for d in deliveries] == [
        (sms_now.id, True),
        (sms_later.id, False),
    ]
    assert (sms_now.status, sms_later.status) == (NotificationStatus.QUEUED,) * 2


def test_a_held_delivery_that_fails_is_handed_to_the_queue(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified_method(world.crew.id("ann"), ChannelKind.SMS, "+15550001")

    def broken(notification_id: int) -> dispatch.DeliverOutcome:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(dispatch, "deliver", broken)
    incident_id = _step_job(world)  # the job itself does not fail

    first, later = notification_rows(incident_id)
    assert (first.status, first.attempts) == (NotificationStatus.QUEUED, 0)
    _, deliveries = drain_paging(world.broker)
    assert sorted(d.notification_id for d in deliveries) == sorted([first.id, later.id])
    monkeypatch.undo()
    assert dispatch.deliver(first.id) is dispatch.DeliverOutcome.DONE


def test_a_step_run_directly_holds_nothing(world: World) -> None:
    """``run_step`` without ``hold_first`` (tests, the embedded default's callers) enqueues
    every notification, as before."""
    verified_method(world.crew.id("ann"), ChannelKind.SMS, "+15550001")
    incident_id, deliveries = world.page()
    assert [d.notification_id for d in deliveries] == [r.id for r in notification_rows(incident_id)]

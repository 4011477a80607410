"""Contact methods and delivery messages for notification tests."""

from __future__ import annotations

from dataclasses import dataclass

from dramatiq import Message
from dramatiq.brokers.stub import StubBroker

from backend.core import clock
from backend.core.db import unit_of_work
from backend.core.jobs import JobName
from backend.notifications.models import ChannelKind, ContactMethod
from tests.factories.escalation import SentStep


def verified_method(user_id: int, kind: ChannelKind, address: str) -> int:
    """A contact method that is already verified (the verification flow has its own tests)."""
    with unit_of_work() as uow:
        method = ContactMethod(user_id=user_id, kind=kind, address=address, verified_at=clock.now())
        uow.session.add(method)
        uow.session.flush()
        assert method.id is not None
        return method.id


@dataclass(frozen=True)
class SentDelivery:
    notification_id: int
    eta_ms: int | None


def drain_paging(broker: StubBroker) -> tuple[list[SentStep], list[SentDelivery]]:
    """Take every message off the paging queues: (escalation steps, notification deliveries)."""
    steps: list[SentStep] = []
    deliveries: list[SentDelivery] = []
    for name in ("paging", "paging.DQ"):
        queue = broker.queues.get(name)
        while queue is not None and not queue.empty():
            message = Message.decode(queue.get_nowait())
            kwargs, eta = message.kwargs, message.options.get("eta")
            if message.actor_name == JobName.ESCALATE_STEP.value:
                steps.append(
                    SentStep(
                        int(kwargs["incident_id"]), str(kwargs["token"]), int(kwargs["step"]), eta
                    )
                )
            elif message.actor_name == JobName.DELIVER_NOTIFICATION.value:
                deliveries.append(SentDelivery(int(kwargs["notification_id"]), eta))
    return steps, deliveries

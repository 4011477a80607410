"""Escalation policies for tests, made through the product's service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import time_machine
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker

from backend.core.actor import Actor
from backend.core.jobs import JobName
from backend.escalation import engine, rearm
from backend.escalation import service as escalation
from backend.escalation.policy import TargetKind
from backend.escalation.schemas import LevelIn, PolicyCreate, TargetIn
from backend.teams import service as teams
from backend.teams.models import TeamRole
from backend.teams.schemas import MemberAdd
from tests.factories.identity import make_user


def make_policy(
    team_id: int,
    name: str = "Primary",
    *,
    levels: list[list[tuple[TargetKind, int]]] | None = None,
    timeouts: list[int] | None = None,
    repeat: int = 0,
    actor: Actor | None = None,
) -> int:
    """A policy of ``team_id``; without ``levels``, one level paging a new responder."""
    actor = actor or Actor.cli()
    if levels is None:
        user = make_user(f"{name} responder")
        assert user.id is not None
        teams.add_member(actor, team_id, MemberAdd(user_id=user.id, role=TeamRole.RESPONDER))
        levels = [[(TargetKind.USER, user.id)]]
    timeouts = timeouts or [30] * len(levels)
    created = escalation.create_policy(
        actor,
        PolicyCreate(
            team_id=team_id,
            name=name,
            repeat=repeat,
            levels=[
                LevelIn(
                    timeout_minutes=timeout,
                    targets=[TargetIn(type=kind, id=ident) for kind, ident in level],
                )
                for level, timeout in zip(levels, timeouts, strict=True)
            ],
        ),
    )
    return created.id


@dataclass(frozen=True)
class SentStep:
    incident_id: int
    token: str
    step: int
    eta_ms: int | None  # None: sent without delay


def drain_steps(broker: StubBroker) -> list[SentStep]:
    """Take every ESCALATE_STEP message the stub broker holds (immediate and delayed)."""
    found: list[SentStep] = []
    for name in ("paging", "paging.DQ"):
        queue = broker.queues.get(name)
        while queue is not None and not queue.empty():
            message = Message.decode(queue.get_nowait())
            if message.actor_name != JobName.ESCALATE_STEP.value:
                continue
            kwargs = message.kwargs
            found.append(
                SentStep(
                    int(kwargs["incident_id"]),
                    str(kwargs["token"]),
                    int(kwargs["step"]),
                    message.options.get("eta"),
                )
            )
    return found


def handed_over(
    traveller: time_machine.Coordinates, due: datetime, broker: StubBroker
) -> list[SentStep]:
    """The steps due at ``due`` as a worker gets them: the sweep's hand-over runs 15 s before
    (steps further ahead than the horizon are not queued when their level fires), then the
    clock moves to ``due`` and the queued steps are taken off the broker."""
    traveller.move_to(due - timedelta(seconds=15))
    rearm.hand_over()
    traveller.move_to(due)
    return drain_steps(broker)


def run_steps(steps: list[SentStep]) -> list[engine.StepResult]:
    """Run the actor's service function for each message, as a worker would."""
    return [engine.run_step(s.incident_id, s.token, s.step) for s in steps]

"""Every JobName has an actor on its queue, and every actor has a JobName (STYLE §6.9).

``backend`` enqueues by name without importing ``jobs``; a name without an actor would sit in
Redis forever (or raise on the stub broker), an actor without a name could never be enqueued.
"""

from __future__ import annotations

from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

import jobs.actors
from backend.core.jobs import JOB_QUEUES, JobName, Queue, enqueue

# Jobs that take ids: a sample the actor must accept (an id that does not exist is a no-op).
SAMPLE_KWARGS: dict[JobName, dict[str, object]] = {
    JobName.SYNC_CALENDAR: {"connection_id": 0},
    JobName.ESCALATE_STEP: {"incident_id": 0, "token": "0" * 32, "step": 0},
    JobName.DELIVER_NOTIFICATION: {"notification_id": 0},
    JobName.REFRESH_SLACK_MESSAGES: {"incident_id": 0},
}


def _module_actors() -> dict[str, dramatiq.Actor]:  # type: ignore[type-arg]  # Actor is generic
    return {
        actor.actor_name: actor
        for actor in vars(jobs.actors).values()
        if isinstance(actor, dramatiq.Actor)
    }


@pytest.fixture
def actors_broker(stub_broker: StubBroker) -> Iterator[StubBroker]:
    """A fresh stub broker with every actor of ``jobs.actors`` declared, as the global broker.

    ``jobs.actors`` registers its actors once, on whatever broker was global when it was first
    imported; declaring them again here keeps this test independent of import order.
    """
    broker = StubBroker()
    broker.emit_after("process_boot")
    for actor in _module_actors().values():
        broker.declare_actor(actor)
    dramatiq.set_broker(broker)
    try:
        yield broker
    finally:
        dramatiq.set_broker(stub_broker)
        broker.flush_all()
        broker.close()


def test_every_job_name_has_a_queue() -> None:
    assert set(JOB_QUEUES) == set(JobName)
    assert {queue.value for queue in Queue} == {"paging", "default", "bulk"}


def test_every_job_name_has_an_actor_and_every_actor_a_job_name() -> None:
    assert set(_module_actors()) == {job.value for job in JobName}


def test_the_broker_jobs_actors_registered_on_knows_exactly_the_job_names() -> None:
    brokers = {id(actor.broker): actor.broker for actor in _module_actors().values()}
    assert len(brokers) == 1, "jobs.actors registered its actors on several brokers"
    (broker,) = brokers.values()
    assert set(broker.get_declared_actors()) == {job.value for job in JobName}
    for job in JobName:
        assert broker.get_actor(job.value).queue_name == JOB_QUEUES[job].value


@pytest.mark.parametrize("job", list(JobName), ids=lambda job: job.value)
def test_each_actor_is_on_its_queue(job: JobName) -> None:
    actor = _module_actors()[job.value]
    assert actor.queue_name == JOB_QUEUES[job].value


@pytest.mark.parametrize("job", list(JobName), ids=lambda job: job.value)
def test_enqueue_by_name_reaches_the_actor(job: JobName, actors_broker: StubBroker) -> None:
    message = enqueue(job, **SAMPLE_KWARGS.get(job, {}))
    queue = JOB_QUEUES[job].value
    assert (message.queue_name, message.actor_name) == (queue, job.value)
    assert actors_broker.queues[queue].qsize() == 1
    # A worker runs it: the actor accepts the message as the backend builds it.
    worker = dramatiq.Worker(actors_broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        actors_broker.join(queue, timeout=10_000, fail_fast=True)
    finally:
        worker.stop()
    assert actors_broker.queues[queue].qsize() == 0
    assert actors_broker.dead_letters == []

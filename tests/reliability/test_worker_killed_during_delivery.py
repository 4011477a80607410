"""SIGKILL a worker while it is inside a provider call (DESIGN.md: nothing lost).

The e-mail provider is SMTP against a local server whose first message is received and never
answered, so the worker that claimed the page's notification hangs in ``smtplib`` with the
claim (status ``sending``, a lease) committed and no outcome recorded. It is killed there; a
new worker and the SWEEP_NOTIFICATIONS sweeper take the claim over once its lease has run out
and deliver the page. (SIGKILL during an escalation step, between levels, is
``tests/integration/test_escalation_durability.py``.)
"""

from __future__ import annotations

import signal
from collections.abc import Callable

import pytest
from sqlalchemy import select

from backend.core.db import unit_of_work
from backend.notifications.models import DeliveryAttempt, Notification, NotificationStatus
from tests.factories.ingest import send_generic
from tests.reliability.conftest import Environment, make_paging
from tests.support.books import Ledger, check_books, settle, settle_after_acks, sweep
from tests.support.smtp_hang import HangingFirstMessage
from tests.support.workers import WORKER_START_TIMEOUT_S, Workers, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

# The provider call must still be hanging when the test kills the worker: the SMTP timeout is
# far longer than the kill takes. The lease is that timeout + 1 s (LEASE_MARGIN_SECONDS).
SMTP_TIMEOUT_S = 8


def _notification() -> Notification:
    with unit_of_work() as uow:
        rows = uow.session.scalars(select(Notification)).all()
        assert len(rows) == 1, rows
        return rows[0]


def _attempts(notification_id: int) -> list[tuple[int, str]]:
    with unit_of_work() as uow:
        rows = uow.session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.notification_id == notification_id)
        ).all()
        return [(a.attempt, a.status.value) for a in rows]


def test_a_worker_killed_inside_the_provider_call_is_replaced_and_the_page_delivered(
    configure: Callable[..., Environment],
    workers_for: Callable[..., Workers],
    migrated_pg_database: str,
    redis_url: str,
    redis_own_db: int,
    hanging_smtp: tuple[HangingFirstMessage, int],
) -> None:
    smtp, smtp_port = hanging_smtp
    env = configure(
        migrated_pg_database,
        redis_url.rsplit("/", 1)[0],
        redis_own_db,
        ONCALL_NOTIFICATIONS__EMAIL_PROVIDER="smtp",
        ONCALL_NOTIFICATIONS__SMTP_HOST="127.0.0.1",
        ONCALL_NOTIFICATIONS__SMTP_PORT=str(smtp_port),
        ONCALL_NOTIFICATIONS__SMTP_STARTTLS="false",
        ONCALL_NOTIFICATIONS__TIMEOUT_SECONDS=str(SMTP_TIMEOUT_S),
    )
    paging = make_paging(levels=1)
    workers = workers_for(env.values)
    first = workers.start()
    ledger = Ledger()
    result = send_generic(paging.integration, {"title": "disk full", "dedup_key": "disk"})
    ledger.record(202, result.model_dump(mode="json"))
    wait_until(
        "the first worker to hang inside the SMTP call",
        WORKER_START_TIMEOUT_S,
        lambda: len(smtp.held) == 1,
        workers.check_alive,
        every_s=0.1,
    )
    claimed = _notification()
    assert (claimed.status, claimed.attempts) == (NotificationStatus.SENDING, 1)
    workers.kill(first, signal.SIGKILL)
    # Killed mid-call: the claim is all that is left of the first attempt.
    assert _attempts(claimed.id or 0) == []
    assert smtp.accepted == []

    workers.start()
    settle(
        ledger,
        "a new worker and the sweeper to deliver the page",
        WORKER_START_TIMEOUT_S + SMTP_TIMEOUT_S,
        lambda: (workers.check_alive(), sweep()),
    )
    delivered = _notification()
    assert (delivered.status, delivered.attempts) == (NotificationStatus.SENT, 2)
    assert _attempts(delivered.id or 0) == [(2, "sent")]
    assert [e.rcpt_tos for e in smtp.accepted] == [["ann@example.org"]]

    paging.acknowledge(next(iter(ledger.incident_ids)))
    settle_after_acks(ledger, 30, lambda: (workers.check_alive(), sweep()))
    summary = check_books(ledger, [paging.integration.integration.id], outbox=False)
    assert (summary.alerts, summary.incidents, summary.lost_claims) == (1, 1, 1)

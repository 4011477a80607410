"""Notifications end to end through the services, with a controllable clock.

An alert opens an incident, its escalation step creates a page request, and the page request
becomes notifications by the user's rules; the delivery messages are taken off the stub
broker and run through the actor's service function, as a worker would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from dramatiq.brokers.stub import StubBroker
from sqlmodel import col, select

from backend.audit.models import AuditEntry
from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceCreate
from backend.core.db import unit_of_work
from backend.core.errors import ErrorCode, PermissionDenied, ValidationFailed
from backend.core.settings import get_settings
from backend.escalation import engine, preview
from backend.escalation.policy import TargetKind
from backend.incidents import service as incidents
from backend.incidents.models import IncidentEvent, IncidentEventKind
from backend.ingest import integrations
from backend.ingest.models import IntegrationType
from backend.ingest.schemas import IntegrationCreate, IntegrationSecret
from backend.notifications import dispatch, queries
from backend.notifications import service as notifications
from backend.notifications.dispatch import DeliverOutcome
from backend.notifications.models import (
    ChannelKind,
    DeliveryAttempt,
    Notification,
    NotificationStatus,
    OutboxMessage,
    Urgency,
)
from backend.notifications.schemas import ContactMethodIn, QuietHoursIn, RuleIn
from tests.factories.escalation import make_policy
from tests.factories.identity import actor_of
from tests.factories.ingest import send_generic
from tests.factories.notifications import SentDelivery, drain_paging, verified_method
from tests.factories.schedules import Crew, make_crew

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
LINK_TOKEN = re.compile(r"/email/[A-Za-z0-9_-]{43}")


@dataclass
class World:
    crew: Crew
    service_id: int
    integration: IntegrationSecret
    traveller: time_machine.Coordinates
    broker: StubBroker

    def alert(self, severity: str = "critical") -> int:
        result = send_generic(
            self.integration,
            {"title": "Disk full on db-1", "dedup_key": "disk", "severity": severity},
        )
        incident_id = result.alerts[0].incident_id
        assert incident_id is not None
        return incident_id

    def page(self, severity: str = "critical") -> tuple[int, list[SentDelivery]]:
        """Open an incident and run its first escalation step; the deliveries it sent."""
        incident_id = self.alert(severity)
        steps, _ = drain_paging(self.broker)
        assert [engine.run_step(s.incident_id, s.token, s.step).outcome for s in steps] == [
            engine.StepOutcome.FIRED
        ]
        _, deliveries = drain_paging(self.broker)
        return incident_id, deliveries

    def at(self, seconds: float) -> None:
        self.traveller.move_to(T0 + timedelta(seconds=seconds))


@pytest.fixture
def world(stub_broker: StubBroker) -> Iterator[World]:
    with time_machine.travel(T0, tick=False) as traveller:
        crew = make_crew()
        policy_id = make_policy(
            crew.team_id,
            "Primary",
            levels=[[(TargetKind.USER, crew.id("ann"))]],
            timeouts=[30],
            actor=actor_of(crew.admin),
        )
        service_id = catalog.create_service(
            actor_of(crew.admin),
            ServiceCreate(name="Postgres", team_id=crew.team_id, escalation_policy_id=policy_id),
        ).id
        created = integrations.create_integration(
            actor_of(crew.admin),
            IntegrationCreate(name="Grafana", type=IntegrationType.GENERIC, service_id=service_id),
        )
        yield World(crew, service_id, created, traveller, stub_broker)


def outbox() -> list[tuple[str, str, str, str]]:
    with unit_of_work() as uow:
        rows = uow.session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        return [(m.channel.value, m.to, m.subject, m.body) for m in rows]


def notification_rows(incident_id: int) -> list[Notification]:
    with unit_of_work() as uow:
        return list(
            uow.session.exec(
                select(Notification)
                .where(Notification.incident_id == incident_id)
                .order_by(col(Notification.id))
            ).all()
        )


def timeline(incident_id: int, *kinds: IncidentEventKind) -> list[str]:
    with unit_of_work() as uow:
        rows = uow.session.exec(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id, col(IncidentEvent.kind).in_(kinds))
            .order_by(col(IncidentEvent.id))
        ).all()
        return [r.summary for r in rows]


NOTIFY_KINDS = (
    IncidentEventKind.NOTIFIED,
    IncidentEventKind.NOTIFICATION_FAILED,
    IncidentEventKind.NOTIFICATION_SKIPPED,
)


def test_a_page_is_planned_by_the_default_rules_and_delivered_through_the_outbox(
    world: World,
) -> None:
    ann = world.crew.id("ann")
    email = verified_method(ann, ChannelKind.EMAIL, "ann@example.org")
    sms = verified_method(ann, ChannelKind.SMS, "+15550001")
    incident_id, deliveries = world.page()

    rows = notification_rows(incident_id)
    assert [(r.contact_method_id, r.channel, r.step, r.next_attempt_at) for r in rows] == [
        (email, ChannelKind.EMAIL, 0, T0),
        (sms, ChannelKind.SMS, 0, T0),
        (sms, ChannelKind.SMS, 1, T0 + timedelta(minutes=5)),
    ]
    assert [(d.notification_id, d.eta_ms is None) for d in deliveries] == [
        (rows[0].id, True),
        (rows[1].id, True),
        (rows[2].id, False),
    ]
    assert [dispatch.deliver(d.notification_id) for d in deliveries] == [
        DeliverOutcome.DONE,
        DeliverOutcome.DONE,
        DeliverOutcome.NOT_DUE,
    ]
    links = "http://localhost:3000/api/v1/actions/email/<token>"  # single use (NOTIF-05)
    assert [
        (c, to, subject, LINK_TOKEN.sub("/email/<token>", body))
        for c, to, subject, body in outbox()
    ] == [
        (
            "email",
            "ann@example.org",
            f"[CRITICAL] #{incident_id} Disk full on db-1",
            f"CRITICAL incident #{incident_id}: Disk full on db-1\nService: Postgres\n"
            f"Escalation level: 1\n\nOpen the incident: http://localhost:3000/incidents/"
            f"{incident_id}\nAcknowledge: {links}\nResolve: {links}\n"
            "(Each link works once, for 15 minutes.)\n",
        ),
        (
            "sms",
            "+15550001",
            "",
            f"[ESC-L1][CRITICAL] #{incident_id} Disk full on db-1 | Reply ACK {incident_id}",
        ),
    ]
    assert timeline(incident_id, *NOTIFY_KINDS) == ["Paged Ann by e-mail.", "Paged Ann by SMS."]
    # The SMS reminder goes out at minute 5 while nobody has acknowledged.
    world.at(300)
    assert dispatch.deliver(deliveries[2].notification_id) is DeliverOutcome.DONE
    assert [r.status for r in notification_rows(incident_id)] == [NotificationStatus.DELIVERED] * 3
    # A duplicate message (redelivery, sweeper) finds nothing to do.
    assert dispatch.deliver(deliveries[0].notification_id) is DeliverOutcome.STALE
    log = queries.list_notifications(actor_of(world.crew.admin), incident_id=incident_id)
    assert [(n.channel, n.attempts, [a.status for a in n.attempt_log]) for n in log] == [
        (ChannelKind.SMS, 1, [NotificationStatus.DELIVERED]),
        (ChannelKind.SMS, 1, [NotificationStatus.DELIVERED]),
        (ChannelKind.EMAIL, 1, [NotificationStatus.DELIVERED]),
    ]


def test_acknowledged_before_delivery_is_skipped_and_recorded(world: World) -> None:
    ann = world.crew.id("ann")
    verified_method(ann, ChannelKind.SMS, "+15550001")
    incident_id, deliveries = world.page()
    assert dispatch.deliver(deliveries[0].notification_id) is DeliverOutcome.DONE
    world.at(120)
    incidents.acknowledge(actor_of(world.crew.ann), incident_id)
    world.at(300)
    assert dispatch.deliver(deliveries[1].notification_id) is DeliverOutcome.SKIPPED
    assert [r.status for r in notification_rows(incident_id)] == [
        NotificationStatus.DELIVERED,
        NotificationStatus.SKIPPED,
    ]
    assert len(outbox()) == 1
    assert timeline(incident_id, *NOTIFY_KINDS) == [
        "Paged Ann by SMS.",
        "SMS to Ann skipped: the incident is acknowledged.",
    ]


def test_low_urgency_pages_one_email_by_default(world: World) -> None:
    ann = world.crew.id("ann")
    verified_method(ann, ChannelKind.EMAIL, "ann@example.org")
    verified_method(ann, ChannelKind.SMS, "+15550001")
    incident_id, _ = world.page(severity="low")
    assert [r.channel for r in notification_rows(incident_id)] == [ChannelKind.EMAIL]


def test_a_user_without_verified_methods_is_named_on_the_timeline_and_in_the_preview(
    world: World,
) -> None:
    incident_id, deliveries = world.page()
    assert deliveries == []
    assert timeline(incident_id, IncidentEventKind.PAGE_REQUESTED) == [
        "Page requested for Ann (named on the level). "
        "No verified contact method: nobody is notified."
    ]
    got = preview.preview_paging(actor_of(world.crew.admin), world.service_id)
    assert got.warnings == ["level 1: Ann has no verified contact method: nobody can notify them"]
    verified_method(world.crew.id("ann"), ChannelKind.SMS, "+15550001")
    got = preview.preview_paging(actor_of(world.crew.admin), world.service_id)
    assert got.warnings == []
    assert got.steps[0].pages[0].channels == ["sms"]


def test_a_failing_provider_is_retried_with_backoff_up_to_5_attempts_then_failed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Twilio on a port where nothing listens: every attempt is a refused connection.
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__SMS_PROVIDER", "twilio")
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__TWILIO_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__TIMEOUT_SECONDS", "1")
    get_settings.cache_clear()
    rules_out = notifications.set_rules(
        actor_of(world.crew.ann),
        world.crew.id("ann"),
        Urgency.HIGH,
        [RuleIn(urgency=Urgency.HIGH, channel=ChannelKind.SMS)],
    )
    assert [(r.channel, r.delay_minutes) for r in rules_out] == [(ChannelKind.SMS, 0)]
    verified_method(world.crew.id("ann"), ChannelKind.SMS, "+15550001")
    incident_id, deliveries = world.page()
    (first,) = deliveries
    notification_id = first.notification_id
    outcomes, etas, elapsed = [], [], 0.0
    for _ in range(5):
        outcomes.append(dispatch.deliver(notification_id))
        _, sent = drain_paging(world.broker)
        if sent:
            (retry,) = sent
            assert retry.eta_ms is not None
            # The retry is due backoff seconds later; early it does nothing.
            assert dispatch.deliver(notification_id) is DeliverOutcome.NOT_DUE
            wait = (retry.eta_ms / 1000) - (T0.timestamp() + elapsed)
            etas.append(round(wait))
            elapsed += wait
            world.at(elapsed)
    assert outcomes == [DeliverOutcome.RETRY] * 4 + [DeliverOutcome.FAILED]
    assert etas == [30, 60, 120, 240]
    (row,) = notification_rows(incident_id)
    assert (row.status, row.attempts, row.provider) == (NotificationStatus.FAILED, 5, "twilio")
    with unit_of_work() as uow:
        attempts = uow.session.exec(
            select(DeliveryAttempt).where(DeliveryAttempt.notification_id == notification_id)
        ).all()
    assert [(a.attempt, a.status, a.provider) for a in attempts] == [
        (n, NotificationStatus.FAILED, "twilio") for n in range(1, 6)
    ]
    lines = timeline(incident_id, *NOTIFY_KINDS)
    assert len(lines) == 2
    assert lines[0].startswith("SMS to Ann failed after 5 attempt(s): ConnectionError")
    # Voice would be the last resort (NOTIF-03), but Ann has no voice method.
    assert lines[1] == "SMS to Ann failed; Ann has no verified voice method to fall back to."


def test_the_sweeper_resends_lost_and_stuck_deliveries(world: World) -> None:
    verified_method(world.crew.id("ann"), ChannelKind.EMAIL, "ann@example.org")
    incident_id, deliveries = world.page(severity="low")
    assert len(deliveries) == 1  # the message is "lost": nobody runs it
    world.at(10)
    assert dispatch.sweep() == 0  # within the grace
    world.at(31)
    assert dispatch.sweep() == 1
    _, sent = drain_paging(world.broker)
    assert [d.notification_id for d in sent] == [deliveries[0].notification_id]
    # A worker claimed it and died before the provider call was recorded: the lease runs out.
    with unit_of_work() as uow:
        row = uow.session.get(Notification, sent[0].notification_id)
        assert row is not None
        row.status, row.attempts = NotificationStatus.SENDING, 1
        row.next_attempt_at = T0 + timedelta(seconds=31 + 70)
        uow.session.add(row)
    assert dispatch.deliver(sent[0].notification_id) is DeliverOutcome.STALE  # leased
    world.at(31 + 70 + 31)
    assert dispatch.sweep() == 1
    _, sent = drain_paging(world.broker)
    assert dispatch.deliver(sent[0].notification_id) is DeliverOutcome.DONE
    (row,) = notification_rows(incident_id)
    assert (row.status, row.attempts) == (NotificationStatus.DELIVERED, 2)
    world.at(1200)
    assert dispatch.sweep() == 0


def test_a_swept_delivery_still_queued_is_not_resent_until_its_back_off_has_passed(
    world: World,
) -> None:
    verified_method(world.crew.id("ann"), ChannelKind.EMAIL, "ann@example.org")
    incident_id, deliveries = world.page(severity="low")
    (notification_id,) = [d.notification_id for d in deliveries]  # queued behind a backlog
    world.at(31)
    assert dispatch.sweep() == 1
    # 31 s late when re-sent: not re-sent again for 31 s (its message is probably queued).
    assert dispatch.sweep() == 0
    world.at(61)
    assert dispatch.sweep() == 0
    _, sent = drain_paging(world.broker)
    assert [d.notification_id for d in sent] == [notification_id]
    world.at(62)
    assert dispatch.sweep() == 1  # in case that message was lost as well
    _, again = drain_paging(world.broker)
    assert [d.notification_id for d in again] == [notification_id]
    outcomes = [dispatch.deliver(notification_id) for _ in deliveries + sent + again]
    assert outcomes == [DeliverOutcome.DONE, DeliverOutcome.STALE, DeliverOutcome.STALE]
    (row,) = notification_rows(incident_id)
    assert (row.status, row.attempts) == (NotificationStatus.DELIVERED, 1)


def test_contact_method_verification_by_code_through_the_outbox(world: World) -> None:
    ann, actor = world.crew.id("ann"), actor_of(world.crew.ann)
    method = notifications.add_contact_method(
        actor, ann, ContactMethodIn(kind=ChannelKind.SMS, address="+15550001")
    )
    assert (method.verified, method.verification_pending) == (False, True)
    _, (sent,) = drain_paging(world.broker)
    assert dispatch.deliver(sent.notification_id) is DeliverOutcome.DONE
    ((channel, to, _, body),) = outbox()
    assert (channel, to) == ("sms", "+15550001")
    code = body.split("code is ")[1][:6]
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(ValidationFailed) as refused:
        notifications.verify_contact_method(actor, method.id, wrong)
    assert refused.value.code is ErrorCode.VALIDATION_FAILED
    with pytest.raises(PermissionDenied):
        notifications.verify_contact_method(actor_of(world.crew.ben), method.id, code)
    verified = notifications.verify_contact_method(actor, method.id, code)
    assert (verified.verified, verified.verification_pending) == (True, False)
    # The verification message never lands on an incident's timeline or delivery log.
    with unit_of_work() as uow:
        row = uow.session.get(Notification, sent.notification_id)
        assert row is not None
        assert (row.incident_id, row.status) == (None, NotificationStatus.DELIVERED)
        assert code not in (row.sealed_body or "")


def test_verification_codes_expire_after_10_minutes_and_allow_5_tries(world: World) -> None:
    ann, actor = world.crew.id("ann"), actor_of(world.crew.ann)
    method = notifications.add_contact_method(
        actor, ann, ContactMethodIn(kind=ChannelKind.EMAIL, address="ann@example.org")
    )
    _, (sent,) = drain_paging(world.broker)
    dispatch.deliver(sent.notification_id)
    code = outbox()[0][3].split("code is ")[1][:6]
    world.at(601)
    with pytest.raises(ValidationFailed):
        notifications.verify_contact_method(actor, method.id, code)
    notifications.resend_verification(actor, method.id)
    _, (sent,) = drain_paging(world.broker)
    dispatch.deliver(sent.notification_id)
    code = outbox()[1][3].split("code is ")[1][:6]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            notifications.verify_contact_method(actor, method.id, wrong)
    with pytest.raises(ValidationFailed) as used_up:
        notifications.verify_contact_method(actor, method.id, code)
    assert "too many" in used_up.value.errors[0].msg
    assert [m.verified for m in notifications.list_contact_methods(actor, ann)] == [False]


def test_rules_default_until_set_and_quiet_hours_defer_low_urgency(world: World) -> None:
    ann, actor = world.crew.id("ann"), actor_of(world.crew.ann)
    defaults = notifications.list_rules(actor, ann)
    assert [(r.id, r.urgency, r.channel, r.delay_minutes) for r in defaults] == [
        (None, Urgency.HIGH, None, 0),
        (None, Urgency.HIGH, ChannelKind.SMS, 5),
        (None, Urgency.LOW, ChannelKind.EMAIL, 0),
    ]
    with pytest.raises(ValidationFailed):
        notifications.set_rules(actor, ann, Urgency.LOW, [RuleIn(urgency=Urgency.LOW)])
    verified_method(ann, ChannelKind.EMAIL, "ann@example.org")
    notifications.set_quiet_hours(actor, ann, QuietHoursIn(start="09:00", end="12:00"))
    incident_id, _ = world.page(severity="low")
    (row,) = notification_rows(incident_id)
    assert row.next_attempt_at == datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def test_email_and_sms_both_failing_pages_the_platform_admins_on_another_channel(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in {
        "EMAIL_PROVIDER": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": "9",
        "SMS_PROVIDER": "twilio",
        "TWILIO_BASE_URL": "http://127.0.0.1:9",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(f"ONCALL_NOTIFICATIONS__{key}", value)
    get_settings.cache_clear()
    ann, root = world.crew.id("ann"), world.crew.id("root")
    notifications.set_rules(
        actor_of(world.crew.ann),
        ann,
        Urgency.HIGH,
        [
            RuleIn(urgency=Urgency.HIGH, channel=ChannelKind.EMAIL),
            RuleIn(urgency=Urgency.HIGH, channel=ChannelKind.SMS),
        ],
    )
    verified_method(ann, ChannelKind.EMAIL, "ann@example.org")
    verified_method(ann, ChannelKind.SMS, "+15550001")
    verified_method(root, ChannelKind.EMAIL, "root@example.org")
    push = verified_method(root, ChannelKind.PUSH, "root-phone")
    incident_id, deliveries = world.page()
    email, sms = (d.notification_id for d in deliveries)
    assert dispatch.deliver(email) is DeliverOutcome.FAILED
    assert drain_paging(world.broker)[1] == []  # the SMS may still get through
    assert dispatch.deliver(sms) is DeliverOutcome.FAILED
    _, (admin,) = drain_paging(world.broker)
    assert dispatch.deliver(admin.notification_id) is DeliverOutcome.DONE
    assert outbox() == [
        (
            "push",
            "root-phone",
            f"[CRITICAL DELIVERY FAILURE] E-mail and SMS to Ann failed for CRITICAL incident "
            f"#{incident_id} (Disk full on db-1). Check the providers. "
            f"http://localhost:3000/incidents/{incident_id}",
            f"[CRITICAL DELIVERY FAILURE] E-mail and SMS to Ann failed for CRITICAL incident "
            f"#{incident_id} (Disk full on db-1). Check the providers. "
            f"http://localhost:3000/incidents/{incident_id}",
        )
    ]
    rows = notification_rows(incident_id)
    assert [(r.purpose.value, r.user_id, r.contact_method_id, r.status) for r in rows] == [
        ("page", ann, rows[0].contact_method_id, NotificationStatus.FAILED),
        ("page", ann, rows[1].contact_method_id, NotificationStatus.FAILED),
        ("critical", root, push, NotificationStatus.DELIVERED),
    ]
    lines = timeline(incident_id, *NOTIFY_KINDS)
    assert lines[0].startswith("E-mail to Ann failed after 1 attempt(s): ConnectionRefusedError")
    assert lines[1].startswith("SMS to Ann failed after 1 attempt(s): ConnectionError")
    assert lines[2:] == [
        "E-mail and SMS to Ann failed; Ann has no verified voice method to fall back to.",
        "Critical delivery failure: e-mail and SMS to Ann both failed; paging the platform "
        "admins (1 notification(s)).",
        "Paged Root by push.",
    ]


def test_contact_method_and_rule_changes_are_audited_without_the_full_address(
    world: World,
) -> None:
    ann, actor = world.crew.id("ann"), actor_of(world.crew.ann)
    method = notifications.add_contact_method(
        actor, ann, ContactMethodIn(kind=ChannelKind.SMS, address="+15550009876")
    )
    notifications.set_rules(
        actor,
        ann,
        Urgency.LOW,
        [RuleIn(urgency=Urgency.LOW, contact_method_id=method.id, delay_minutes=3)],
    )
    notifications.set_quiet_hours(actor, ann, QuietHoursIn(start="22:00", end="07:00"))
    notifications.remove_contact_method(actor, method.id)
    with unit_of_work() as uow:
        rows = list(
            uow.session.exec(
                select(AuditEntry)
                .where(col(AuditEntry.action).startswith("notifications."))
                .order_by(col(AuditEntry.id))
            )
        )
    assert [(r.action, r.target_id) for r in rows] == [
        ("notifications.contact_method.added", str(ann)),
        ("notifications.rules.replaced", str(ann)),
        ("notifications.quiet_hours.set", str(ann)),
        ("notifications.contact_method.removed", str(ann)),
    ]
    assert rows[0].diff == {"kind": "sms", "address": "…9876"}
    assert "+15550009876" not in str([r.diff for r in rows])

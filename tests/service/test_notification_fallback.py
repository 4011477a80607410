"""Channel tiers (NOTIF-03): primary channels fail → SMS → voice, through the services with a
controlled clock and providers that fail for real (SMTP, Slack and Twilio pointed at a port
where nothing listens; the voice call goes to the outbox)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backend.core.db import unit_of_work
from backend.core.settings import get_settings
from backend.incidents import service as incidents
from backend.incidents.models import IncidentEventKind
from backend.notifications import dispatch
from backend.notifications import service as notifications
from backend.notifications.dispatch import DeliverOutcome
from backend.notifications.models import ChannelKind, Notification, Urgency
from backend.notifications.providers import ProviderResult
from backend.notifications.schemas import RuleIn
from tests.factories.identity import actor_of
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
NOWHERE = "http://127.0.0.1:9"  # nothing listens: a refused connection, retryable


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """E-mail (SMTP), Slack and SMS (Twilio) providers that always fail; voice stays the
    outbox. Called with the number of attempts each notification gets."""

    def setup(max_attempts: int) -> None:
        for key, value in {
            "EMAIL_PROVIDER": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": "9",
            "SLACK_PROVIDER": "slack",
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_BASE_URL": NOWHERE,
            "SMS_PROVIDER": "twilio",
            "TWILIO_BASE_URL": NOWHERE,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TIMEOUT_SECONDS": "2",
            "MAX_ATTEMPTS": str(max_attempts),
        }.items():
            monkeypatch.setenv(f"ONCALL_NOTIFICATIONS__{key}", value)
        get_settings.cache_clear()

    return setup


def rules(world: World, *channels: ChannelKind) -> None:
    ann = world.crew.id("ann")
    notifications.set_rules(
        actor_of(world.crew.ann),
        ann,
        Urgency.HIGH,
        [RuleIn(urgency=Urgency.HIGH, channel=c) for c in channels],
    )


def shape(incident_id: int) -> list[tuple[str, int, str]]:
    return [(r.channel.value, r.step, r.status.value) for r in notification_rows(incident_id)]


def fallback_lines(incident_id: int) -> list[str]:
    return [
        line
        for line in timeline(incident_id, IncidentEventKind.NOTIFICATION_FAILED)
        if "instead" in line or "last resort" in line or "fall back" in line
    ]


def test_email_and_slack_failing_text_then_sms_failing_calls(
    world: World, failing: Callable[[int], None]
) -> None:
    failing(2)
    ann = world.crew.id("ann")
    rules(world, ChannelKind.EMAIL, ChannelKind.SLACK)
    verified_method(ann, ChannelKind.EMAIL, "ann@example.org")
    verified_method(ann, ChannelKind.SLACK, "U0ANN")
    sms = verified_method(ann, ChannelKind.SMS, "+15550001")
    voice = verified_method(ann, ChannelKind.VOICE, "+15550002")
    incident_id, deliveries = world.page()
    email, slack = (d.notification_id for d in deliveries)

    # First attempts fail with a retry left: no fallback yet.
    assert [dispatch.deliver(email), dispatch.deliver(slack)] == [DeliverOutcome.RETRY] * 2
    drain_paging(world.broker)
    world.at(30)
    assert dispatch.deliver(email) is DeliverOutcome.FAILED
    assert drain_paging(world.broker)[1] == []  # Slack may still get through
    assert shape(incident_id) == [("email", 0, "failed"), ("slack", 1, "queued")]
    assert dispatch.deliver(slack) is DeliverOutcome.FAILED
    _, (text,) = drain_paging(world.broker)
    assert text.eta_ms is None  # due now
    with unit_of_work() as uow:
        row = uow.session.get(Notification, text.notification_id)
        assert row is not None
        assert (row.channel, row.contact_method_id, row.step, row.address) == (
            ChannelKind.SMS,
            sms,
            -2,
            "+15550001",
        )
    assert fallback_lines(incident_id) == [
        "E-mail and Slack to Ann failed; texting Ann by SMS instead."
    ]

    # The SMS fails too (twice): the voice call is the last resort, and e-mail + SMS both
    # failing also pages the platform admins (none of them can be reached here).
    assert dispatch.deliver(text.notification_id) is DeliverOutcome.RETRY
    drain_paging(world.broker)
    world.at(90)
    assert dispatch.deliver(text.notification_id) is DeliverOutcome.FAILED
    _, (call,) = drain_paging(world.broker)
    assert dispatch.deliver(call.notification_id) is DeliverOutcome.DONE
    assert shape(incident_id) == [
        ("email", 0, "failed"),
        ("slack", 1, "failed"),
        ("sms", -2, "failed"),
        ("voice", -3, "delivered"),
    ]
    assert notification_rows(incident_id)[3].contact_method_id == voice
    ((channel, to, _, body),) = outbox()
    assert (channel, to) == ("voice", "+15550002")
    assert f"incident {incident_id}" in body
    lines = timeline(incident_id, *NOTIFY_KINDS)
    assert lines[2:] == [
        "E-mail and Slack to Ann failed; texting Ann by SMS instead.",
        lines[3],
        "E-mail, Slack and SMS to Ann failed; calling Ann as the last resort.",
        "Critical delivery failure: e-mail and SMS to Ann both failed; no platform admin has "
        "a verified contact method to page!",
        "Paged Ann by voice call.",
    ]
    assert lines[3].startswith("SMS to Ann failed after 2 attempt(s): ConnectionError")

    # A duplicate decision (a redelivered message, a second receipt) plans nothing more.
    with unit_of_work() as uow:
        facts = dispatch.DeliveryFacts.read(uow.session, slack)
        assert facts is not None
        dispatch.after_page_failure(uow, facts)
    assert drain_paging(world.broker)[1] == []
    assert len(notification_rows(incident_id)) == 4
    assert len(fallback_lines(incident_id)) == 2


def test_no_verified_sms_goes_straight_to_voice_and_no_method_at_all_is_said(
    world: World, failing: Callable[[int], None]
) -> None:
    failing(1)
    ann = world.crew.id("ann")
    rules(world, ChannelKind.EMAIL)
    verified_method(ann, ChannelKind.EMAIL, "ann@example.org")
    verified_method(ann, ChannelKind.VOICE, "+15550002")
    incident_id, (email,) = world.page()
    assert dispatch.deliver(email.notification_id) is DeliverOutcome.FAILED
    _, (call,) = drain_paging(world.broker)
    assert shape(incident_id) == [("email", 0, "failed"), ("voice", -3, "queued")]
    assert dispatch.deliver(call.notification_id) is DeliverOutcome.DONE
    assert fallback_lines(incident_id) == ["E-mail to Ann failed; calling Ann as the last resort."]


def test_nothing_to_fall_back_to_is_said_once(world: World, failing: Callable[[int], None]) -> None:
    failing(1)
    ann = world.crew.id("ann")
    rules(world, ChannelKind.EMAIL, ChannelKind.PUSH)
    verified_method(ann, ChannelKind.EMAIL, "ann@example.org")
    push = verified_method(ann, ChannelKind.PUSH, "ann-phone")
    incident_id, (email, to_phone) = world.page()
    notifications.remove_contact_method(actor_of(world.crew.ann), push)
    assert dispatch.deliver(to_phone.notification_id) is DeliverOutcome.SKIPPED
    assert dispatch.deliver(email.notification_id) is DeliverOutcome.FAILED
    assert drain_paging(world.broker)[1] == []
    assert fallback_lines(incident_id) == [
        "E-mail and push to Ann failed; Ann has no verified SMS or voice method to fall back to."
    ]


def test_an_sms_already_planned_by_the_rules_is_not_doubled(
    world: World, failing: Callable[[int], None]
) -> None:
    failing(1)
    ann = world.crew.id("ann")
    verified_method(ann, ChannelKind.EMAIL, "ann@example.org")
    verified_method(ann, ChannelKind.VOICE, "+15550002")
    verified_method(ann, ChannelKind.SMS, "+15550001")
    # The defaults: every verified method now (e-mail, SMS, voice), SMS again at minute 5.
    incident_id, deliveries = world.page()
    assert dispatch.deliver(deliveries[0].notification_id) is DeliverOutcome.FAILED
    assert drain_paging(world.broker)[1] == []
    assert [s for _, s, _ in shape(incident_id)] == [0, 0, 0, 1]
    assert fallback_lines(incident_id) == []


def test_nothing_falls_back_once_the_incident_is_acknowledged(
    world: World, failing: Callable[[int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    failing(1)
    ann = world.crew.id("ann")
    rules(world, ChannelKind.EMAIL)
    verified_method(ann, ChannelKind.EMAIL, "ann@example.org")
    verified_method(ann, ChannelKind.SMS, "+15550001")
    incident_id, (email,) = world.page()
    send = dispatch.send_with_failover

    def acknowledged_while_sending(*args: object) -> tuple[str, ProviderResult]:
        incidents.acknowledge(actor_of(world.crew.ann), incident_id)
        return send(*args)  # type: ignore[arg-type]  # the real signature

    monkeypatch.setattr(dispatch, "send_with_failover", acknowledged_while_sending)
    assert dispatch.deliver(email.notification_id) is DeliverOutcome.FAILED
    assert drain_paging(world.broker)[1] == []
    assert shape(incident_id) == [("email", 0, "failed")]
    assert fallback_lines(incident_id) == []

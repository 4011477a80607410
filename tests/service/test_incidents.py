"""Incident commands and reads: lifecycle, authorization, audit, events, list, metrics, presets."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlmodel import col, select

from backend.audit.models import AuditEntry
from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceCreate
from backend.core import events
from backend.core.actor import Actor
from backend.core.db import unit_of_work
from backend.core.errors import DomainError, ErrorCode
from backend.incidents import metrics, presets, queries
from backend.incidents import service as incidents
from backend.incidents.models import (
    EscalationState,
    Incident,
    IncidentStatus,
    Priority,
    Severity,
)
from backend.incidents.schemas import BulkIn, IncidentFilter, IncidentUpdate, PresetIn
from backend.ingest import integrations
from backend.ingest.models import IntegrationType
from backend.ingest.schemas import IntegrationCreate, IntegrationSecret
from tests.factories.escalation import make_policy
from tests.factories.events import RecordingBus
from tests.factories.identity import actor_of
from tests.factories.ingest import send_generic
from tests.factories.schedules import Crew, make_crew

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@dataclass
class Setup:
    crew: Crew
    service_id: int
    integration: IntegrationSecret
    traveller: time_machine.Coordinates

    def open(self, key: str, title: str = "Disk full", **extra: str) -> int:
        result = send_generic(self.integration, {"title": title, "dedup_key": key, **extra})
        incident_id = result.alerts[0].incident_id
        assert incident_id is not None
        return incident_id


@pytest.fixture
def setup() -> Iterator[Setup]:
    with time_machine.travel(T0, tick=False) as traveller:
        crew = make_crew()
        make_policy(crew.team_id, actor=actor_of(crew.admin))
        service_id = catalog.create_service(
            actor_of(crew.admin), ServiceCreate(name="Postgres", team_id=crew.team_id)
        ).id
        created = integrations.create_integration(
            actor_of(crew.admin),
            IntegrationCreate(name="Grafana", type=IntegrationType.GENERIC, service_id=service_id),
        )
        yield Setup(crew, service_id, created, traveller)


def audit_actions(incident_id: int) -> list[str]:
    with unit_of_work() as uow:
        return list(
            uow.session.exec(
                select(AuditEntry.action)
                .where(
                    AuditEntry.target_type == "incident", AuditEntry.target_id == str(incident_id)
                )
                .order_by(col(AuditEntry.id))
            ).all()
        )


def row(incident_id: int) -> Incident:
    with unit_of_work() as uow:
        found = uow.session.get(Incident, incident_id)
        assert found is not None
        return found


def test_lifecycle_ack_assigns_resolve_with_note_close_reopen(setup: Setup) -> None:
    crew = setup.crew
    incident_id = setup.open("k")
    recorder = RecordingBus()
    events.set_bus(recorder)
    setup.traveller.shift(timedelta(minutes=2))
    acked = incidents.acknowledge(actor_of(crew.ben), incident_id)
    assert (acked.status, acked.assignee_id, acked.assignee_name, acked.acknowledged_by) == (
        IncidentStatus.ACKNOWLEDGED,
        crew.id("ben"),
        "Ben",
        crew.ben.email,
    )
    resolved = incidents.resolve(actor_of(crew.ann), incident_id, "Grew the **volume**.")
    assert (resolved.status, resolved.resolution_note) == (
        IncidentStatus.RESOLVED,
        "Grew the **volume**.",
    )
    assert resolved.timeline[-1].data == {
        "markdown": "Grew the **volume**.",
        "html": "<p>Grew the <strong>volume</strong>.</p>\n",
    }
    reopened = incidents.reopen(actor_of(crew.ann), incident_id)
    assert (reopened.status, reopened.resolved_at, reopened.escalation.state.value) == (
        IncidentStatus.OPEN,
        None,
        "active",
    )
    incidents.resolve(actor_of(crew.ann), incident_id)
    closed = incidents.close(actor_of(crew.ann), incident_id)
    assert closed.status is IncidentStatus.CLOSED
    assert audit_actions(incident_id) == [
        "incidents.incident.acknowledged",
        "incidents.incident.resolved",
        "incidents.incident.reopened",
        "incidents.incident.resolved",
        "incidents.incident.closed",
    ]
    acked_event = next(e for e in recorder.events if e.name == "incidents.incident.acknowledged")
    assert acked_event.topics == (
        "incidents",
        f"incident:{incident_id}",
        f"service:{setup.service_id}",
        f"team:{crew.team_id}",
    )
    assert acked_event.actor_label == crew.ben.email


@pytest.mark.parametrize(
    ("_case", "prepare", "command"),
    [
        ("ack twice", ["acknowledge"], "acknowledge"),
        ("close an open incident", [], "close"),
        ("reopen an open incident", [], "reopen"),
        ("resolve a closed incident", ["resolve", "close"], "resolve"),
    ],
)
def test_invalid_transitions_are_409_and_change_nothing(
    setup: Setup, _case: str, prepare: list[str], command: str
) -> None:
    incident_id = setup.open("k")
    actor = actor_of(setup.crew.ann)
    for name in prepare:
        getattr(incidents, name)(actor, incident_id)
    before, audits = row(incident_id), audit_actions(incident_id)
    with pytest.raises(DomainError) as caught:
        getattr(incidents, command)(actor, incident_id)
    assert (caught.value.code, caught.value.status) == (ErrorCode.INVALID_TRANSITION, 409)
    assert row(incident_id) == before
    assert audit_actions(incident_id) == audits


def test_observers_and_outsiders_cannot_respond(setup: Setup) -> None:
    incident_id = setup.open("k")
    for who in (setup.crew.observer, setup.crew.outsider):
        with pytest.raises(DomainError) as caught:
            incidents.acknowledge(actor_of(who), incident_id)
        assert caught.value.code is ErrorCode.PERMISSION_DENIED
    assert row(incident_id).status is IncidentStatus.OPEN
    assert incidents.acknowledge(Actor.cli(), incident_id).status is IncidentStatus.ACKNOWLEDGED


def test_reassign_edit_and_sanitised_notes(setup: Setup) -> None:
    crew = setup.crew
    incident_id = setup.open("k")
    ann = actor_of(crew.ann)
    assert incidents.reassign(ann, incident_id, crew.id("cat")).assignee_name == "Cat"
    with pytest.raises(DomainError) as caught:
        incidents.reassign(ann, incident_id, crew.id("outsider"))
    assert caught.value.code is ErrorCode.VALIDATION_FAILED
    edited = incidents.update_incident(
        ann,
        incident_id,
        IncidentUpdate(priority=Priority.P1, severity=Severity.CRITICAL, details={"db": "db-1"}),
    )
    assert (edited.priority, edited.severity, edited.details) == (
        Priority.P1,
        Severity.CRITICAL,
        {"db": "db-1"},
    )
    assert edited.timeline[-1].data == {
        "details": [{}, {"db": "db-1"}],
        "priority": [None, "P1"],
        "severity": ["MEDIUM", "CRITICAL"],
    }
    noted = incidents.add_note(
        ann, incident_id, "<script>alert(1)</script> see [x](javascript:alert(1)) *ok*"
    )
    assert noted.timeline[-1].data["html"] == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; see [x](javascript:alert(1)) <em>ok</em></p>\n"
    )


def test_bulk_reports_each_item(setup: Setup) -> None:
    first, second = setup.open("a"), setup.open("b")
    incidents.acknowledge(actor_of(setup.crew.ann), second)
    result = incidents.bulk(
        actor_of(setup.crew.ann),
        BulkIn(action="acknowledge", incident_ids=[first, second, 9999]),
    )
    assert (result.succeeded, result.failed) == (1, 2)
    assert [(i.incident_id, i.ok, i.status, i.error_code) for i in result.items] == [
        (first, True, IncidentStatus.ACKNOWLEDGED, None),
        (second, False, IncidentStatus.ACKNOWLEDGED, "invalid_transition"),
        (9999, False, None, "not_found"),
    ]
    resolved = incidents.bulk(
        actor_of(setup.crew.ann), BulkIn(action="resolve", incident_ids=[first, second])
    )
    assert [i.status for i in resolved.items] == [IncidentStatus.RESOLVED] * 2


def test_list_filters_cursor_and_assigned_to_me(setup: Setup) -> None:
    ids = []
    for n in range(5):
        setup.traveller.shift(timedelta(minutes=1))
        ids.append(setup.open(f"k{n}", title=f"Alert {n}"))
    ben = actor_of(setup.crew.ben)
    incidents.acknowledge(ben, ids[1])
    page = queries.list_incidents(ben, limit=2)
    assert [i.id for i in page.items] == [ids[4], ids[3]]
    assert page.next_cursor is not None
    rest = queries.list_incidents(ben, cursor=page.next_cursor, limit=10)
    assert ([i.id for i in rest.items], rest.next_cursor) == ([ids[2], ids[1], ids[0]], None)
    mine = queries.list_incidents(ben, IncidentFilter(assigned_to_me=True))
    assert [i.id for i in mine.items] == [ids[1]]
    stopped = queries.list_incidents(
        ben, IncidentFilter(escalation_states=[EscalationState.STOPPED])
    )
    assert [i.id for i in stopped.items] == [ids[1]]
    flt = IncidentFilter(
        statuses=[IncidentStatus.OPEN], team_ids=[setup.crew.team_id], text="alert 3"
    )
    assert [i.id for i in queries.list_incidents(ben, flt).items] == [ids[3]]
    with pytest.raises(DomainError) as caught:
        queries.list_incidents(ben, cursor="nonsense")
    assert caught.value.code is ErrorCode.VALIDATION_FAILED
    detail = queries.get_incident(ben, ids[1])
    assert (detail.service_name, detail.alerts[0].title, detail.can_respond) == (
        "Postgres",
        "Alert 1",
        True,
    )


def test_metrics_open_count_mtta_mttr_and_series(setup: Setup) -> None:
    ann = actor_of(setup.crew.ann)
    a = setup.open("a")  # T0
    setup.traveller.shift(timedelta(minutes=4))
    incidents.acknowledge(ann, a)  # MTTA 240 s
    setup.traveller.shift(timedelta(minutes=6))
    incidents.resolve(ann, a)  # MTTR 600 s
    setup.traveller.move_to(T0 + timedelta(hours=1, minutes=30))
    setup.open("b")  # open, unacknowledged
    got = metrics.incident_metrics(ann, T0, T0 + timedelta(hours=2), bucket_seconds=3600)
    assert (got.open_now, got.unacknowledged_now, got.opened) == (1, 1, 2)
    assert (got.mtta_seconds, got.mttr_seconds) == (240.0, 600.0)
    assert [
        (p.start, p.opened, p.acknowledged, p.resolved, p.mtta_seconds) for p in got.series
    ] == [
        (T0, 1, 1, 1, 240.0),
        (T0 + timedelta(hours=1), 1, 0, 0, None),
    ]


def test_presets_are_per_user_and_replace_by_name(setup: Setup) -> None:
    ann, ben = actor_of(setup.crew.ann), actor_of(setup.crew.ben)
    saved = presets.save_preset(
        ann, PresetIn(name="Mine", filters=IncidentFilter(assigned_to_me=True))
    )
    again = presets.save_preset(
        ann, PresetIn(name="Mine", filters=IncidentFilter(statuses=[IncidentStatus.OPEN]))
    )
    assert again.id == saved.id
    assert [(p.name, p.filters.statuses) for p in presets.list_presets(ann)] == [
        ("Mine", [IncidentStatus.OPEN])
    ]
    assert presets.list_presets(ben) == []
    with pytest.raises(DomainError) as caught:
        presets.delete_preset(ben, saved.id)
    assert caught.value.code is ErrorCode.NOT_FOUND
    presets.delete_preset(ann, saved.id)
    assert presets.list_presets(ann) == []

"""Pure helpers of the incident dashboard, the incident page and the escalation editor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.core.events import DomainEvent
from backend.escalation.policy import TargetKind
from backend.escalation.schemas import LevelOut, PolicyOut, TargetOut
from backend.incidents.models import IncidentEventKind, IncidentStatus, Severity
from backend.incidents.schemas import BulkItem, BulkResult, IncidentFilter, TimelineEntry
from backend.notifications.models import ChannelKind, NotificationStatus
from backend.notifications.schemas import AttemptOut, NotificationOut
from oncall_app.state.escalation import (
    LevelRow,
    TargetRow,
    draft_of,
    groups_of,
    levels_payload,
    parse_at,
)
from oncall_app.state.incident_detail import delivery_rows, link_pair, timeline_row
from oncall_app.state.incidents import (
    ACTIVE,
    IncidentRow,
    build_filter,
    bulk_rows,
    describe,
    duration_text,
    filter_values,
    flip,
    preset_filter,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _event(name: str, **payload: object) -> DomainEvent:
    return DomainEvent(
        name=name, payload=payload, topics=("incidents",), actor_label="alice@x.test"
    )


def test_toasts_name_who_did_what_to_which_incident() -> None:
    event = _event("incidents.incident.acknowledged", incident_id=123, title="Disk full")
    assert describe(event) == "alice@x.test acknowledged #123 Disk full"
    assert describe(_event("incidents.incident.opened", incident_id=7)) == (
        "alice@x.test opened #7"
    )
    assert describe(_event("incidents.incident.note_added", incident_id=7)) == (
        "alice@x.test added a note to #7"
    )
    assert describe(_event("alerts.alert.received", incident_id=7)) == ""
    engine = DomainEvent(
        name="incidents.incident.escalated",
        payload={"incident_id": 7, "step": 1},
        topics=("incidents",),
        actor_label="escalation",
    )
    assert describe(engine) == "#7 escalated"
    assert describe(_event("incidents.incident.resolved")) == ""


def test_filters_round_trip_through_a_preset() -> None:
    flt = build_filter(
        status=ACTIVE, severity="HIGH", service="4", team="2", mine=True, since="24h", now=NOW
    )
    assert flt.statuses == [IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED]
    assert flt.severities == [Severity.HIGH]
    assert flt.service_ids == [4]
    assert flt.team_ids == [2]
    assert flt.assigned_to_me is True
    assert flt.opened_after == NOW - timedelta(hours=24)
    saved = preset_filter(flt)
    assert saved.opened_after is None  # a preset never pins a past day
    assert filter_values(saved) == {
        "status": ACTIVE,
        "severity": "HIGH",
        "service": "4",
        "team": "2",
        "mine": True,
    }
    assert filter_values(IncidentFilter()) == {
        "status": "",
        "severity": "",
        "service": "",
        "team": "",
        "mine": False,
    }


def test_unknown_select_values_are_ignored() -> None:
    flt = build_filter(
        status="nope", severity="x", service="abc", team="", mine=False, since="1y", now=NOW
    )
    assert flt == IncidentFilter()


def test_durations_read_like_people_talk() -> None:
    assert duration_text(None) == "—"
    assert duration_text(42) == "42 s"
    assert duration_text(4 * 60 + 10) == "4 min"
    assert duration_text(2 * 3600 + 5 * 60) == "2 h 5 min"
    assert duration_text(3 * 3600) == "3 h"
    assert duration_text(27 * 3600) == "1 d 3 h"


def _row(ident: int, status: str = "OPEN") -> IncidentRow:
    return IncidentRow(
        id=ident, title="t", status=status, severity="HIGH", priority="", service_id=1,
        service_name="s", team_name="", assignee_name="", alert_count=1,
        opened_at=NOW.isoformat(), escalation="", in_maintenance=False,
    )  # fmt: skip


def test_optimistic_flip_touches_one_row_and_rolls_back() -> None:
    rows = [_row(1), _row(2)]
    flipped = flip(rows, 2, "ACKNOWLEDGED", pending=True)
    assert [(r.status, r.pending) for r in flipped] == [("OPEN", False), ("ACKNOWLEDGED", True)]
    back = flip(flipped, 2, "OPEN", pending=False)
    assert [(r.status, r.pending) for r in back] == [("OPEN", False), ("OPEN", False)]


def test_bulk_rows_say_what_happened_to_each() -> None:
    result = BulkResult(
        succeeded=1,
        failed=1,
        items=[
            BulkItem(
                incident_id=1,
                ok=True,
                status=IncidentStatus.ACKNOWLEDGED,
                error_code=None,
                error_detail=None,
            ),
            BulkItem(
                incident_id=2,
                ok=False,
                status=IncidentStatus.RESOLVED,
                error_code="invalid_transition",
                error_detail="It can no longer be acknowledged.",
            ),
        ],
    )
    rows = bulk_rows(result)
    assert [(r.incident_id, r.ok, r.text) for r in rows] == [
        (1, True, "now acknowledged"),
        (2, False, "It can no longer be acknowledged."),
    ]


def test_timeline_rows_carry_only_the_backends_sanitised_html() -> None:
    note = TimelineEntry(
        id=1, at=NOW, kind=IncidentEventKind.NOTE, actor_label="a", summary="a added a note.",
        data={"markdown": "**x**", "html": "<p><strong>x</strong></p>"},
    )  # fmt: skip
    row = timeline_row(note)
    assert row.html == "<p><strong>x</strong></p>"
    assert row.icon == "message_square_text"
    ack = timeline_row(note.model_copy(update={"kind": IncidentEventKind.ACKNOWLEDGED, "data": {}}))
    assert (ack.html, ack.icon) == ("", "check")
    odd = timeline_row(note.model_copy(update={"data": {"html": 5}}))
    assert odd.html == ""


def _policy() -> PolicyOut:
    return PolicyOut(
        id=3, team_id=1, team_name="Payments", name="Primary", description="", repeat=1,
        is_default=True, service_ids=[5],
        levels=[
            LevelOut(position=1, timeout_minutes=5, targets=[
                TargetOut(type=TargetKind.USER, id=7, name="Bob"),
                TargetOut(type=TargetKind.SCHEDULE, id=2, name="Follow the sun"),
            ]),
        ],
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def test_policy_draft_round_trips_to_the_service_input() -> None:
    draft = draft_of(_policy())
    assert draft == [
        LevelRow(
            timeout=5,
            targets=[
                TargetRow(key="user:7", name="Bob", is_schedule=False),
                TargetRow(key="schedule:2", name="Follow the sun", is_schedule=True),
            ],
        )
    ]
    assert levels_payload(draft) == [
        {
            "timeout_minutes": 5,
            "targets": [{"type": "user", "id": 7}, {"type": "schedule", "id": 2}],
        }
    ]


def test_policies_group_by_team_with_the_default_first() -> None:
    other = _policy().model_copy(update={"id": 4, "name": "Aardvark", "is_default": False})
    groups = groups_of([other, _policy()], {1: "Payments"})
    assert [g.team_name for g in groups] == ["Payments"]
    assert [p.name for p in groups[0].policies] == ["Primary", "Aardvark"]
    assert groups[0].policies[0].levels == ["Level 1: Bob, Follow the sun (schedule) · then 5 min"]


def test_preview_time_is_read_as_utc() -> None:
    assert parse_at("") is None
    assert parse_at("soon") is None
    assert parse_at("2026-11-23T09:30") == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def test_alert_links_are_labelled_and_only_http() -> None:
    pair = link_pair({"href": "https://grafana.example/d/1", "text": "Grafana"})
    assert (pair.key, pair.value) == ("Grafana", "https://grafana.example/d/1")
    bare = link_pair({"href": "https://x.example/"})
    assert (bare.key, bare.value) == ("https://x.example/", "https://x.example/")
    assert link_pair({"href": "javascript:alert(1)", "text": "x"}).value == ""


def _notification(ident: int, status: str, attempts: list[tuple[str, str]]) -> NotificationOut:
    at = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    return NotificationOut(
        id=ident,
        purpose="page",
        incident_id=7,
        page_request_id=3,
        user_id=2,
        user_name="Ann",
        channel=ChannelKind.EMAIL,
        address="ann@example.org",
        provider="ses",
        status=NotificationStatus(status),
        attempts=len(attempts),
        next_attempt_at=None,
        last_error="SES 400 MessageRejected" if status == "failed" else "",
        created_at=at,
        finished_at=None,
        attempt_log=[
            AttemptOut(
                attempt=n + 1,
                provider=provider,
                status=NotificationStatus(status),
                duration_ms=12,
                response=response,
                at=at + timedelta(seconds=n),
            )
            for n, (provider, response) in enumerate(attempts)
        ],
    )


def test_delivery_rows_show_the_latest_attempt_oldest_notification_first() -> None:
    rows = delivery_rows(
        [
            _notification(9, "failed", []),
            _notification(
                8, "delivered", [("smtp", "SMTP 451"), ("ses", "SES accepted; SES delivered")]
            ),
        ]
    )
    assert [(r.id, r.status, r.color, r.provider, r.attempts) for r in rows] == [
        (8, "delivered", "green", "ses", 2),
        (9, "failed", "red", "ses", 0),
    ]
    assert rows[0].response == "SES accepted; SES delivered"
    assert rows[0].at == "2026-03-04T10:00:01+00:00"
    # No attempt recorded: the notification's own error and time.
    assert (rows[1].response, rows[1].at) == (
        "SES 400 MessageRejected",
        "2026-03-04T10:00:00+00:00",
    )

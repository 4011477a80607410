"""Pure helpers of the Integrations and Alerts pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.ingest.models import DeliveryOutcome
from backend.ingest.schemas import AlertOutcome, IngestResult
from oncall_app.state.alerts import MAX_ROWS, AlertRow, merge_live
from oncall_app.state.integrations import dedup_seconds, describe_test, since_from

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _row(alert_id: int, status: str = "firing", *, fresh: bool = False) -> AlertRow:
    return AlertRow(
        id=alert_id, severity="HIGH", status=status, service_id=1, service_name="Checkout",
        title=f"alert {alert_id}", source="", dedup_key=f"k{alert_id}",
        received_at=NOW.isoformat(), incident_id=0, fresh=fresh,
    )  # fmt: skip


def test_dedup_minutes_become_seconds_and_bad_input_goes_to_validation() -> None:
    assert dedup_seconds("15") == 900
    assert dedup_seconds("") == 900
    assert dedup_seconds(None) == 900
    assert dedup_seconds("0") == 0
    assert dedup_seconds("1.5") == "1.5"
    assert dedup_seconds("soon") == "soon"


def test_since_presets() -> None:
    assert since_from("24h", NOW) == NOW - timedelta(hours=24)
    assert since_from("7d", NOW) == NOW - timedelta(days=7)
    assert since_from("", NOW) is None
    assert since_from("forever", NOW) is None


def test_describe_test_names_the_alert_and_incident() -> None:
    result = IngestResult(
        delivery_id=3,
        outcome=DeliveryOutcome.ACCEPTED,
        alerts=[AlertOutcome(id=42, outcome="new", incident_id=7, dedup_key="oncall-test-x")],
    )
    assert describe_test(result) == ("Test alert accepted", "alert #42 new · incident #7")
    ignored = IngestResult(delivery_id=4, outcome=DeliveryOutcome.IGNORED, note="no alerts")
    assert describe_test(ignored) == ("Test alert ignored", "no alerts")


def test_merge_live_puts_arrivals_first_marked_fresh_and_refreshes_status() -> None:
    current = [_row(5), _row(4, fresh=True), _row(3)]
    newest = [_row(7), _row(6), _row(5, "resolved"), _row(4)]
    merged = merge_live(current, newest)
    assert [(r.id, r.status, r.fresh) for r in merged] == [
        (7, "firing", True),
        (6, "firing", True),
        (5, "resolved", False),
        (4, "firing", True),
        (3, "firing", False),
    ]


def test_merge_live_caps_the_list() -> None:
    current = [_row(i) for i in range(MAX_ROWS, 0, -1)]
    merged = merge_live(current, [_row(MAX_ROWS + 1)])
    assert len(merged) == MAX_ROWS
    assert merged[0].id == MAX_ROWS + 1
    assert merged[-1].id == 2

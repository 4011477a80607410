"""``/api/health/ready`` shows each notification provider's circuit breaker (NOTIF-04) as
details: the state and the failure count, never the last error, and never a 503 for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from fastapi.testclient import TestClient

from backend.core.settings import get_settings
from backend.notifications import health

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_ready_shows_each_provider_breaker_and_stays_ready_when_one_is_open(
    client: TestClient,
) -> None:
    s = get_settings().notifications
    with time_machine.travel(T0, tick=False) as traveller:
        health.record("smtp", ok=True, retryable=False, summary="250 ok", s=s)
        for _ in range(s.breaker_failures):
            health.record("twilio", ok=False, retryable=True, summary="503 from +15550001", s=s)
        answer = client.get("/api/health/ready")
        assert answer.status_code == 200
        body = answer.json()
        assert body["providers"] == {
            "smtp": {"state": "closed", "consecutive_failures": 0},
            "twilio": {"state": "open", "consecutive_failures": 3},
        }
        assert "+15550001" not in answer.text  # the last error stays on the signed-in page
        traveller.shift(timedelta(seconds=s.breaker_open_seconds + 1))
        later = client.get("/api/health/ready").json()["providers"]["twilio"]
        assert later == {"state": "half_open", "consecutive_failures": 3}

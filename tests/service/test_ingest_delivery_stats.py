"""The delivery log for the admin UI: the time filter and per-integration recent counts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine

from backend.core import clock
from backend.ingest import integrations
from backend.ingest import service as ingest
from backend.ingest.errors import InvalidSignature
from backend.ingest.models import DeliveryOutcome, IntegrationType
from tests.factories.ingest import ADMIN, make_integration, make_service, send_generic


def _bad_signature(key: str) -> None:
    body = json.dumps({"title": "forged"}).encode()
    headers = {
        "content-type": "application/json",
        "x-oncall-timestamp": str(int(clock.now().timestamp())),
        "x-oncall-signature": "v1=" + "0" * 64,
    }
    with pytest.raises(InvalidSignature):
        ingest.ingest(
            ingest.InboundRequest(
                provider=IntegrationType.GENERIC, key=key, body=body,
                content_type="application/json", headers=headers,
            )
        )  # fmt: skip


def test_delivery_log_since_and_stats_by_outcome() -> None:
    created = make_integration()
    quiet = make_integration(service_id=make_service("Quiet"))
    start = clock.now()
    with time_machine.travel(start - timedelta(hours=30), tick=False):
        send_generic(created, {"title": "old", "dedup_key": "old"})
    with time_machine.travel(start, tick=False):
        send_generic(created, {"title": "Disk full", "dedup_key": "disk"})
        send_generic(created, {"title": "Disk full", "dedup_key": "disk"})  # repeated body
        _bad_signature(created.integration.key)

        iid = created.integration.id
        recent = integrations.list_deliveries(ADMIN, iid, since=start - timedelta(hours=24))
        assert [d.outcome for d in recent] == [
            DeliveryOutcome.REJECTED,
            DeliveryOutcome.DUPLICATE,
            DeliveryOutcome.ACCEPTED,
        ]
        assert recent[0].reason == "invalid_signature"
        assert len(integrations.list_deliveries(ADMIN, iid)) == 4

        stats = integrations.delivery_stats(
            ADMIN, [iid, quiet.integration.id], since=start - timedelta(hours=24)
        )
    assert stats[iid].counts == {"accepted": 1, "duplicate": 1, "rejected": 1}
    assert stats[iid].last_outcome is DeliveryOutcome.REJECTED
    assert stats[iid].last_received_at is not None
    assert abs(stats[iid].last_received_at - start) < timedelta(seconds=1)
    assert stats[quiet.integration.id].counts == {}
    assert stats[quiet.integration.id].last_received_at is None

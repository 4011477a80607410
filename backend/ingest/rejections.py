"""Telling open delivery logs that a delivery was refused (INT-03's log, live).

At most one event per integration per second per process: a flood of badly signed requests
must not become a flood of page refreshes. A refusal inside the quiet second is still in the
log; the page shows it on its next refresh (any later event, or a reload).
"""

from __future__ import annotations

import threading
import time

from backend.core.events import DomainEvent, publish_all

QUIET_SECONDS = 1.0
_now = time.monotonic  # replaced by tests
_last: dict[int, float] = {}
_lock = threading.Lock()


def announce(integration_id: int, reason: str) -> None:
    """Publish ``ingest.delivery.rejected`` unless one went out for it within the quiet
    second."""
    now = _now()
    with _lock:
        if now - _last.get(integration_id, float("-inf")) < QUIET_SECONDS:
            return
        _last[integration_id] = now
        if len(_last) > 10_000:  # bounded: forget integrations quiet for a while
            for key, at in list(_last.items()):
                if now - at >= QUIET_SECONDS:
                    _last.pop(key, None)
    publish_all(
        [
            DomainEvent(
                name="ingest.delivery.rejected",
                payload={"integration_id": integration_id, "reason": reason},
                topics=("integrations",),
            )
        ]
    )

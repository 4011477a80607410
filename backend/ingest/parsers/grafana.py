"""Grafana Alerting webhook contact point: Alertmanager's shape plus Grafana's extras.

Dashboard, panel and silence URLs become links; ``values`` stay in the raw payload.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from backend.ingest.normalise import ParseContext, ParsedDelivery, links_from
from backend.ingest.parsers.alertmanager import alert_from
from backend.ingest.parsers.common import require_list, require_object


def parse(body: Any, ctx: ParseContext) -> ParsedDelivery:
    """Parse a Grafana webhook notification.

    Raises:
        ValidationFailed: not an object, or ``alerts`` missing/empty/not objects.
    """
    data = require_object(body)
    alerts = []
    for item in require_list(data, "alerts"):
        alert = alert_from(item, data, ctx)
        extra = links_from(
            [
                {"href": item.get("dashboardURL"), "text": "Dashboard"},
                {"href": item.get("panelURL"), "text": "Panel"},
                {"href": item.get("silenceURL"), "text": "Silence"},
            ]
        )
        alerts.append(replace(alert, links=[*alert.links, *extra]))
    return ParsedDelivery(alerts=alerts)

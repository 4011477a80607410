"""One pure parser per provider: ``parse(body, ctx) -> ParsedDelivery``.

``body`` is the decoded JSON; parsers never touch the database, the clock or the network, and
raise :class:`ValidationFailed` (field-level) when a payload lacks what they need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.ingest.models import IntegrationType
from backend.ingest.normalise import ParseContext, ParsedDelivery
from backend.ingest.parsers.alertmanager import parse as parse_alertmanager
from backend.ingest.parsers.cloudwatch import parse as parse_cloudwatch
from backend.ingest.parsers.datadog import parse as parse_datadog
from backend.ingest.parsers.generic import parse as parse_generic
from backend.ingest.parsers.grafana import parse as parse_grafana
from backend.ingest.parsers.newrelic import parse as parse_newrelic
from backend.ingest.parsers.pagerduty import parse as parse_pagerduty

Parser = Callable[[Any, ParseContext], ParsedDelivery]

PARSERS: dict[IntegrationType, Parser] = {
    IntegrationType.GENERIC: parse_generic,
    IntegrationType.ALERTMANAGER: parse_alertmanager,
    IntegrationType.GRAFANA: parse_grafana,
    IntegrationType.DATADOG: parse_datadog,
    IntegrationType.NEWRELIC: parse_newrelic,
    IntegrationType.CLOUDWATCH: parse_cloudwatch,
    IntegrationType.PAGERDUTY: parse_pagerduty,
}

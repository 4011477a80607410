"""Pure helpers for the admin UI: the URL of an integration, a working ``curl`` example, and
a test payload in each provider's own format (so "send test alert" exercises its parser)."""

from __future__ import annotations

import json
import shlex
from typing import Any

from backend.ingest.models import IntegrationType


def integration_url(base_url: str, key: str, kind: IntegrationType) -> str:
    base = base_url.rstrip("/")
    if kind is IntegrationType.PAGERDUTY:
        return f"{base}/v2/enqueue"
    suffix = "alerts" if kind is IntegrationType.GENERIC else kind.value
    return f"{base}/api/v1/integrations/{key}/{suffix}"


def sample_payload(kind: IntegrationType, *, nonce: str, secret: str = "") -> dict[str, Any]:
    """A minimal firing alert in ``kind``'s format; ``nonce`` makes it a new delivery."""
    title = "Test alert from OnCall"
    key = f"oncall-test-{nonce}"
    if kind in (IntegrationType.ALERTMANAGER, IntegrationType.GRAFANA):
        return {
            "version": "4",
            "status": "firing",
            "receiver": "oncall",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "OnCallTest", "severity": "info"},
                    "annotations": {"summary": title},
                    "fingerprint": key,
                }
            ],
        }
    if kind is IntegrationType.DATADOG:
        return {
            "id": key,
            "title": f"[Triggered] {title}",
            "alert_cycle_key": key,
            "alert_type": "info",
        }
    if kind is IntegrationType.NEWRELIC:
        return {"id": key, "title": title, "priority": "LOW", "state": "ACTIVATED", "updatedAt": 0}
    if kind is IntegrationType.CLOUDWATCH:
        alarm = {"AlarmName": "OnCallTest", "NewStateValue": "ALARM", "AlarmArn": key}
        return {"Type": "Notification", "MessageId": key, "Message": json.dumps(alarm)}
    if kind is IntegrationType.PAGERDUTY:
        return {
            "routing_key": secret,
            "event_action": "trigger",
            "dedup_key": key,
            "payload": {"summary": title, "source": "oncall", "severity": "info"},
        }
    return {"title": title, "severity": "info", "dedup_key": key, "source": "oncall"}


def curl_example(base_url: str, key: str, kind: IntegrationType, secret: str) -> str:
    """A shell snippet that sends a test alert exactly as the integration expects it.

    The generic webhook's signature covers a timestamp, so the snippet computes both at run
    time with ``openssl`` rather than embedding a signature that expires in 5 minutes.
    """
    url = integration_url(base_url, key, kind)
    body = json.dumps(sample_payload(kind, nonce="curl", secret=secret), separators=(",", ":"))
    if kind is IntegrationType.GENERIC:
        return "\n".join(
            [
                f"SECRET={shlex.quote(secret)}",
                f"BODY={shlex.quote(body)}",
                "TS=$(date +%s)",
                'SIG=$(printf \'%s.%s\' "$TS" "$BODY"'
                " | openssl dgst -sha256 -hmac \"$SECRET\" -hex | sed 's/^.* //')",
                f"curl -sS -X POST {shlex.quote(url)} \\",
                "  -H 'Content-Type: application/json' \\",
                '  -H "X-OnCall-Timestamp: $TS" -H "X-OnCall-Signature: v1=$SIG" \\',
                '  --data-binary "$BODY"',
            ]
        )
    auth = (
        ""
        if kind is IntegrationType.PAGERDUTY
        else f"  -H {shlex.quote('Authorization: Bearer ' + secret)} \\\n"
    )
    return (
        f"curl -sS -X POST {shlex.quote(url)} \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"{auth}"
        f"  --data-binary {shlex.quote(body)}"
    )

"""``POST /v2/enqueue``: PagerDuty Events API v2, answered in PagerDuty's own shapes so its
client libraries work unchanged (docs/integrations/pagerduty.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from backend.api.routes.ingest import ERRORS, in_ingest_thread, inbound
from backend.core.errors import ValidationFailed
from backend.ingest import service as ingest

router = APIRouter(tags=["ingest"])

_EXAMPLE_EVENT = {
    "routing_key": "<the integration's secret>",
    "event_action": "trigger",
    "dedup_key": "samplekeyhere",
    "payload": {
        "summary": "Example alert on host1.example.com",
        "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987",
        "severity": "info",
    },
}


def _invalid(exc: ValidationFailed) -> JSONResponse:
    messages = [f"'{'.'.join(str(p) for p in e.loc[1:]) or 'body'}' {e.msg}" for e in exc.errors]
    if any(e.msg == "Invalid routing key" for e in exc.errors):
        messages = ["Invalid routing key"]
    body = {"status": "invalid event", "message": "Event object is invalid", "errors": messages}
    return JSONResponse(body, status_code=400)


@router.post(
    "/v2/enqueue",
    status_code=202,
    responses={
        202: {
            "content": {
                "application/json": {
                    "example": {
                        "status": "success",
                        "message": "Event processed",
                        "dedup_key": "samplekeyhere",
                    }
                }
            }
        },
        400: {
            "content": {
                "application/json": {
                    "example": {
                        "status": "invalid event",
                        "message": "Event object is invalid",
                        "errors": [
                            "'payload.severity' must be one of critical, error, warning, info"
                        ],
                    }
                }
            }
        },
        413: ERRORS[413],
        415: ERRORS[415],
        503: ERRORS[503],
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}, "example": _EXAMPLE_EVENT}
            },
        }
    },
)
async def enqueue(request: Request) -> JSONResponse:
    """Send a PagerDuty Events API v2 event; ``routing_key`` is an integration's secret."""
    request_in = await inbound(request, None, None)
    try:
        result = await in_ingest_thread(ingest.enqueue_pagerduty, request_in)
    except ValidationFailed as exc:
        return _invalid(exc)
    dedup_key: Any = result.alerts[0].dedup_key if result.alerts else None
    body = {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
    return JSONResponse(body, status_code=202)

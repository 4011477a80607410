""" "Send test alert" (INT-05): a real delivery in the provider's own format, authenticated with
the integration's secret, through the same public ingest path a monitoring tool uses."""

from __future__ import annotations

import hmac
import json
import secrets
from hashlib import sha256

from backend.core import clock, secretbox
from backend.core.actor import Actor
from backend.core.db import unit_of_work
from backend.ingest import access, service
from backend.ingest.errors import IntegrationNotFound
from backend.ingest.examples import sample_payload
from backend.ingest.models import Integration, IntegrationType
from backend.ingest.schemas import IngestResult
from backend.teams.policy import TeamAction


def send_test_alert(actor: Actor, integration_id: int) -> IngestResult:
    """Send an INFO test alert to the integration (RESPONDER of the owning team).

    It opens (or joins) a real incident on the service, like any alert would.

    Raises:
        IntegrationNotFound, PermissionDenied, and anything :func:`service.ingest` raises.
    """
    with unit_of_work() as uow:
        row = uow.session.get(Integration, integration_id)
        if row is None or row.service_id is None:
            raise IntegrationNotFound(f"Integration {integration_id} does not exist.")
        access.authorize_service(uow.session, actor, row.service_id, TeamAction.RESPOND)
        key, kind, secret = row.key, row.type, secretbox.decrypt(row.secret_encrypted)
    body = json.dumps(sample_payload(kind, nonce=secrets.token_hex(6), secret=secret)).encode()
    headers = {"content-type": "application/json", "user-agent": f"oncall-test ({actor.label})"}
    if kind is IntegrationType.PAGERDUTY:
        request = service.InboundRequest(
            provider=None, body=body, headers=headers, content_type="application/json"
        )
        return service.enqueue_pagerduty(request)
    if kind is IntegrationType.GENERIC:
        timestamp = str(int(clock.now().timestamp()))
        digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, sha256).hexdigest()
        headers |= {"x-oncall-timestamp": timestamp, "x-oncall-signature": f"v1={digest}"}
    else:
        headers["authorization"] = f"Bearer {secret}"
    request = service.InboundRequest(
        provider=kind, key=key, body=body, headers=headers, content_type="application/json",
        remote_ip=actor.ip or "",
    )  # fmt: skip
    return service.ingest(request)

"""Demo integrations: one of every type, on the first demo service.

Seeding is idempotent: a re-run neither creates nor rotates anything. The API and UI show a
secret only when it is created or rotated; this operator command, which runs with the server's
secret key, decrypts the stored demo secrets to print them again, so senders configured from an
earlier run keep working.
"""

from __future__ import annotations

from sqlmodel import select

from backend.core import secretbox
from backend.core.actor import Actor
from backend.core.db import unit_of_work
from backend.ingest import integrations
from backend.ingest.models import Integration, IntegrationType
from backend.ingest.schemas import IntegrationCreate


def _name(kind: IntegrationType) -> str:
    return f"Demo {kind.value}"


def _existing(service_id: int) -> dict[str, tuple[int, str]]:
    with unit_of_work() as uow:
        rows = uow.session.exec(select(Integration).where(Integration.service_id == service_id))
        return {row.name: (row.id or 0, secretbox.decrypt(row.secret_encrypted)) for row in rows}


def ensure_integrations(actor: Actor, service_id: int) -> list[dict[str, str]]:
    """Create what is missing of one integration per type; returns type, URL and secret."""
    existing = _existing(service_id)
    shown: list[dict[str, str]] = []
    for kind in IntegrationType:
        if _name(kind) in existing:
            integration_id, secret = existing[_name(kind)]
            url = integrations.get_integration(actor, integration_id).url
        else:
            data = IntegrationCreate(name=_name(kind), type=kind, service_id=service_id)
            created = integrations.create_integration(actor, data)
            url, secret = created.integration.url, created.secret
        shown.append({"type": kind.value, "url": url, "secret": secret})
    return shown

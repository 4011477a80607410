"""Deleting a service that incidents and alerts still reference is a 409, not a crash."""

from __future__ import annotations

import pytest

from backend.catalog import service as catalog
from backend.catalog.errors import ServiceHasHistory
from backend.core.actor import Actor
from tests.factories.ingest import make_integration, send_generic


def test_a_service_with_incidents_cannot_be_deleted_and_stays() -> None:
    created = make_integration()
    service_id = created.integration.service_id
    assert service_id is not None
    send_generic(created, {"title": "Disk full"})
    with pytest.raises(ServiceHasHistory) as refused:
        catalog.delete_service(Actor.cli(), service_id)
    assert refused.value.status == 409
    assert catalog.get_service(Actor.cli(), service_id).id == service_id


def test_a_service_without_history_is_deleted() -> None:
    service_id = make_integration().integration.service_id
    assert service_id is not None
    catalog.delete_service(Actor.cli(), service_id)

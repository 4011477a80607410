"""`oncall demo seed` makes one integration per type and prints working secrets on every run."""

from __future__ import annotations

from backend.demo import seed
from backend.ingest.models import IntegrationType
from backend.ingest.service import InboundRequest, ingest
from tests.factories.ingest import sign


def test_seed_prints_one_working_integration_per_type_and_is_idempotent() -> None:
    first = seed.seed()["integrations"]
    assert [i["type"] for i in first] == [t.value for t in IntegrationType]
    again = seed.seed()["integrations"]
    assert again == first
    generic = next(i for i in again if i["type"] == "generic")
    body = b'{"title": "demo"}'
    key = generic["url"].split("/")[-2]
    result = ingest(
        InboundRequest(
            provider=IntegrationType.GENERIC, key=key, body=body,
            content_type="application/json", headers=sign(generic["secret"], body),
        )
    )  # fmt: skip
    assert [a.outcome for a in result.alerts] == ["new"]

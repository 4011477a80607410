"""CloudWatch through SNS with signature checking on (the default): AWS's sample alarm,
re-signed by our stand-in certificate, is accepted; the same alarm unsigned, tampered with,
or pointing at a certificate outside Amazon SNS is refused with 401 and stores nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import unit_of_work
from backend.core.settings import get_settings
from backend.ingest.models import Alert, IntegrationType
from tests.factories.ingest import make_integration
from tests.factories.sns import certificate_server, signed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "payloads" / "cloudwatch"


@pytest.fixture
def cert_prefix(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with certificate_server() as prefix:
        monkeypatch.setenv("ONCALL_INGEST__SNS_VERIFY_SIGNATURES", "true")
        monkeypatch.setenv("ONCALL_INGEST__SNS_TEST_CERT_URL_PREFIX", prefix)
        get_settings.cache_clear()
        yield prefix
    get_settings.cache_clear()


def _alarm() -> dict[str, Any]:
    sample = json.loads((FIXTURES / "alarm.json").read_text())
    return {k: v for k, v in sample.items() if k not in ("Signature", "SigningCertURL")}


def _post(client: TestClient, url: str, message: dict[str, Any]) -> Any:
    return client.post(
        url, content=json.dumps(message), headers={"Content-Type": "text/plain; charset=UTF-8"}
    )


def _alerts() -> int:
    with unit_of_work() as uow:
        return len(list(uow.session.exec(select(Alert))))


def test_a_signed_alarm_is_accepted_and_a_doubtful_one_refused(
    client: TestClient, cert_prefix: str
) -> None:
    created = make_integration(IntegrationType.CLOUDWATCH)
    url = f"/api/v1/integrations/{created.integration.key}/cloudwatch?token={created.secret}"
    good = signed(_alarm(), version="1", cert_url=cert_prefix + "cert.pem")

    refusals = {
        "unsigned": _alarm(),
        "tampered": {**good, "Message": good["Message"].replace("93.2", "12.0")},
        "foreign certificate": signed(_alarm(), cert_url="https://evil.example/cert.pem"),
        "certificate not found": signed(_alarm(), cert_url=cert_prefix + "missing.pem"),
    }
    for why, message in refusals.items():
        response = _post(client, url, message)
        assert response.status_code == 401, (why, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "invalid_signature", why
    assert _alerts() == 0

    accepted = _post(client, url, good)
    assert accepted.status_code == 202, accepted.text
    assert _alerts() == 1


def test_the_check_can_be_turned_off(client: TestClient) -> None:
    # tests/conftest.py turns it off for the suites that post AWS's unsigned samples.
    assert get_settings().ingest.sns_verify_signatures is False
    created = make_integration(IntegrationType.CLOUDWATCH)
    url = f"/api/v1/integrations/{created.integration.key}/cloudwatch?token={created.secret}"
    assert _post(client, url, _alarm()).status_code == 202

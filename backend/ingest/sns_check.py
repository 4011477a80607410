"""The SNS signature check as our SNS endpoints call it (CloudWatch alarms on the ingest path,
SES events): one certificate cache per process, settings read per call; for the ingest path,
failures as 401 problems."""

from __future__ import annotations

from functools import cache
from typing import Any

from backend.core.settings import get_settings
from backend.ingest.errors import InvalidSignature
from backend.ingest.sns_signature import CertificateCache, SnsSignatureError, verify


@cache
def _certificates(test_prefix: str) -> CertificateCache:
    return CertificateCache(extra_url_prefix=test_prefix)


def verify_if_enabled(data: dict[str, Any]) -> None:
    """Check an SNS message's signature unless ``ingest.sns_verify_signatures`` is off; shared
    by every SNS endpoint (CloudWatch alarms, SES events), with one certificate cache.

    Raises:
        SnsSignatureError: not provably from SNS (the text says why).
    """
    settings = get_settings().ingest
    if settings.sns_verify_signatures:
        verify(data, _certificates(settings.sns_test_cert_url_prefix))


def verify_delivery(data: Any) -> None:
    """Refuse an SNS delivery whose signature does not prove it came from SNS.

    Raises:
        InvalidSignature: not an object, unsigned, or signed by anyone but SNS (401).
    """
    if not get_settings().ingest.sns_verify_signatures:
        return
    if not isinstance(data, dict):
        raise InvalidSignature("An SNS delivery is a JSON object with its signature.")
    try:
        verify_if_enabled(data)
    except SnsSignatureError as exc:
        raise InvalidSignature(str(exc)) from exc

"""The CloudWatch integration's SNS signature check, as the ingest path calls it: one
certificate cache per process, settings read per call, failures as 401 problems."""

from __future__ import annotations

from functools import cache
from typing import Any

from backend.core.settings import get_settings
from backend.ingest.errors import InvalidSignature
from backend.ingest.sns_signature import CertificateCache, SnsSignatureError, verify


@cache
def _certificates(test_prefix: str) -> CertificateCache:
    return CertificateCache(extra_url_prefix=test_prefix)


def verify_delivery(data: Any) -> None:
    """Refuse an SNS delivery whose signature does not prove it came from SNS.

    Raises:
        InvalidSignature: not an object, unsigned, or signed by anyone but SNS (401).
    """
    settings = get_settings().ingest
    if not settings.sns_verify_signatures:
        return
    if not isinstance(data, dict):
        raise InvalidSignature("An SNS delivery is a JSON object with its signature.")
    try:
        verify(data, _certificates(settings.sns_test_cert_url_prefix))
    except SnsSignatureError as exc:
        raise InvalidSignature(str(exc)) from exc

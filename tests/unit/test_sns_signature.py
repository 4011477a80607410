"""SNS signature verification, with our own certificate standing in for Amazon's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from backend.ingest.sns_signature import CertificateCache, SnsSignatureError, verify
from tests.factories.sns import CERT_URL, PEM, certificate_server, signed

NOTIFICATION = {
    "Type": "Notification",
    "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
    "TopicArn": "arn:aws:sns:eu-west-1:123456789012:alarms",
    "Subject": 'ALARM: "cpu" in EU (Ireland)',
    "Message": '{"AlarmName":"cpu","NewStateValue":"ALARM"}',
    "Timestamp": "2026-12-03T12:00:00.000Z",
}
CONFIRMATION = {
    "Type": "SubscriptionConfirmation",
    "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
    "Token": "2336412f37",
    "TopicArn": "arn:aws:sns:eu-west-1:123456789012:alarms",
    "Message": "You have chosen to subscribe to the topic …",
    "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37",
    "Timestamp": "2026-12-03T12:00:00.000Z",
}


class CountingFetch:
    def __init__(self, pem: bytes = PEM) -> None:
        self.urls: list[str] = []
        self.pem = pem

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        return self.pem


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize(
    "message", [NOTIFICATION, CONFIRMATION], ids=["notification", "confirmation"]
)
def test_a_message_signed_by_the_certificate_verifies(
    version: str, message: dict[str, Any]
) -> None:
    verify(signed(message, version), CertificateCache(CountingFetch()))


def test_subject_is_optional_in_a_notification() -> None:
    without = {k: v for k, v in NOTIFICATION.items() if k != "Subject"}
    verify(signed(without), CertificateCache(CountingFetch()))


@pytest.mark.parametrize("field", ["Message", "TopicArn", "Timestamp", "Subject", "Type"])
def test_any_signed_field_changed_after_signing_is_refused(field: str) -> None:
    tampered = {
        **signed(NOTIFICATION),
        field: "SubscriptionConfirmation" if field == "Type" else "x",
    }
    with pytest.raises(SnsSignatureError):
        verify(tampered, CertificateCache(CountingFetch()))


def test_a_signature_by_another_key_is_refused() -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SnsSignatureError, match="does not match"):
        verify(signed(NOTIFICATION, key=other), CertificateCache(CountingFetch()))


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem",
        "https://evil.example/sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com/cert.pem?x=1",
        "https://s3.amazonaws.com/cert.pem",
    ],
)
def test_certificates_come_only_from_sns_addresses(url: str) -> None:
    fetch = CountingFetch()
    with pytest.raises(SnsSignatureError, match="not an Amazon SNS certificate"):
        verify(signed({**NOTIFICATION, "SigningCertURL": url}), CertificateCache(fetch))
    assert fetch.urls == []  # refused before any request is made


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"SignatureVersion": "3"}, "SignatureVersion"),
        ({"Signature": None}, "no SNS signature"),
        ({"Signature": "not base64!"}, "not base64"),
    ],
)
def test_unsigned_or_malformed_signatures_are_refused(change: dict[str, Any], reason: str) -> None:
    message = {k: v for k, v in {**signed(NOTIFICATION), **change}.items() if v is not None}
    with pytest.raises(SnsSignatureError, match=reason):
        verify(message, CertificateCache(CountingFetch()))


def test_the_certificate_is_fetched_once_then_cached_until_its_ttl() -> None:
    fetch = CountingFetch()
    cache = CertificateCache(fetch)
    for _ in range(3):
        verify(signed(NOTIFICATION), cache)
    assert fetch.urls == [CERT_URL]
    expiring = CertificateCache(fetch, ttl_seconds=0)
    verify(signed(NOTIFICATION), expiring)
    verify(signed(NOTIFICATION), expiring)
    assert len(fetch.urls) == 3


def test_a_certificate_that_is_not_pem_is_refused() -> None:
    with pytest.raises(SnsSignatureError, match="could not be fetched"):
        verify(signed(NOTIFICATION), CertificateCache(CountingFetch(b"<html>nope</html>")))


@pytest.fixture
def cert_server() -> Iterator[str]:
    with certificate_server() as prefix:
        yield prefix


def test_the_certificate_is_downloaded_over_http(cert_server: str) -> None:
    cache = CertificateCache(extra_url_prefix=cert_server)
    verify(signed({**NOTIFICATION, "SigningCertURL": cert_server + "cert.pem"}), cache)
    with pytest.raises(SnsSignatureError, match="could not be fetched"):
        verify(signed({**NOTIFICATION, "SigningCertURL": cert_server + "missing.pem"}), cache)

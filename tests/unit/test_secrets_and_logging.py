from __future__ import annotations

import io
import json
import logging

import structlog

from backend.core.logging import REDACTED, configure_logging, redact_mapping
from backend.core.secrets import hmac_sha256_hex, sha256_hex, verify_signature


def test_signature_accepts_v1_prefix_and_bare_hex() -> None:
    signature = hmac_sha256_hex("s3cret", b"123.body")
    assert verify_signature("s3cret", b"123.body", f"v1={signature}") is True
    assert verify_signature("s3cret", b"123.body", signature.upper()) is True


def test_signature_rejects_other_body_secret_and_garbage() -> None:
    signature = hmac_sha256_hex("s3cret", b"123.body")
    assert verify_signature("s3cret", b"123.bodx", f"v1={signature}") is False
    assert verify_signature("other", b"123.body", f"v1={signature}") is False
    assert verify_signature("s3cret", b"123.body", "v1=") is False


def test_sha256_hex_is_stable() -> None:
    assert sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_redact_mapping_hides_secret_keys_and_our_key_values() -> None:
    data = {
        "password": "hunter2",
        "Authorization": "Bearer abc.def",
        "nested": {"api_key": "x", "note": "key oc_api_ABCDEFGHIJKLMNOPQRSTUV leaked"},
        "items": ["Bearer tok123", "plain"],
        "name": "Alice",
    }
    assert redact_mapping(data) == {
        "password": REDACTED,
        "Authorization": REDACTED,
        "nested": {"api_key": REDACTED, "note": f"key {REDACTED} leaked"},
        "items": [REDACTED, "plain"],
        "name": "Alice",
    }


def test_json_logs_carry_context_and_never_secrets(capsys: object) -> None:
    configure_logging(json_output=True, level="INFO")
    with structlog.contextvars.bound_contextvars(request_id="req-123"):
        structlog.get_logger("t").info("login", password="hunter2", email="a@b.c")
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    line = json.loads(err.strip().splitlines()[-1])
    assert line["event"] == "login"
    assert line["request_id"] == "req-123"
    assert line["password"] == REDACTED
    assert line["email"] == "a@b.c"
    assert "hunter2" not in err
    logging.getLogger().handlers = [logging.StreamHandler(io.StringIO())]
    structlog.reset_defaults()

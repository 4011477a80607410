"""A browser's PushSubscription JSON as a contact method address (pure: no database)."""

from __future__ import annotations

import json

import pytest

from backend.core.errors import ValidationFailed
from backend.notifications.web_push_subscription import host_of, parse

P256DH = "B" + "A" * 86  # 65 bytes
AUTH = "A" * 22  # 16 bytes


def subscription(endpoint: str, **keys: str) -> str:
    return json.dumps({"endpoint": endpoint, "keys": {"p256dh": P256DH, "auth": AUTH, **keys}})


def test_stored_compact_with_sorted_keys_whatever_the_browser_sent() -> None:
    sent = json.dumps(
        {
            "keys": {"auth": AUTH, "p256dh": P256DH},
            "expirationTime": None,
            "endpoint": "https://fcm.googleapis.com/fcm/send/x",
        },
        indent=2,
    )
    parsed = parse(sent)
    assert parsed.address() == (
        '{"endpoint":"https://fcm.googleapis.com/fcm/send/x",'
        f'"keys":{{"auth":"{AUTH}","p256dh":"{P256DH}"}}}}'
    )
    assert parse(parsed.address()) == parsed
    assert host_of(parsed.address()) == "fcm.googleapis.com"


def test_plain_http_only_to_this_machine_and_only_with_the_test_setting() -> None:
    local = subscription("http://127.0.0.1:9/push")
    with pytest.raises(ValidationFailed):
        parse(local)
    assert parse(local, allow_insecure=True).endpoint == "http://127.0.0.1:9/push"
    with pytest.raises(ValidationFailed):
        parse(subscription("http://push.example/1"), allow_insecure=True)


@pytest.mark.parametrize(
    ("_case", "address", "message"),
    [
        ("auth too long", subscription("https://p.example/1", auth="A" * 24), "16 bytes, not 18"),
        ("p256dh not base64", subscription("https://p.example/1", p256dh="!!!"), "keys.p256dh"),
        ("no endpoint", json.dumps({"keys": {"p256dh": P256DH, "auth": AUTH}}), "no endpoint"),
        ("too long", subscription("https://p.example/" + "x" * 1000), "longer than 1024"),
    ],
)
def test_refused_with_a_field_error_on_address(_case: str, address: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse(address)
    (error,) = refused.value.errors
    assert error.loc == ("body", "address")
    assert message in error.msg


def test_host_of_something_unreadable_is_empty() -> None:
    assert (host_of("not json"), host_of("[]"), host_of('{"endpoint": 3}')) == ("", "", "")

"""The browser-push button's helpers: the subscribe script and reading its answer.

A headless Chromium here cannot reach a real push service, so subscribing is not driven end to
end; what the state stores from the browser's answer is checked here and by the service tests.
"""

from __future__ import annotations

import json

import pytest

from backend.notifications.models import ChannelKind
from oncall_app.state.browser_push import shown_address, subscribe_script, subscription_method

SUBSCRIPTION = {
    "endpoint": "https://fcm.googleapis.com/fcm/send/abc",
    "expirationTime": None,
    "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22},
}


def test_the_script_carries_the_key_as_a_js_string_and_never_throws() -> None:
    script = subscribe_script('k"ey')
    assert 'const key = "k\\"ey";' in script
    assert script.startswith("(async () => {")
    assert script.endswith("})()")
    assert "catch (error)" in script
    assert 'register("/sw.js", {scope: "/"})' in script


def test_a_subscription_becomes_a_web_push_method() -> None:
    answer = json.dumps({"ok": True, "subscription": SUBSCRIPTION, "label": " Chrome  on\nLinux "})
    method = subscription_method(answer)
    assert (method.kind, method.label) == (ChannelKind.WEB_PUSH, "Chrome on Linux")
    assert json.loads(method.address) == SUBSCRIPTION
    assert " " not in method.address


@pytest.mark.parametrize(
    ("_case", "answer", "message"),
    [
        ("permission denied", {"ok": False, "error": "Notifications are blocked"}, "blocked"),
        ("no subscription", {"ok": True}, "no subscription"),
        ("not an answer", None, "no answer"),
    ],
)
def test_refusals_are_told_to_the_user(_case: str, answer: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        subscription_method(json.dumps(answer) if answer is not None else None)


def test_the_list_shows_the_push_service_not_the_keys() -> None:
    assert shown_address("web_push", json.dumps(SUBSCRIPTION)) == (
        "browser push via fcm.googleapis.com"
    )
    assert shown_address("email", "ann@example.org") == "ann@example.org"

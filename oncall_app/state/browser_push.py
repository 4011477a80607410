"""The browser side of "Enable browser notifications on this device": the script that registers
``/sw.js`` and subscribes with the VAPID public key, and reading what it hands back.

The script runs through ``rx.call_script`` (Reflex awaits the promise and passes its value to
the callback event). It never throws: every outcome is a JSON string, either
``{"ok": true, "subscription": PushSubscription.toJSON(), "label": "..."}`` or
``{"ok": false, "error": "..."}``, so the user always gets an answer. A subscription made with
another key (the VAPID pair was replaced, ADR 0009) is dropped and made again.
"""

from __future__ import annotations

import json

from backend.notifications import web_push_subscription
from backend.notifications.models import ADDRESS_LENGTH, ChannelKind
from backend.notifications.schemas import ContactMethodIn

LABEL_ROOM = 80
ADDRESS_ROOM = ADDRESS_LENGTH

_SCRIPT = """(async () => {
  const answer = (value) => JSON.stringify(value);
  try {
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      return answer({ok: false, error: "This browser cannot receive push notifications."});
    }
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      return answer({ok: false,
        error: "Notifications are blocked for this site: allow them in the browser's settings."});
    }
    const key = __KEY__;
    const raw = atob(key.replace(/-/g, "+").replace(/_/g, "/")
      + "=".repeat((4 - key.length % 4) % 4));
    const serverKey = Uint8Array.from(raw, (c) => c.charCodeAt(0));
    const registration = await navigator.serviceWorker.register("/sw.js", {scope: "/"});
    await navigator.serviceWorker.ready;
    let subscription = await registration.pushManager.getSubscription();
    const made = subscription && subscription.options.applicationServerKey;
    const same = made && new Uint8Array(made).every((b, i) => b === serverKey[i])
      && made.byteLength === serverKey.length;
    if (subscription && !same) {
      await subscription.unsubscribe();
      subscription = null;
    }
    if (!subscription) {
      subscription = await registration.pushManager.subscribe(
        {userVisibleOnly: true, applicationServerKey: serverKey});
    }
    const platform = (navigator.userAgentData && navigator.userAgentData.platform)
      || navigator.platform || "";
    const brand = (navigator.userAgentData && navigator.userAgentData.brands || [])
      .map((b) => b.brand).find((b) => !/Not.A.Brand|Chromium/i.test(b)) || "Browser";
    return answer({ok: true, subscription: subscription.toJSON(),
      label: (brand + " on " + (platform || "this device")).trim()});
  } catch (error) {
    return answer({ok: false, error: String((error && error.message) || error)});
  }
})()"""


def subscribe_script(public_key: str) -> str:
    """The script subscribing this browser with ``public_key`` (applicationServerKey)."""
    return _SCRIPT.replace("__KEY__", json.dumps(public_key))


def subscription_method(result: object) -> ContactMethodIn:
    """The contact method to add from the script's answer.

    Raises:
        ValueError: the browser did not subscribe; the message says why, for the user.
    """
    try:
        answer = json.loads(result) if isinstance(result, str) else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise ValueError("The browser gave no answer; reload the page and try again.")
    if not answer.get("ok"):
        raise ValueError(str(answer.get("error") or "The browser did not subscribe."))
    subscription = answer.get("subscription")
    if not isinstance(subscription, dict):
        raise ValueError("The browser gave no subscription; reload the page and try again.")
    address = json.dumps(subscription, separators=(",", ":"))
    if len(address) > ADDRESS_ROOM:
        raise ValueError("This browser's subscription is too long to store.")
    label = " ".join(str(answer.get("label") or "This browser").split())[:LABEL_ROOM]
    return ContactMethodIn(kind=ChannelKind.WEB_PUSH, address=address, label=label)


def shown_address(kind: str, address: str) -> str:
    """What the list shows: a browser subscription as its push service, not its JSON keys."""
    if kind == ChannelKind.WEB_PUSH.value:
        return f"browser push via {web_push_subscription.host_of(address) or 'unknown service'}"
    return address

// OnCall's service worker (served at /sw.js, scope "/"): shows browser push notifications and
// opens the incident when one is clicked (NOTIF-01, MOBILE-02).
//
// A push carries JSON from backend/notifications/providers/web_push.py:
//   {"title": "...", "body": "...", "url": "https://oncall.example.org/incidents/7", "tag": "incident-7"}
// The tag keeps one notification per incident on the device; a later page replaces it and
// still alerts (renotify). Pages stay on screen until dismissed (requireInteraction).

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

function readPush(event) {
  if (!event.data) return {};
  try {
    return event.data.json();
  } catch (error) {
    return { body: event.data.text() };
  }
}

// Only our own origin: a push must never send the user to another site.
function sameOrigin(url) {
  try {
    const target = new URL(url || "/", self.location.origin);
    return target.origin === self.location.origin ? target.href : self.location.origin + "/";
  } catch (error) {
    return self.location.origin + "/";
  }
}

self.addEventListener("push", (event) => {
  const push = readPush(event);
  const options = {
    body: push.body || "",
    icon: "/favicon.svg",
    badge: "/favicon.svg",
    data: { url: sameOrigin(push.url) },
    requireInteraction: true,
  };
  if (push.tag) {
    options.tag = push.tag;
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(push.title || "OnCall", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = (event.notification.data && event.notification.data.url) || sameOrigin("/");
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) {
        if (client.url === target && "focus" in client) return client.focus();
      }
      for (const client of windows) {
        if ("navigate" in client) {
          try {
            const navigated = await client.navigate(target);
            if (navigated) return navigated.focus();
          } catch (error) {
            // An uncontrolled window cannot be navigated: open a new one below.
          }
        }
      }
      return self.clients.openWindow(target);
    })(),
  );
});

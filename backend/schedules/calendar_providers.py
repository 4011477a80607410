"""HTTP clients for one-way calendar sync: OAuth 2 (authorization URL, code exchange, refresh)
and event create/delete on Google Calendar v3 and Microsoft Graph (Outlook).

Every call has a timeout and at most ``max_attempts`` tries with exponential backoff; only
timeouts, connection errors, 429 and 5xx are retried. A 401 from an API call raises
:class:`TokenRejected` so the caller can refresh once; other failures raise
``ExternalServiceError`` (``retryable`` says whether a later job run may succeed).

Endpoints used:

* Google: ``POST /calendars/{calendarId}/events``, ``DELETE /calendars/{calendarId}/events/{id}``
* Graph: ``POST /me/events``, ``DELETE /me/events/{id}``
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import httpx2

from backend.core.errors import ExternalServiceError
from backend.core.settings import CalendarSettings
from backend.schedules.models import CalendarProvider

SCOPES = {
    CalendarProvider.GOOGLE: "https://www.googleapis.com/auth/calendar.events",
    CalendarProvider.OUTLOOK: "offline_access Calendars.ReadWrite",
}
GONE = (404, 410)


class TokenRejected(ExternalServiceError):
    title = "The calendar provider rejected the access token"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_at: datetime


@dataclass(frozen=True)
class PushEvent:
    """One shift as a calendar event (UTC instants)."""

    summary: str
    description: str
    start: datetime
    end: datetime


def google_body(event: PushEvent) -> dict[str, Any]:
    return {
        "summary": event.summary,
        "description": event.description,
        "start": {"dateTime": event.start.astimezone(UTC).isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": event.end.astimezone(UTC).isoformat(), "timeZone": "UTC"},
        "transparency": "opaque",
        "extendedProperties": {"private": {"oncall": "shift"}},
    }


def graph_body(event: PushEvent) -> dict[str, Any]:
    # Graph wants a wall time plus a zone name, not an offset.
    fmt = "%Y-%m-%dT%H:%M:%S"
    return {
        "subject": event.summary,
        "body": {"contentType": "text", "content": event.description},
        "start": {"dateTime": event.start.astimezone(UTC).strftime(fmt), "timeZone": "UTC"},
        "end": {"dateTime": event.end.astimezone(UTC).strftime(fmt), "timeZone": "UTC"},
        "showAs": "busy",
        "isReminderOn": False,
    }


class ProviderClient:
    """One provider's OAuth and event endpoints, from settings."""

    def __init__(
        self,
        provider: CalendarProvider,
        settings: CalendarSettings,
        client: httpx2.Client | None = None,
    ) -> None:
        self.provider = provider
        self.settings = settings
        self.client = client or httpx2.Client(timeout=settings.timeout_seconds)
        google = provider is CalendarProvider.GOOGLE
        self.client_id = settings.google_client_id if google else settings.outlook_client_id
        secret = settings.google_client_secret if google else settings.outlook_client_secret
        self.client_secret = secret.get_secret_value()
        self.auth_url = settings.google_auth_url if google else settings.outlook_auth_url
        self.token_url = settings.google_token_url if google else settings.outlook_token_url
        self.api_url = (settings.google_api_url if google else settings.outlook_api_url).rstrip("/")

    def close(self) -> None:
        self.client.close()

    # ---- OAuth ---------------------------------------------------------------------------
    def authorization_url(self, state: str, redirect_uri: str) -> str:
        params = {
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": SCOPES[self.provider],
            "state": state,
        }
        if self.provider is CalendarProvider.GOOGLE:
            params |= {"access_type": "offline", "prompt": "consent"}
        return f"{self.auth_url}?{urlencode(params)}"

    def exchange_code(self, code: str, redirect_uri: str, now: datetime) -> Tokens:
        return self._token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}, now
        )

    def refresh(self, refresh_token: str, now: datetime) -> Tokens:
        tokens = self._token({"grant_type": "refresh_token", "refresh_token": refresh_token}, now)
        # Google usually does not send a new refresh token: keep the old one.
        return Tokens(tokens.access_token, tokens.refresh_token or refresh_token, tokens.expires_at)

    def _token(self, form: dict[str, str], now: datetime) -> Tokens:
        form = {**form, "client_id": self.client_id, "client_secret": self.client_secret}
        response = self._send("POST", self.token_url, data=form)
        if response.status_code != 200:
            raise ExternalServiceError(
                f"{self.provider} token endpoint answered {response.status_code}",
                retryable=False,
            )
        body = response.json()
        if not isinstance(body, dict) or not body.get("access_token"):
            raise ExternalServiceError(f"{self.provider} sent no access token", retryable=False)
        return Tokens(
            access_token=str(body["access_token"]),
            refresh_token=body.get("refresh_token"),
            expires_at=now + timedelta(seconds=int(body.get("expires_in") or 3600)),
        )

    # ---- events --------------------------------------------------------------------------
    def _events_url(self, calendar_id: str) -> str:
        if self.provider is CalendarProvider.GOOGLE:
            return f"{self.api_url}/calendars/{quote(calendar_id, safe='')}/events"
        return f"{self.api_url}/me/events"

    def create_event(self, access_token: str, calendar_id: str, event: PushEvent) -> str:
        body = google_body(event) if self.provider is CalendarProvider.GOOGLE else graph_body(event)
        response = self._api("POST", self._events_url(calendar_id), access_token, json=body)
        if response.status_code not in (200, 201):
            raise self._failure(response, "create an event")
        event_id = response.json().get("id")
        if not event_id:
            raise ExternalServiceError(f"{self.provider} returned no event id", retryable=False)
        return str(event_id)

    def delete_event(self, access_token: str, calendar_id: str, event_id: str) -> None:
        """Delete one event; one already gone (deleted by the user) is fine."""
        url = f"{self._events_url(calendar_id)}/{quote(event_id, safe='')}"
        response = self._api("DELETE", url, access_token)
        if response.status_code not in (200, 204, *GONE):
            raise self._failure(response, "delete an event")

    def _api(self, method: str, url: str, access_token: str, **kwargs: Any) -> httpx2.Response:
        headers = {"Authorization": f"Bearer {access_token}"}
        response = self._send(method, url, headers=headers, **kwargs)
        if response.status_code == 401:
            raise TokenRejected(f"{self.provider} answered 401", retryable=False)
        return response

    def _failure(self, response: httpx2.Response, what: str) -> ExternalServiceError:
        retryable = response.status_code == 429 or response.status_code >= 500
        return ExternalServiceError(
            f"{self.provider} could not {what}: HTTP {response.status_code}", retryable=retryable
        )

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx2.Response:
        """At most ``max_attempts`` tries; backoff doubles after each retryable failure."""
        attempts = max(1, self.settings.max_attempts)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx2.TransportError as exc:
                if last:
                    raise ExternalServiceError(
                        f"{self.provider} unreachable: {type(exc).__name__}"
                    ) from exc
            else:
                if not (response.status_code == 429 or response.status_code >= 500) or last:
                    return response
            time.sleep(self.settings.backoff_seconds * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

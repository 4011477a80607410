"""The provider interface: ``send(message) -> ProviderResult``, never raising for a failed
delivery (a failure is a result: retryable or not, with a short summary free of secrets)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str
    to: str
    body: str
    subject: str = ""
    html: str = ""
    notification_id: int | None = None


@dataclass(frozen=True)
class ProviderResult:
    ok: bool
    # "sent" (accepted by the provider) or "delivered" (stored/confirmed); "failed" otherwise.
    status: str
    summary: str = ""
    retryable: bool = True
    provider_id: str = ""
    # The address no longer exists at the provider (a browser push subscription answered
    # 404/410): the contact method is removed rather than tried on every later page.
    gone: bool = False

    @classmethod
    def failure(cls, summary: str, *, retryable: bool, gone: bool = False) -> ProviderResult:
        return cls(ok=False, status="failed", summary=summary[:500], retryable=retryable, gone=gone)


class Provider(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> ProviderResult: ...

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

    @classmethod
    def failure(cls, summary: str, *, retryable: bool) -> ProviderResult:
        return cls(ok=False, status="failed", summary=summary[:500], retryable=retryable)


class Provider(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> ProviderResult: ...

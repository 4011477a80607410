"""Who is acting: passed by every adapter (route, Reflex state, actor, CLI) to every service."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from backend.core.errors import Unauthenticated


class PlatformRole(StrEnum):
    USER = "USER"
    PLATFORM_ADMIN = "PLATFORM_ADMIN"


class ActorKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    SYSTEM = "system"
    CLI = "cli"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int | None = None
    label: str = ""
    platform_role: PlatformRole = PlatformRole.USER
    scopes: frozenset[str] = field(default_factory=frozenset)
    ip: str | None = None
    user_agent: str | None = None

    @property
    def is_platform_admin(self) -> bool:
        return self.platform_role is PlatformRole.PLATFORM_ADMIN

    @property
    def user_id(self) -> int | None:
        return self.id if self.kind is ActorKind.USER else None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind=ActorKind.SYSTEM, label=label, platform_role=PlatformRole.PLATFORM_ADMIN)

    @classmethod
    def cli(cls) -> Actor:
        return cls(kind=ActorKind.CLI, label="cli", platform_role=PlatformRole.PLATFORM_ADMIN)

    @classmethod
    def anonymous(cls, ip: str | None = None, user_agent: str | None = None) -> Actor:
        return cls(kind=ActorKind.ANONYMOUS, label="anonymous", ip=ip, user_agent=user_agent)


def require_authenticated(actor: Actor) -> None:
    """Raises Unauthenticated for an anonymous actor."""
    if actor.kind is ActorKind.ANONYMOUS:
        raise Unauthenticated

"""API keys (platform admins): create (shown once), list, revoke."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import reflex as rx

from backend.apikeys import service as apikeys
from backend.apikeys.schemas import ApiKeyCreate, ApiKeyOut
from backend.apikeys.scopes import Scope
from backend.core.errors import ValidationFailed
from backend.core.validation import parse
from oncall_app import errors
from oncall_app.services import call
from oncall_app.state.session import SessionState

SCOPE_FIELD_PREFIX = "scope:"


def expiry_from_date(raw: str) -> datetime | str | None:
    """``2027-01-31`` → the end of that day in UTC; other text goes to validation as-is."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return raw
    return day.replace(hour=23, minute=59, second=59)


class ApiKeysState(SessionState):
    keys: list[ApiKeyOut] = []
    loaded: bool = False
    create_errors: dict[str, str] = {}
    # The whole key of the last key created in this tab, shown once. Sent to this browser only
    # (the admin who created it), and cleared on dismiss or when the page loads again.
    new_key: str = ""
    new_key_name: str = ""
    # Bumped after a successful create: the form remounts empty (a second click must not
    # silently create a twin key), while a failed create keeps what was typed.
    form_generation: int = 0

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self.new_key = ""
        self.create_errors = {}
        if not self.is_platform_admin:
            self.loaded = True
            return None
        try:
            self.keys = await call(apikeys.list_keys, await self._actor())
        except Exception as exc:
            return self._fail(exc)
        self.loaded = True
        return None

    @rx.event
    async def create(self, form: dict[str, Any]):
        scopes = [
            key.removeprefix(SCOPE_FIELD_PREFIX)
            for key, value in form.items()
            if key.startswith(SCOPE_FIELD_PREFIX) and value in (True, "on", "true")
        ]
        raw = {
            "name": str(form.get("name", "")),
            "scopes": scopes,
            "expires_at": expiry_from_date(str(form.get("expires_on", ""))),
        }
        try:
            data = parse(ApiKeyCreate, raw)
            actor = await self._actor()
            created = await call(apikeys.create_key, actor, data)
            self.keys = await call(apikeys.list_keys, actor)
        except ValidationFailed as exc:
            self.create_errors = errors.field_messages(exc)
            return None
        except Exception as exc:
            return self._fail(exc)
        self.create_errors = {}
        self.form_generation += 1
        self.new_key = created.key
        self.new_key_name = created.name
        return None

    @rx.event
    def dismiss_key(self):
        self.new_key = ""
        self.new_key_name = ""

    @rx.event
    async def revoke(self, key_id: int):
        try:
            actor = await self._actor()
            revoked = await call(apikeys.revoke_key, actor, int(key_id))
            self.keys = await call(apikeys.list_keys, actor)
        except Exception as exc:
            return self._fail(exc)
        return rx.toast.success(f"Key {revoked.name} revoked")


SCOPES = [s.value for s in Scope]

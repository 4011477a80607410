"""The user directory and my profile."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.core.errors import ValidationFailed
from backend.core.validation import parse
from backend.identity import service as identity
from backend.identity.schemas import ProfileUpdate, UserOut
from oncall_app import errors
from oncall_app.services import call
from oncall_app.state.session import SessionState


class UsersState(SessionState):
    users: list[UserOut] = []
    search: str = ""
    loaded: bool = False

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        return await self._refresh()

    @rx.event
    async def search_changed(self, value: str):
        self.search = value
        return await self._refresh()

    async def _refresh(self) -> list[Any] | None:
        try:
            self.users = await call(
                identity.list_users, await self._actor(), text=self.search.strip()
            )
        except Exception as exc:
            return self._fail(exc)
        self.loaded = True
        return None


class ProfileState(SessionState):
    name: str = ""
    email: str = ""
    phone: str = ""
    time_zone: str = "UTC"
    loaded: bool = False
    profile_errors: dict[str, str] = {}

    def _show(self, user: UserOut) -> None:
        self.name = user.name
        self.email = user.email
        self.phone = user.phone or ""
        self.time_zone = user.time_zone
        self.user_name = user.name  # the sidebar shows it
        self.loaded = True

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self.profile_errors = {}
        try:
            self._show(await call(identity.get_user, await self._actor(), self.user_id))
        except Exception as exc:
            return self._fail(exc)
        return None

    @rx.event
    async def save(self, form: dict[str, Any]):
        raw = {
            "name": str(form.get("name", "")),
            "phone": str(form.get("phone", "")).strip(),
            "time_zone": str(form.get("time_zone", "")),
        }
        try:
            data = parse(ProfileUpdate, raw)
            actor = await self._actor()
            assert actor.user_id is not None
            user = await call(identity.update_profile, actor, actor.user_id, data)
        except ValidationFailed as exc:
            self.profile_errors = errors.field_messages(exc)
            return None
        except Exception as exc:
            return self._fail(exc)
        self.profile_errors = {}
        self._show(user)
        return rx.toast.success("Profile saved")

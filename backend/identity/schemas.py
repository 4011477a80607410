"""Input and output shapes for users and sessions."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.core.actor import PlatformRole

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_PATTERN = re.compile(r"^\+[1-9][0-9]{6,14}$")  # E.164
_ZONES = frozenset(available_timezones())


def normalise_email(value: str) -> str:
    email = value.strip().lower()
    if not EMAIL_PATTERN.match(email) or len(email) > 320:
        msg = "not a valid e-mail address"
        raise ValueError(msg)
    return email


def check_time_zone(value: str) -> str:
    if value not in _ZONES:
        msg = f"unknown IANA time zone {value!r} (for example Europe/Berlin)"
        raise ValueError(msg)
    return value


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    phone: str | None
    time_zone: str
    platform_role: PlatformRole
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = None
    time_zone: str | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return value
        compact = re.sub(r"[\s\-()]", "", value)
        if not PHONE_PATTERN.match(compact):
            msg = "phone must be in international format, e.g. +14155550100"
            raise ValueError(msg)
        return compact

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_time_zone(value)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str
    name: str = Field(min_length=1, max_length=200)
    time_zone: str = "UTC"

    _email = field_validator("email")(normalise_email)
    _zone = field_validator("time_zone")(check_time_zone)


class SessionOut(BaseModel):
    id: int
    auth_method: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None

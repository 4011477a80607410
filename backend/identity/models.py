"""Users, their sessions, break-glass credentials, login attempts and pending OIDC logins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from backend.core import clock
from backend.core.actor import PlatformRole
from backend.core.db import StrEnumType, UTCDateTime


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=Column(String(320), unique=True, nullable=False))
    name: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    time_zone: str = Field(default="UTC", max_length=64)
    platform_role: PlatformRole = Field(
        default=PlatformRole.USER, sa_column=Column(StrEnumType(PlatformRole), nullable=False)
    )
    is_active: bool = Field(default=True)
    oidc_issuer: str | None = Field(default=None, max_length=500)
    oidc_subject: str | None = Field(default=None, max_length=255, index=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserSession(SQLModel, table=True):
    """A server-side session; the browser holds only the random token, we hold its SHA-256."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    auth_method: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)


class BreakGlassCredential(SQLModel, table=True):
    """A local password for when the IdP is down. Created only from the CLI."""

    __tablename__ = "break_glass_credential"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class LoginAttempt(SQLModel, table=True):
    """Break-glass attempts, keyed by the e-mail as typed, so unknown accounts are limited
    exactly like real ones (no enumeration through the limiter)."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, index=True)
    ip: str = Field(max_length=64)
    success: bool
    at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, index=True)


class OidcLoginState(SQLModel, table=True):
    """A login that left for the IdP: state (hashed), nonce and PKCE verifier until it returns."""

    __tablename__ = "oidc_login_state"

    id: int | None = Field(default=None, primary_key=True)
    state_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    nonce: str = Field(max_length=128)
    code_verifier: str = Field(max_length=128)
    return_to: str = Field(default="/", max_length=500)
    expires_at: datetime = Field(sa_type=UTCDateTime)

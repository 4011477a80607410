from __future__ import annotations

from backend.core.errors import (
    AlreadyExists,
    ErrorCode,
    NotFound,
    RateLimited,
    Unauthenticated,
)


class UserNotFound(NotFound):
    title = "User not found"


class EmailTaken(AlreadyExists):
    title = "A user with that e-mail already exists"


class InvalidCredentials(Unauthenticated):
    """The one message for unknown account, wrong password and locked account alike."""

    code = ErrorCode.INVALID_CREDENTIALS
    title = "Invalid e-mail or password"


class SessionExpired(Unauthenticated):
    code = ErrorCode.SESSION_EXPIRED
    title = "Your session has ended; sign in again"


class TooManyAttempts(RateLimited):
    title = "Too many sign-in attempts"

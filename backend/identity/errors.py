from __future__ import annotations

from backend.core.errors import (
    AlreadyExists,
    ErrorCode,
    ExternalServiceError,
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


class SsoNotConfigured(NotFound):
    code = ErrorCode.SSO_NOT_CONFIGURED
    title = "Single sign-on is not configured"


class SsoFailed(Unauthenticated):
    """The sign-in could not be completed (bad or replayed state, invalid ID token, refused
    account). The detail is safe to show; it never contains a token or code."""

    code = ErrorCode.SSO_FAILED
    title = "Single sign-on failed"


class SsoProviderError(ExternalServiceError):
    """The identity provider could not be reached or answered with an error."""

    code = ErrorCode.SSO_FAILED
    title = "Single sign-on failed"


class InvalidSignature(Unauthenticated):
    code = ErrorCode.INVALID_SIGNATURE
    title = "Invalid or missing signature"


class IdpHookDisabled(NotFound):
    title = "The identity provider event hook is not configured"

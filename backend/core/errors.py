"""One error hierarchy for the whole backend.

It maps to RFC 9457 problem+json on HTTP (``backend/api/problems.py``), to a toast in the
Reflex UI (``oncall_app/errors.py``) and to retry/no-retry in Dramatiq actors.

* DomainError                      status  retry?
  x NotFound                       404     no
  x Unauthenticated                401     no
  x PermissionDenied               403     no
  x ValidationFailed               422     no     (errors: list[FieldError])
  x PayloadTooLarge                413     no
  x UnsupportedMediaType           415     no
  x Conflict                       409     no
    + AlreadyExists
    + InvalidTransition
    + StaleWrite
  x RateLimited                    429     no     (retry_after -> Retry-After header)
  x ServiceUnavailable             503     yes    (database or broker down)
  x ExternalServiceError           502     yes if .retryable
  x PermanentError                 500     no     (misconfiguration: jobs must not retry)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar


class ErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    UNAUTHENTICATED = "unauthenticated"
    INVALID_CREDENTIALS = "invalid_credentials"
    SESSION_EXPIRED = "session_expired"
    INVALID_API_KEY = "invalid_api_key"
    INVALID_SIGNATURE = "invalid_signature"
    INVALID_INTEGRATION_SECRET = "invalid_integration_secret"  # noqa: S105  # a code, not a secret
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    PERMISSION_DENIED = "permission_denied"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    VALIDATION_FAILED = "validation_failed"
    CONFLICT = "conflict"
    ALREADY_EXISTS = "already_exists"
    INVALID_TRANSITION = "invalid_transition"
    STALE_WRITE = "stale_write"
    LAST_TEAM_ADMIN = "last_team_admin"
    TEAM_IN_USE = "team_in_use"
    DEPENDENCY_CYCLE = "dependency_cycle"
    SERVICE_HAS_DEPENDENTS = "service_has_dependents"
    POLICY_IN_USE = "policy_in_use"
    RATE_LIMITED = "rate_limited"
    SERVICE_UNAVAILABLE = "service_unavailable"
    EXTERNAL_SERVICE_ERROR = "external_service_error"
    SSO_NOT_CONFIGURED = "sso_not_configured"
    SSO_FAILED = "sso_failed"
    PERMANENT_ERROR = "permanent_error"
    INTERNAL_ERROR = "internal_error"


@dataclass(frozen=True)
class FieldError:
    """One invalid field: ``loc`` is the path to it (``["body", "name"]``)."""

    loc: tuple[str | int, ...]
    msg: str
    type: str = "value_error"

    def as_dict(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "msg": self.msg, "type": self.type}


class DomainError(Exception):
    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL_ERROR
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    retryable: bool = False

    def __init__(
        self, detail: str | None = None, *, code: ErrorCode | None = None, **extra: Any
    ) -> None:
        self.detail = detail or self.title
        if code is not None:
            self.code = code  # type: ignore[misc]  # an instance may narrow its class's code
        self.extra = extra
        super().__init__(self.detail)


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND
    status = 404
    title = "Not found"


class Unauthenticated(DomainError):
    code = ErrorCode.UNAUTHENTICATED
    status = 401
    title = "Authentication required"


class PermissionDenied(DomainError):
    code = ErrorCode.PERMISSION_DENIED
    status = 403
    title = "Permission denied"


class ValidationFailed(DomainError):
    code = ErrorCode.VALIDATION_FAILED
    status = 422
    title = "Validation failed"

    def __init__(
        self, detail: str | None = None, *, errors: list[FieldError] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail, **extra)
        self.errors = errors or []

    @classmethod
    def field(cls, name: str, msg: str, *, loc_prefix: str = "body") -> ValidationFailed:
        return cls(f"{name}: {msg}", errors=[FieldError((loc_prefix, name), msg)])


class PayloadTooLarge(DomainError):
    code = ErrorCode.PAYLOAD_TOO_LARGE
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(DomainError):
    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE
    status = 415
    title = "Unsupported media type"


class Conflict(DomainError):
    code = ErrorCode.CONFLICT
    status = 409
    title = "Conflict"


class AlreadyExists(Conflict):
    code = ErrorCode.ALREADY_EXISTS
    title = "Already exists"


class InvalidTransition(Conflict):
    code = ErrorCode.INVALID_TRANSITION
    title = "Invalid state transition"


class StaleWrite(Conflict):
    code = ErrorCode.STALE_WRITE
    title = "Changed by someone else"


class RateLimited(DomainError):
    code = ErrorCode.RATE_LIMITED
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = max(1, int(retry_after))


class ServiceUnavailable(DomainError):
    code = ErrorCode.SERVICE_UNAVAILABLE
    status = 503
    title = "Service unavailable"
    retryable = True

    def __init__(self, detail: str | None = None, *, retry_after: int = 5, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class ExternalServiceError(DomainError):
    code = ErrorCode.EXTERNAL_SERVICE_ERROR
    status = 502
    title = "External service error"

    def __init__(self, detail: str | None = None, *, retryable: bool = True, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retryable = retryable


class PermanentError(DomainError):
    code = ErrorCode.PERMANENT_ERROR
    status = 500
    title = "Permanent error"

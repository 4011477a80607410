from __future__ import annotations

from backend.core.errors import ErrorCode, NotFound, PermissionDenied, Unauthenticated


class InvalidApiKey(Unauthenticated):
    code = ErrorCode.INVALID_API_KEY
    title = "Invalid API key"


class InsufficientScope(PermissionDenied):
    code = ErrorCode.INSUFFICIENT_SCOPE
    title = "The API key lacks a required scope"


class ApiKeyNotFound(NotFound):
    title = "API key not found"

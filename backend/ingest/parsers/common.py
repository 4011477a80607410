"""Validation helpers shared by the parsers (field-level errors in our error tree)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.core.errors import FieldError, ValidationFailed


def require_object(body: Any) -> Mapping[str, Any]:
    """The body as a JSON object.

    Raises:
        ValidationFailed: the body is an array, a string or another scalar.
    """
    if not isinstance(body, Mapping):
        raise ValidationFailed(
            "The body must be a JSON object.",
            errors=[FieldError(("body",), "must be a JSON object", "type_error")],
        )
    return body


def invalid(*errors: tuple[tuple[str | int, ...], str]) -> ValidationFailed:
    """A ValidationFailed with one FieldError per ``(loc, msg)``; loc is under ``body``."""
    field_errors = [FieldError(("body", *loc), msg) for loc, msg in errors]
    summary = "; ".join(f"{'.'.join(map(str, loc)) or 'body'}: {msg}" for loc, msg in errors)
    return ValidationFailed(summary, errors=field_errors)


def require_list(data: Mapping[str, Any], name: str) -> list[Any]:
    """``data[name]`` as a non-empty list of objects.

    Raises:
        ValidationFailed: missing, not a list, empty, or holding non-objects.
    """
    value = data.get(name)
    if not isinstance(value, list) or not value:
        raise invalid(((name,), "required: a non-empty array of objects"))
    bad = [i for i, item in enumerate(value) if not isinstance(item, Mapping)]
    if bad:
        raise invalid(*(((name, i), "must be an object") for i in bad))
    return value

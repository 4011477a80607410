"""Validation helpers shared by the parsers (field-level errors in our error tree)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from backend.core.errors import FieldError, ValidationFailed


def _not_json(constant: str) -> float:
    msg = f"{constant} is not JSON"
    raise ValueError(msg)


def loads(document: str | bytes) -> Any:
    """``json.loads`` refusing NaN and Infinity, which Python accepts but are not JSON (and
    PostgreSQL's json columns refuse them when the payload is stored).

    Raises:
        ValueError: not JSON. RecursionError: nested past the decoder's limit.
    """
    return json.loads(document, parse_constant=_not_json)


# Real payloads nest a handful of levels. Far deeper ones would blow the stack later (hashing
# or storing the raw payload as JSON), so they are refused here, before anything recurses.
MAX_DEPTH = 64


def require_object(body: Any) -> Mapping[str, Any]:
    """The body as a JSON object nested at most MAX_DEPTH levels.

    Raises:
        ValidationFailed: the body is an array, a string or another scalar, or nests deeper.
    """
    if not isinstance(body, Mapping):
        raise ValidationFailed(
            "The body must be a JSON object.",
            errors=[FieldError(("body",), "must be a JSON object", "type_error")],
        )
    require_shallow(body)
    return body


def require_shallow(value: Any) -> None:
    """Refuse a JSON value nested deeper than MAX_DEPTH.

    Raises:
        ValidationFailed: it nests deeper.
    """
    if not is_shallow(value):
        raise invalid(((), f"nested deeper than {MAX_DEPTH} levels"))


def is_shallow(value: Any) -> bool:
    """Whether a JSON value nests at most MAX_DEPTH arrays/objects (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


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

"""Turning raw input into schema objects, with errors in our own tree."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from backend.core.errors import FieldError, ValidationFailed

M = TypeVar("M", bound=BaseModel)


def field_errors(exc: PydanticValidationError, prefix: str = "body") -> list[FieldError]:
    return [
        FieldError(
            loc=(prefix, *(str(p) if not isinstance(p, int) else p for p in err["loc"])),
            msg=err["msg"],
            type=err["type"],
        )
        for err in exc.errors()
    ]


def parse(model: type[M], data: Any, *, prefix: str = "body") -> M:
    """Validate ``data`` into ``model``.

    Raises:
        ValidationFailed: with one FieldError per invalid field.
    """
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        errors = field_errors(exc, prefix)
        summary = "; ".join(f"{'.'.join(map(str, e.loc[1:]))}: {e.msg}" for e in errors)
        raise ValidationFailed(summary, errors=errors) from exc

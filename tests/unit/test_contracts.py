"""Contracts between code and docs that must not drift."""

from __future__ import annotations

from pathlib import Path

import backend.api.app  # noqa: F401  # imports every domain package and so its errors
from backend.core.errors import DomainError, ErrorCode

ROOT = Path(__file__).resolve().parents[2]


def test_every_error_code_has_a_problem_page() -> None:
    missing = [
        c.value for c in ErrorCode if not (ROOT / "docs/problems" / f"{c.value}.md").is_file()
    ]
    assert missing == []


def _subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
    found: list[type[DomainError]] = []
    for sub in cls.__subclasses__():
        found.extend([sub, *_subclasses(sub)])
    return found


def test_every_error_class_has_a_documented_code_and_an_http_status() -> None:
    for cls in [DomainError, *_subclasses(DomainError)]:
        assert isinstance(cls.code, ErrorCode), cls
        assert 400 <= cls.status <= 599, cls
        assert cls.title, cls

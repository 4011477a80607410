from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from backend.api.app import create_api
from backend.apikeys import service as apikeys
from backend.apikeys.schemas import ApiKeyCreate
from backend.apikeys.scopes import Scope
from backend.core.actor import Actor


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_api(), base_url="https://localhost:3000") as test_client:
        yield test_client


def issue_key(*scopes: Scope, **kwargs: object) -> str:
    created = apikeys.create_key(
        Actor.cli(),
        ApiKeyCreate(name="test", scopes=list(scopes), **kwargs),  # type: ignore[arg-type]
    )
    return created.key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}

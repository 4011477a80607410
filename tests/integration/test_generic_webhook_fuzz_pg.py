"""The generic webhook fuzz of tests/api/test_generic_webhook_fuzz.py again, on PostgreSQL.

PostgreSQL refuses what SQLite stores (NUL in text columns) and takes the single-statement hot
path for a firing alert (ADR 0010), so the same bodies must still get 202 or a 4xx here.
"""

from __future__ import annotations

import pytest

from tests.api.test_generic_webhook_fuzz import (  # noqa: F401  # the same test, on PostgreSQL
    generic,
    test_any_signed_body_gets_202_or_a_4xx_problem,
)
from tests.integration.test_ingest_on_pg import engine, migrated_template  # noqa: F401

pytestmark = pytest.mark.integration

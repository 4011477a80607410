"""boto3 clients for the AWS providers (SES, SNS): a timeout and no hidden retries.

Our retries live in the database (NOTIF-02); botocore's own would send a duplicate SMS or
e-mail behind our back. Clients are cached per configuration because building one costs tens
of milliseconds and they are thread-safe.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config


@lru_cache(maxsize=16)
def client(
    service: str,
    *,
    region: str,
    endpoint_url: str,
    access_key_id: str,
    secret_access_key: str,
    timeout_seconds: float,
) -> Any:
    """A client for ``service``; empty strings fall back to boto3's defaults."""
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint_url or None,
        aws_access_key_id=access_key_id or None,
        aws_secret_access_key=secret_access_key or None,
        config=Config(
            connect_timeout=timeout_seconds,
            read_timeout=timeout_seconds,
            # total_max_attempts counts the first call: 1 = no retries at all (botocore's
            # max_attempts would still allow one retry).
            retries={"total_max_attempts": 1, "mode": "standard"},
        ),
    )

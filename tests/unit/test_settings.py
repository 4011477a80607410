from __future__ import annotations

from backend.core.settings import RedisSettings


def test_redis_url_for_db_replaces_any_database() -> None:
    assert RedisSettings(url="redis://h:6379/15").url_for_db(0) == "redis://h:6379/0"
    assert RedisSettings(url="redis://:pw@h:6379").url_for_db(3) == "redis://:pw@h:6379/3"
    assert RedisSettings(url="rediss://h/2?ssl_cert_reqs=none").url_for_db(1) == (
        "rediss://h/1?ssl_cert_reqs=none"
    )

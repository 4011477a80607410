"""Encryption at rest for secrets we must be able to read back (HMAC signing secrets).

Hashes are enough to check a bearer token, but verifying an HMAC signature needs the secret
itself, so those secrets are stored Fernet-encrypted (AES-128-CBC + HMAC-SHA256) under the
``ONCALL_SECRET_KEY`` setting. In embedded mode (SQLite) a key is generated once and kept
beside the database file (``data/secret.key``, mode 0600), so backups of ``data/`` carry it.
With PostgreSQL the key must be configured: machines sharing a database must share the key.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.engine import make_url

from backend.core.errors import PermanentError
from backend.core.settings import Settings, get_settings

KEY_FILE_NAME = "secret.key"
_lock = threading.Lock()


def key_file_for(settings: Settings) -> Path | None:
    """Where the embedded key lives (beside the SQLite file), or None for server databases."""
    url = make_url(settings.database.url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).parent / KEY_FILE_NAME


def _load_or_create(path: Path) -> str:
    with _lock:
        if path.is_file():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key().decode()
        # O_EXCL: two processes starting together must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        return key


def current_key(settings: Settings | None = None) -> str:
    """The configured key, or the embedded one (created on first use).

    Raises:
        PermanentError: no key is configured and the database is not an embedded SQLite file.
    """
    settings = settings or get_settings()
    configured = settings.secret_key.get_secret_value()
    if configured:
        return configured
    path = key_file_for(settings)
    if path is None:
        raise PermanentError(
            "ONCALL_SECRET_KEY is not set; it is required with a server database "
            "(see docs/configuration.md for how to generate one)."
        )
    return _load_or_create(path)


@lru_cache(maxsize=8)
def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except ValueError as exc:
        msg = "ONCALL_SECRET_KEY is not a Fernet key (urlsafe base64 of 32 bytes)"
        raise PermanentError(msg) from exc


def encrypt(plaintext: str) -> str:
    """Encrypt ``plaintext`` under the current key."""
    return _fernet(current_key()).encrypt(plaintext.encode()).decode()


@lru_cache(maxsize=4096)
def _decrypt_cached(key: str, token: str) -> str:
    return _fernet(key).decrypt(token.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt a value made by :func:`encrypt`. Cached: a ciphertext never changes meaning.

    Raises:
        PermanentError: the value was encrypted under another key (wrong ONCALL_SECRET_KEY).
    """
    try:
        return _decrypt_cached(current_key(), token)
    except InvalidToken as exc:
        raise PermanentError("A stored secret cannot be decrypted with this secret key.") from exc


def generate_key() -> str:
    return Fernet.generate_key().decode()

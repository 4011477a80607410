"""The VAPID key pair: made once, encrypted at rest, the same for every process afterwards
(another engine on the same database, the ``oncall`` command, a bare interpreter)."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from backend.core import db
from backend.core.db import unit_of_work
from backend.core.settings import get_settings
from backend.notifications import vapid


def vapid_rows() -> int:
    with unit_of_work() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(vapid.VapidKey)) or 0)


def test_the_key_pair_is_made_once_and_read_back_by_another_process() -> None:
    assert vapid_rows() == 0
    first = vapid.keys()
    assert len(first.public_key) == 87  # 65 bytes, urlsafe base64 without padding
    assert base64.urlsafe_b64decode(first.public_key + "=")[0] == 4  # uncompressed point
    # Another process: its own engine (own connections) on the same database file.
    other = db.build_engine(get_settings().database.url)
    db.set_engine(other)
    second = vapid.keys()
    assert second.public_key == first.public_key
    assert vapid_rows() == 1
    # The private key read back signs what the first public key verifies.
    signature = second.private_key.sign(b"x", ec.ECDSA(hashes.SHA256()))
    first.private_key.public_key().verify(signature, b"x", ec.ECDSA(hashes.SHA256()))
    with unit_of_work() as uow:
        row = uow.session.get(vapid.VapidKey, vapid.KEY_ROW)
        assert row is not None
        assert "PRIVATE KEY" not in row.private_key_sealed  # encrypted at rest


def test_a_late_process_losing_the_insert_race_reads_the_winners_key() -> None:
    winner = vapid.keys()
    # The loser found no row, generated its own pair and tries to insert it: nothing is
    # inserted and it is handed the winner's row.
    with unit_of_work() as uow:
        table = vapid.VapidKey.__table__  # type: ignore[attr-defined]
        inserted = db.insert_ignoring_conflict(
            uow.session, table, vapid._new_row(), index_elements=["id"], returning=["id"]
        )
        assert inserted is None
        assert vapid.ensure_keys(uow.session).public_key == winner.public_key
    assert vapid_rows() == 1


def test_separate_processes_print_the_same_public_key() -> None:
    """Two processes on one database (the ``oncall`` command and a bare interpreter), then this
    one: one pair, made once, the same everywhere."""
    oncall = shutil.which("oncall")
    assert oncall is not None
    commands = [
        [oncall, "web-push", "public-key"],
        [
            sys.executable,
            "-c",
            "from backend.notifications import vapid; print(vapid.public_key())",
        ],
    ]
    printed = [
        subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
        for command in commands
    ]
    assert printed == [vapid.public_key()] * 2
    assert vapid_rows() == 1

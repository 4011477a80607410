"""Running a local fake provider (an ``http.server`` subclass) on a thread for one test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import HTTPServer
from typing import TypeVar

S = TypeVar("S", bound=HTTPServer)


def serving(server: S) -> Iterator[S]:
    """Serve ``server`` until the generator is closed; for ``yield from`` in a fixture."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        # Fakes that can hang a request hold it until ``release`` is set: let it go first.
        release = getattr(server, "release", None)
        if isinstance(release, threading.Event):
            release.set()
        server.shutdown()
        server.server_close()

"""An SMTP server (aiosmtpd, in a thread) whose first message hangs: it is received but never
answered, so the worker delivering it stays inside the provider call until it is killed.
Every later message is accepted and recorded, so a re-delivery can be seen arriving."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.databases import free_port


@dataclass
class HangingFirstMessage:
    held: list[Envelope] = field(default_factory=list)  # received, never answered
    accepted: list[Envelope] = field(default_factory=list)  # answered 250
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            hang = not self.held
            (self.held if hang else self.accepted).append(envelope)
        if hang:
            # Hold the sender until the test ends (or its process dies and the socket closes).
            await asyncio.Event().wait()
        return "250 OK"


@pytest.fixture
def hanging_smtp() -> Iterator[tuple[HangingFirstMessage, int]]:
    handler = HangingFirstMessage()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()

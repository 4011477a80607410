"""An open-loop HTTP/1.1 load generator: requests leave at a fixed arrival rate, whatever the
server's answers do (a closed-loop client such as wrk slows down with the server and hides
queueing, "coordinated omission").

Raw asyncio streams with requests built as bytes, so the client costs little CPU on the box it
shares with the server (an httpx client costs about a core at 2,000 requests/s). Connections
are kept alive and reused; a new one is opened when none is idle, up to ``max_connections``.
Beyond that, requests wait in the client, and their latency still counts from the moment they
were due to leave (the intended send time), so a saturated server cannot hide its backlog.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Outcome:
    index: int
    intended_wall: float  # time.time() the request was due to leave
    status: int = 0  # 0: no answer (connection error)
    done_wall: float = 0.0
    error: str = ""

    @property
    def latency_s(self) -> float:
        return self.done_wall - self.intended_wall


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


@dataclass
class OpenLoop:
    host: str
    port: int
    # index -> the full request bytes (built when due, so signatures carry a fresh timestamp)
    build: Callable[[int], bytes]
    max_connections: int = 512
    timeout_s: float = 120.0
    _idle: list[_Connection] = field(default_factory=list)
    _slots: asyncio.Semaphore | None = None

    async def _connection(self) -> _Connection:
        if self._idle:
            return self._idle.pop()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return _Connection(reader, writer)

    async def _one(self, outcome: Outcome) -> None:
        assert self._slots is not None
        async with self._slots:
            connection: _Connection | None = None
            try:
                connection = await self._connection()
                connection.writer.write(self.build(outcome.index))
                head = await asyncio.wait_for(
                    connection.reader.readuntil(b"\r\n\r\n"), self.timeout_s
                )
                outcome.status = int(head.split(b" ", 2)[1])
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length:
                    await connection.reader.readexactly(length)
                outcome.done_wall = time.time()
                self._idle.append(connection)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                outcome.done_wall = time.time()
                outcome.error = f"{type(exc).__name__}: {exc}"[:200]
                if connection is not None:
                    connection.writer.close()

    async def run(self, rate: float, seconds: float) -> list[Outcome]:
        """Send ``rate * seconds`` requests at ``rate``/s; returns one outcome per request."""
        self._slots = asyncio.Semaphore(self.max_connections)
        total = int(rate * seconds)
        outcomes = [Outcome(i, 0.0) for i in range(total)]
        tasks: list[asyncio.Task[None]] = []
        loop = asyncio.get_running_loop()
        start_mono, start_wall = loop.time(), time.time()
        sent = 0
        while sent < total:
            now = loop.time() - start_mono
            due = min(total, int(now * rate) + 1)
            while sent < due:
                outcome = outcomes[sent]
                outcome.intended_wall = start_wall + sent / rate
                tasks.append(asyncio.create_task(self._one(outcome)))
                sent += 1
            if sent < total:
                await asyncio.sleep(max(0.0, sent / rate - (loop.time() - start_mono)))
        await asyncio.gather(*tasks)
        for connection in self._idle:
            connection.writer.close()
        self._idle.clear()
        return outcomes


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def get_request(path: str, host: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def post_request(path: str, host: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

"""A loopback HTTP server that answers 200 to every GET and remembers when each path arrived.

    python -m scripts.benchmarks.http_sink PORT ARRIVALS_FILE

Runs as its own process so that its CPU is never charged to the worker being measured. Keep-alive,
HTTP/1.1, no parsing beyond the request line: at 500 probes a second it must never be the slow
part. On SIGTERM it writes one line per request, ``<path> <unix time>``, and exits.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nok\n"


class _Sink(asyncio.Protocol):
    def __init__(self, arrivals: list[tuple[bytes, float]]) -> None:
        self.arrivals = arrivals
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        # A request without a body ends with an empty line; several may come in one read.
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            parts = head.split(b" ", 2)
            self.arrivals.append((parts[1] if len(parts) > 1 else b"?", now))
            assert self.transport is not None
            self.transport.write(ANSWER)


async def serve(port: int, out: Path) -> None:
    arrivals: list[tuple[bytes, float]] = []
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Sink(arrivals), "127.0.0.1", port, backlog=4096)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.close()
    out.write_text(  # noqa: ASYNC240 - the server is closed; nothing else runs
        "".join(f"{path.decode()} {t:.6f}\n" for path, t in arrivals)
    )


def read_arrivals(path: Path) -> list[tuple[str, float]]:
    rows = []
    for line in path.read_text().splitlines():
        name, when = line.rsplit(" ", 1)
        rows.append((name, float(when)))
    return rows


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), Path(sys.argv[2])))

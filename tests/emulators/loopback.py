"""What the loopback test servers share: a stdlib HTTP server on 127.0.0.1, its lifecycle, the
hung request, and a queue of faults for the next requests.

    class Emulator(LoopbackHTTPServer[str]):     # str: what one queued fault is
        def __init__(self) -> None:
            super().__init__(_Handler)           # a LoopbackHandler; its owner is the Emulator

    with Emulator() as server:
        server.origin                            # "http://127.0.0.1:<port>"

A handler takes the next queued fault with ``owner.take_fault()``, and plays a hung upstream
with ``hang(seconds)``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Self, TypeVar

__all__ = ["LoopbackHTTPServer", "LoopbackHandler"]

F = TypeVar("F")


class LoopbackHTTPServer(Generic[F]):
    """A ThreadingHTTPServer on a free loopback port, served from a daemon thread.

    ``_lock`` guards whatever the handler threads share (the fault queue, and the subclass's
    own state); ``F`` is what one queued fault is, as the subclass's handler consumes it.
    """

    def __init__(self, handler: type[LoopbackHandler]) -> None:
        self._handler = handler
        self._lock = threading.RLock()
        self._faults: deque[F] = deque()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        # Port 0: the kernel picks a free port as the socket binds, so no other process can
        # take it between choosing and binding.
        self._server = _Server(("127.0.0.1", 0), self._handler)
        self._server.owner = self
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            # stop() waits up to one poll for the loop to notice; servers start and stop per test.
            kwargs={"poll_interval": 0.02},
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # handlers in hold() return now instead of outliving the server
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``, while the server runs."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def hold(self, seconds: float) -> None:
        """Wait ``seconds``, or until the server stops."""
        self._stopping.wait(seconds)

    def _queue_fault(self, fault: F, count: int) -> None:
        with self._lock:
            self._faults.extend([fault] * count)

    def take_fault(self) -> F | None:
        """The fault the request being handled must take, if one is queued."""
        with self._lock:
            return self._faults.popleft() if self._faults else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler still holding a request does not keep the tests alive
    owner: LoopbackHTTPServer[Any]


class LoopbackHandler(BaseHTTPRequestHandler):
    """One request to a ``LoopbackHTTPServer``; ``owner`` is that server (subclasses narrow
    its type)."""

    server: _Server
    owner: Any
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients' connection pools expect
    timeout = 30  # an idle kept-alive connection does not hold a thread forever
    # Headers and body leave in separate writes: with Nagle's algorithm on, the client's delayed
    # ACK adds ~40 ms to every answer.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.owner = self.server.owner

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its own timeout): not the server's error to report.
            self.close_connection = True

    def hang(self, seconds: float) -> None:
        """Answer nothing for ``seconds`` (less if the server stops), then drop the connection:
        what a hung upstream looks like to the client."""
        self.owner.hold(seconds)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: each server keeps its own request log, without the headers (tokens)

"""A stand-in primary service for the local demo: `/health` answers 200 until it is taken down.

    curl -X POST http://127.0.0.1:18080/down    # the primary "dies" (503 from now on)
    curl -X POST http://127.0.0.1:18080/up      # and recovers

Runs in a thread of the `dev --lab` process; `stop()` closes the socket (connection refused).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class DemoService:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.healthy = True
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                ok = service.healthy and self.path.startswith("/health")
                self._answer(200 if ok else 503, b"ok\n" if ok else b"down\n")

            def do_POST(self) -> None:  # noqa: N802
                if self.path in ("/down", "/up"):
                    service.healthy = self.path == "/up"
                    self._answer(200, f"primary is {self.path[1:]}\n".encode())
                else:
                    self._answer(404, b"POST /down or /up\n")

            def _answer(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        bound_host, bound_port = self._server.server_address[:2]
        self.host = bound_host if isinstance(bound_host, str) else bytes(bound_host).decode()
        self.port = int(bound_port)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/health"

    def start(self) -> DemoService:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

"""A codec server: the Temporal Web UI and the `temporal` CLI read encrypted histories through it.

Temporal's codec server protocol: ``POST .../encode`` and ``POST .../decode`` (only the last
part of the path counts), the body a ``Payloads`` protobuf as JSON (``{"payloads": [{"metadata":
{"encoding": "<base64>"}, "data": "<base64>"}]}``), the answer the same shape; 400 for a body
that is not that or a payload that cannot be decrypted, 401 without the configured
Authorization. The UI calls it from the browser: CORS preflights from the configured origins
(``[temporal.encryption] codec_cors_origins``) are answered, others are not allowed.

It holds the keys, so it binds to 127.0.0.1 by default: run it where the operator's browser or
CLI runs (or behind a TLS proxy with ``codec_auth_env`` set), never open to the network.

    genesis-failover codec-server -c failover.toml --port 8081
    temporal workflow show -w failover-monitor-genesis --codec-endpoint http://127.0.0.1:8081
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import signal
import threading
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from genesis.failover.domain.config import FailoverConfig
from genesis.failover.domain.errors import ConfigError
from genesis.failover.domain.secrets import secret_from_env
from genesis.failover.temporal.codec import CodecError, EncryptionCodec

__all__ = ["DEFAULT_PORT", "CodecServer", "codec_server_for", "serve"]

log = logging.getLogger("genesis.failover.temporal.codec_server")

DEFAULT_PORT = 8081
# A decode request carries a page of history payloads; Temporal's own blob limit is 2 MiB each.
MAX_BODY = 64 * 1024 * 1024
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"


class CodecServer:
    """The HTTP server, in a thread of this process (``start``/``stop``, or ``with``)."""

    def __init__(
        self,
        codec: EncryptionCodec,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        origins: Sequence[str] = (),
        auth: str | None = None,
    ) -> None:
        self.codec = codec
        self.origins = frozenset(o.rstrip("/") for o in origins)
        self._auth = auth
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.codec_server = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        """What ``--codec-endpoint`` and the UI's codec setting take."""
        host, port = self.address
        return f"http://{host}:{port}"

    def authorized(self, header: str | None) -> bool:
        if self._auth is None:
            return True
        if not header:
            return False
        given = header.removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), self._auth.encode())

    def start(self) -> CodecServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="codec-server", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> CodecServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    server_version = "genesis-failover-codec"
    protocol_version = "HTTP/1.1"

    @property
    def _codec_server(self) -> CodecServer:
        return self.server.codec_server  # type: ignore[attr-defined,no-any-return]

    def _cors(self) -> None:
        origin = (self.headers.get("Origin") or "").rstrip("/")
        if origin and origin in self._codec_server.origins:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Vary", "Origin")

    def _answer(self, status: int, body: dict[str, Any] | str) -> None:
        data = (json.dumps(body) if isinstance(body, dict) else body).encode()
        self.send_response(status)
        self._cors()
        ctype = "application/json" if isinstance(body, dict) else "text/plain; charset=utf-8"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_OPTIONS(self) -> None:  # noqa: N802 (http.server's naming)
        # A browser's preflight carries no Authorization: it is answered without one.
        self.send_response(204)
        self._cors()
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        # The headers the UI asks for (Content-Type, X-Namespace, Authorization, ...).
        asked = self.headers.get("Access-Control-Request-Headers")
        self.send_header("Access-Control-Allow-Headers", asked or ALLOWED_HEADERS)
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802
        action = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            self._answer(413, f"body over {MAX_BODY} bytes")
            return
        raw = self.rfile.read(length)
        if action not in ("encode", "decode"):
            self._answer(404, "POST .../encode or .../decode")
            return
        if not self._codec_server.authorized(self.headers.get("Authorization")):
            self._answer(401, "the codec server needs its Authorization header")
            return
        payloads = Payloads()
        try:
            json_format.Parse(raw or b"{}", payloads)
        except (json_format.ParseError, UnicodeDecodeError) as exc:
            self._answer(400, f"not a Payloads protobuf as JSON: {exc}")
            return
        codec = self._codec_server.codec
        try:
            out = [
                codec.encrypt(p) if action == "encode" else codec.decrypt(p)
                for p in payloads.payloads
            ]
        except CodecError as exc:  # its text names a key id, never a key or a plaintext
            self._answer(400, str(exc))
            return
        self._answer(200, json_format.MessageToDict(Payloads(payloads=out)))

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def codec_server_for(
    config: FailoverConfig,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    origins: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> CodecServer:
    """The codec server for ``config`` (not started): its keys and its Authorization value read
    from ``environ`` (default: this process's). ``ConfigError`` when the config has no
    ``[temporal.encryption]`` or a key is missing."""
    settings = config.temporal.encryption
    if settings is None:
        raise ConfigError(
            "temporal.encryption is not configured: there is nothing to decode "
            "(add [temporal.encryption] key_env = ..., see docs/security.md)",
            field="temporal.encryption",
            value=None,
        )
    env = os.environ if environ is None else environ
    auth = None
    if settings.codec_auth_env is not None:
        auth = secret_from_env(
            env,
            settings.codec_auth_env,
            field="temporal.encryption.codec_auth_env",
            holds="the token the codec server expects in its Authorization header",
        )
    return CodecServer(
        EncryptionCodec.from_settings(settings, env),
        host,
        port,
        origins=settings.codec_cors_origins if origins is None else origins,
        auth=auth,
    )


def serve(
    config: FailoverConfig,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    origins: Sequence[str] | None = None,
) -> int:
    """Run the codec server for ``config`` until Ctrl-C / SIGTERM; 0 then. What the
    `genesis-failover codec-server` command calls."""
    server = codec_server_for(config, host, port, origins=origins)

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        # SIGTERM (systemd, docker stop) stops it like Ctrl-C does.
        signal.signal(signal.SIGTERM, stop)
    print(f"codec server on {server.url} (key {server.codec.key_id})", flush=True)
    print(f"  temporal ... --codec-endpoint {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0

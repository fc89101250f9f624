"""An API-key-checking gRPC front (nginx) for the Temporal dev server, as Temporal Cloud checks.

The dev server ignores ``authorization`` headers, so a test against it cannot tell whether the
worker sends its API key at all, or sends it wrong. This lab is the component that checks: TLS
with HTTP/2 on a free loopback port, and each gRPC call forwarded to the dev server only when
its ``authorization`` header is exactly ``Bearer <key>``. Any other call is refused the way a
Temporal server with an authorizer (Temporal Cloud among them) refuses a bad key: a trailers-only
gRPC response with status UNAUTHENTICATED (16), which the SDK reports as
``Status { code: Unauthenticated, ... }``, not as an unreachable server. (The status is the
contract; the message text is this lab's own.)

``denied_key`` (optional) plays a valid key of a service account without access to the
namespace: the server's version (``GetSystemInfo``, all ``Client.connect`` asks) is served, every
other call is answered PERMISSION_DENIED (7) "Request unauthorized.", as Temporal's authorizer
answers.

Needs only Debian's ``nginx`` (the http module's ``grpc_pass`` and ``http2``; no stream module).

Usage::

    with GrpcAuthProxy(tmp_path / "proxy", dev_server.address, api_key=key,
                       cert_file=..., key_file=...) as proxy:
        await Client.connect(proxy.address, api_key=key,
                             tls=TLSConfig(server_root_ca_cert=ca_pem))
        proxy.calls()   # [ProxiedCall(method, status, grpc_status, key, namespace)] from its log

The keys are in ``nginx.conf`` in the work directory (created 0600): nginx has no other way to
compare them, and for a test's throwaway keys in its own temp directory that is fine. They are in
no log: the access log records only which key matched, and no key ever reaches the dev server
(the proxy drops the header).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# find_nginx: re-exported, the tests import it from here.
from tests.servers.nginx import NginxLab, find_nginx

__all__ = [
    "DENIED_KEY",
    "NO_KEY",
    "RIGHT_KEY",
    "GrpcAuthProxy",
    "GrpcAuthProxyError",
    "ProxiedCall",
    "find_nginx",
]

# What the proxy says (grpc-message; no key in it, right or wrong).
REFUSAL_MESSAGE = "Request unauthenticated: API key missing or not valid"
DENIAL_MESSAGE = "Request unauthorized."  # Temporal's authorizer, for PERMISSION_DENIED
UNAUTHENTICATED, PERMISSION_DENIED = 16, 7
# Which key a call carried, as the access log and ProxiedCall.key say it.
NO_KEY, RIGHT_KEY, DENIED_KEY = "none", "right", "denied"
# Characters a key may have: Temporal Cloud's keys are JWTs (base64url and dots). Anything else
# could end the quoted string in nginx.conf and change the config instead of being compared.
_KEY_CHARS = re.compile(r"[A-Za-z0-9._~+/=-]+")
# nginx 1.25.1 replaced ``listen ... http2`` with the ``http2 on;`` directive.
_HTTP2_DIRECTIVE_SINCE = (1, 25, 1)


class GrpcAuthProxyError(RuntimeError):
    """The proxy could not start (nginx missing, bad config, no listener)."""


@dataclass(frozen=True)
class ProxiedCall:
    """One gRPC call the proxy finished, from its access log (never the key itself)."""

    method: str  # "/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo"
    status: int  # the HTTP status nginx answered (gRPC calls are 200 either way)
    grpc_status: str  # "16"/"7" when the proxy refused; "-" when the upstream answered
    key: str  # RIGHT_KEY, DENIED_KEY or NO_KEY (missing or any other value)
    namespace: str  # the temporal-namespace header Temporal Cloud routes by ("-": none)

    @property
    def key_ok(self) -> bool:
        return self.key == RIGHT_KEY


def nginx_version(nginx: str) -> tuple[int, ...]:
    """``nginx -v`` prints ``nginx version: nginx/1.22.1`` on stderr."""
    done = subprocess.run([nginx, "-v"], capture_output=True, text=True, timeout=10, check=False)
    found = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", done.stderr + done.stdout)
    if not found:
        raise GrpcAuthProxyError(f"cannot tell the version of {nginx}: {done.stderr.strip()!r}")
    return tuple(int(part) for part in found.groups())


def _refusal(code: int, message: str) -> str:
    """A trailers-only gRPC answer, as a gRPC server sends for a call it rejects before running
    it: HTTP 200, content-type application/grpc, grpc-status in the headers. (``return 401``
    would be refused too, but the client would report an HTTP status mapped to a gRPC code,
    not a server's refusal.)"""
    return (
        f"if ($genesis_refusal = {code}) {{ add_header grpc-status {code} always; "
        f'add_header grpc-message "{message}" always; return 200 ""; }}'
    )


def _bucket_size(key_length: int) -> int:
    """A power of two that holds ``Bearer <key>`` and nginx's per-entry overhead."""
    size = 64
    while size < key_length + len("Bearer ") + 32:
        size *= 2
    return size


class GrpcAuthProxy(NginxLab):
    """An HTTP/2 TLS endpoint on ``ip:port`` checking API keys (an nginx lab, see NginxLab).

    ``upstream``: the plaintext gRPC server ("127.0.0.1:7233"). ``api_key``: the one key it lets
    through. ``denied_key``: a key it knows but that may not use the namespace.
    ``cert_file``/``key_file``: the server's PEM chain and key (a CA made in the test).
    """

    error_class = GrpcAuthProxyError
    # Created 0600 before the key is written into it: the keys are in the config.
    _config_mode = 0o600

    def __init__(
        self,
        workdir: str | Path,
        upstream: str,
        *,
        api_key: str,
        denied_key: str | None = None,
        cert_file: str | Path,
        key_file: str | Path,
        ip: str = "127.0.0.1",
        port: int | None = None,
        nginx: str | None = None,
        start_timeout: float = 5.0,
    ) -> None:
        for name, key in (("api_key", api_key), ("denied_key", denied_key)):
            if key is not None and not _KEY_CHARS.fullmatch(key):
                # The message must not show the key: say what is wrong with it instead.
                raise GrpcAuthProxyError(
                    f"the proxy's {name} ({len(key)} characters) may only hold letters, digits "
                    "and . _ ~ + / = -"
                )
        if denied_key == api_key:
            raise GrpcAuthProxyError("the proxy's denied_key must differ from its api_key")
        super().__init__(workdir, ip=ip, port=port, nginx=nginx, start_timeout=start_timeout)
        self.upstream = upstream
        self._api_key = api_key
        self._denied_key = denied_key
        self.cert_file = Path(cert_file).resolve()
        self.key_file = Path(key_file).resolve()

    def __repr__(self) -> str:  # a failing test's repr must not show the key
        return f"GrpcAuthProxy({self.address} -> {self.upstream})"

    @property
    def access_log(self) -> Path:
        return self.workdir / "access.log"

    def log_files(self) -> list[Path]:
        """Every file nginx writes in its work directory other than its config: what must never
        hold the key."""
        return [p for p in self.workdir.rglob("*") if p.is_file() and p.name != "nginx.conf"]

    def config_text(self, version: tuple[int, ...]) -> str:
        w = self.workdir
        keys = {RIGHT_KEY: self._api_key}
        if self._denied_key is not None:
            keys[DENIED_KEY] = self._denied_key
        if version >= _HTTP2_DIRECTIVE_SINCE:
            listen = [f"listen {self.ip}:{self.port} ssl;", "http2 on;"]
        else:
            listen = [f"listen {self.ip}:{self.port} ssl http2;"]
        location = [
            # The refusals' content type (``default_type`` is not allowed inside ``if``); the
            # upstream's answers carry their own.
            "default_type application/grpc;",
            _refusal(UNAUTHENTICATED, REFUSAL_MESSAGE),
            _refusal(PERMISSION_DENIED, DENIAL_MESSAGE),
            # The key stops here, as at Temporal Cloud's edge: the dev server never sees it.
            'grpc_set_header authorization "";',
            # A worker's long polls sit idle for up to ~70 s: nginx's 60 s default would cut
            # every one of them.
            "grpc_read_timeout 10m;",
            "grpc_send_timeout 10m;",
            "grpc_pass grpc://temporal_upstream;",
        ]
        server = [
            *listen,
            f"ssl_certificate {self.cert_file};",
            f"ssl_certificate_key {self.key_file};",
            "ssl_protocols TLSv1.2 TLSv1.3;",
            # gRPC payloads (a monitor's history page) can exceed nginx's 1 MB request default.
            "client_max_body_size 0;",
            # One worker keeps one HTTP/2 connection for hours: no request count or idle limit
            # that would make nginx close it under the worker's feet.
            "keepalive_requests 1000000;",
            "keepalive_timeout 10m;",
            "location / {",
            *(f"    {line}" for line in location),
            "}",
        ]
        http = [
            # Temp files go under the work directory, not the compiled-in /var/lib/nginx.
            *(
                f"{kind}_temp_path {w / (kind + '_temp')};"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            ),
            # A map's keys live in hash buckets (64 bytes by default): a Cloud key is a JWT of
            # several hundred characters.
            f"map_hash_bucket_size {_bucket_size(max(map(len, keys.values())))};",
            # The one place the keys are written: nginx.conf (0600, the test's temp directory).
            "map $http_authorization $genesis_key {",
            f"    default {NO_KEY};",
            *(f'    "Bearer {key}" {name};' for name, key in keys.items()),
            "}",
            # Which refusal, if any: no key is unauthenticated for every call; the denied key
            # learns the server's version (Client.connect succeeds) and nothing else.
            'map "$genesis_key $uri" $genesis_refusal {',
            '    default "";',
            f'    "~^{NO_KEY} " {UNAUTHENTICATED};',
            f'    "~^{DENIED_KEY} .*/GetSystemInfo$" "";',
            f'    "~^{DENIED_KEY} " {PERMISSION_DENIED};',
            "}",
            # What the tests read: which calls came, and which key they carried. Never the
            # header itself.
            "log_format grpc_auth '$uri $status $sent_http_grpc_status $genesis_key "
            "$http_temporal_namespace';",
            f"access_log {self.access_log} grpc_auth;",
            "upstream temporal_upstream {",
            f"    server {self.upstream};",
            "    keepalive 8;",
            "}",
            "server {",
            *(f"    {line}" for line in server),
            "}",
        ]
        # notice, not info/debug: nothing at this level prints request headers.
        return self._nginx_conf("http", http, error_level="notice")

    def _render_config(self, nginx: str) -> str:
        return self.config_text(nginx_version(nginx))

    def _required_files(self) -> list[Path]:
        return [self.cert_file, self.key_file]

    def calls(self) -> list[ProxiedCall]:
        """The calls nginx has finished so far (a long poll appears when it returns)."""
        if not self.access_log.exists():
            return []
        found = []
        for line in self.access_log.read_text(errors="replace").splitlines():
            parts = line.split(" ")
            if len(parts) != 5:
                continue
            method, status, grpc_status, key, namespace = parts
            found.append(ProxiedCall(method, int(status), grpc_status, key, namespace))
        return found

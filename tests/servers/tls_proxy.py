"""A TLS-terminating proxy (nginx's stream module) in front of a plaintext gRPC server.

The Temporal dev server has no TLS flags, yet the worker must be tested against TLS and mutual
TLS as a real cluster or Temporal Cloud serves them. This lab puts a real TLS endpoint on a free
loopback port and forwards the decrypted bytes to the dev server.

Why nginx and not stunnel: gRPC is HTTP/2, and the SDK's Rust client (tonic over rustls) refuses
a TLS connection whose server did not select ALPN ``h2``:
``tonic::transport::Error(Transport, ConnectError(H2NotNegotiated))``. stunnel (5.68, Debian 12)
has no ALPN option, so it fails every connect; nginx's stream module has ``ssl_alpn`` (1.21.4+).
Debian packages: ``nginx`` and ``libnginx-mod-stream``.

One difference from a real server remains: nginx accepts any client certificate chain during the
handshake and checks it afterwards, so a client certificate from another CA is refused by closing
the connection (the client sees "connection closed" or "broken pipe"), where a real server sends a
fatal alert in the handshake (the client sees "received fatal alert: UnknownCA" or BadCertificate).

Usage::

    with TlsProxy(tmp_path / "proxy", dev_server.address, cert_file=..., key_file=...,
                  client_ca_file=ca_pem) as proxy:   # client_ca_file: mutual TLS
        await Client.connect(proxy.address, tls=TLSConfig(server_root_ca_cert=...))
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

# find_nginx: re-exported, the tests import it from here.
from tests.servers.nginx import NginxLab, find_nginx

__all__ = ["DEFAULT_PROTOCOLS", "TlsProxy", "TlsProxyError", "find_nginx", "find_stream_module"]

DEFAULT_PROTOCOLS = ("TLSv1.2", "TLSv1.3")

_STREAM_MODULE_PATHS = (
    "/usr/lib/nginx/modules/ngx_stream_module.so",  # Debian/Ubuntu libnginx-mod-stream
    "/usr/lib64/nginx/modules/ngx_stream_module.so",  # Fedora/RHEL nginx-mod-stream
)


class TlsProxyError(RuntimeError):
    """The proxy could not start (nginx or its stream module missing, bad config, no listener)."""


def find_stream_module() -> str | None:
    """The dynamic stream module to load, or None (not installed, or built into nginx)."""
    return next((p for p in _STREAM_MODULE_PATHS if os.path.isfile(p)), None)


def _stream_is_built_in(nginx: str) -> bool:
    """``nginx -V`` lists ``--with-stream`` (static) rather than ``--with-stream=dynamic``."""
    done = subprocess.run([nginx, "-V"], capture_output=True, text=True, timeout=10, check=False)
    return "--with-stream " in done.stderr + " "


class TlsProxy(NginxLab):
    """A TLS endpoint on ``ip:port`` forwarding to ``upstream`` (an nginx lab, see NginxLab).

    ``cert_file``/``key_file``: the server's PEM chain and key. ``client_ca_file``: when given, a
    client must present a certificate that chains to it (mutual TLS), else the handshake fails.
    ``protocols``: nginx's ``ssl_protocols``. With TLS 1.3 a server refuses a client certificate
    after the client has finished its handshake, so the client learns it from an alert that may
    be lost in the connection's reset (it then sees only "connection closed"); ``("TLSv1.2",)``
    makes the refusal a handshake error every time.
    """

    error_class = TlsProxyError

    def __init__(
        self,
        workdir: str | Path,
        upstream: str,
        *,
        cert_file: str | Path,
        key_file: str | Path,
        client_ca_file: str | Path | None = None,
        protocols: Sequence[str] = DEFAULT_PROTOCOLS,
        ip: str = "127.0.0.1",
        port: int | None = None,
        nginx: str | None = None,
        start_timeout: float = 5.0,
    ) -> None:
        super().__init__(workdir, ip=ip, port=port, nginx=nginx, start_timeout=start_timeout)
        self.upstream = upstream
        self.cert_file = Path(cert_file).resolve()
        self.key_file = Path(key_file).resolve()
        self.client_ca_file = Path(client_ca_file).resolve() if client_ca_file else None
        self.protocols = tuple(protocols)

    @property
    def mutual(self) -> bool:
        return self.client_ca_file is not None

    def config_text(self, stream_module: str | None) -> str:
        server = [
            f"listen {self.ip}:{self.port} ssl;",
            f"ssl_certificate {self.cert_file};",
            f"ssl_certificate_key {self.key_file};",
            f"ssl_protocols {' '.join(self.protocols)};",
            # Without it the SDK's client refuses the connection (H2NotNegotiated).
            "ssl_alpn h2;",
        ]
        if self.client_ca_file:
            server += [
                "ssl_verify_client on;",
                f"ssl_client_certificate {self.client_ca_file};",
                "ssl_verify_depth 3;",
                # OpenSSL itself then refuses a handshake without a client certificate and sends
                # the certificate_required alert, as a real server does (Go's crypto/tls, OpenSSL);
                # with `ssl_verify_client on` alone nginx completes the handshake and closes the
                # connection silently, which a client cannot tell from a crash.
                "ssl_conf_command VerifyMode Require;",
            ]
        server += [
            f"proxy_pass {self.upstream};",
            "proxy_connect_timeout 2s;",
            # A worker's long polls sit idle for up to ~70 s; nginx's 10 min default is enough,
            # said here so nobody lowers it below a poll.
            "proxy_timeout 10m;",
        ]
        stream = [
            "log_format lab '$remote_addr $status $session_time $ssl_protocol "
            "alpn=$ssl_alpn_protocol client_verify=$ssl_client_verify';",
            f"access_log {self.workdir / 'access.log'} lab;",
            "server {",
            *(f"    {line}" for line in server),
            "}",
        ]
        modules = [stream_module] if stream_module else []
        return self._nginx_conf("stream", stream, error_level="info", modules=modules)

    def _render_config(self, nginx: str) -> str:
        module = find_stream_module()
        if module is None and not _stream_is_built_in(nginx):
            raise TlsProxyError(
                "nginx's stream module is not installed: install Debian/Ubuntu package "
                "'libnginx-mod-stream'"
            )
        return self.config_text(module)

    def _required_files(self) -> Iterable[Path]:
        return [p for p in (self.cert_file, self.key_file, self.client_ca_file) if p is not None]

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
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from genesis.lab._proc import die_with_parent
from genesis.lab.ports import free_port

__all__ = ["DEFAULT_PROTOCOLS", "TlsProxy", "TlsProxyError", "find_nginx", "find_stream_module"]

DEFAULT_PROTOCOLS = ("TLSv1.2", "TLSv1.3")

_STOP_GRACE_SECONDS = 5.0
_STREAM_MODULE_PATHS = (
    "/usr/lib/nginx/modules/ngx_stream_module.so",  # Debian/Ubuntu libnginx-mod-stream
    "/usr/lib64/nginx/modules/ngx_stream_module.so",  # Fedora/RHEL nginx-mod-stream
)


class TlsProxyError(RuntimeError):
    """The proxy could not start (nginx or its stream module missing, bad config, no listener)."""


def find_nginx() -> str | None:
    """Path of the ``nginx`` binary, or None when it is not installed."""
    found = shutil.which("nginx")
    if found:
        return found
    candidate = "/usr/sbin/nginx"
    return candidate if os.access(candidate, os.X_OK) else None


def find_stream_module() -> str | None:
    """The dynamic stream module to load, or None (not installed, or built into nginx)."""
    return next((p for p in _STREAM_MODULE_PATHS if os.path.isfile(p)), None)


def _stream_is_built_in(nginx: str) -> bool:
    """``nginx -V`` lists ``--with-stream`` (static) rather than ``--with-stream=dynamic``."""
    done = subprocess.run([nginx, "-V"], capture_output=True, text=True, timeout=10, check=False)
    return "--with-stream " in done.stderr + " "


class TlsProxy:
    """One ``nginx`` master (foreground, one worker) with its own config and logs in ``workdir``.

    ``cert_file``/``key_file``: the server's PEM chain and key. ``client_ca_file``: when given, a
    client must present a certificate that chains to it (mutual TLS), else the handshake fails.
    ``protocols``: nginx's ``ssl_protocols``. With TLS 1.3 a server refuses a client certificate
    after the client has finished its handshake, so the client learns it from an alert that may
    be lost in the connection's reset (it then sees only "connection closed"); ``("TLSv1.2",)``
    makes the refusal a handshake error every time.
    """

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
        self.workdir = Path(workdir).resolve()
        self.upstream = upstream
        self.cert_file = Path(cert_file).resolve()
        self.key_file = Path(key_file).resolve()
        self.client_ca_file = Path(client_ca_file).resolve() if client_ca_file else None
        self.protocols = tuple(protocols)
        self.ip = ip
        self.port = port or free_port(ip)
        self.start_timeout = start_timeout
        self._nginx = nginx
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def mutual(self) -> bool:
        return self.client_ca_file is not None

    @property
    def error_log(self) -> Path:
        return self.workdir / "error.log"

    def config_text(self, stream_module: str | None) -> str:
        w = self.workdir
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
        lines = [
            "daemon off;",
            "worker_processes 1;",
            f"pid {w / 'nginx.pid'};",
            f"error_log {self.error_log} info;",
            *([f"load_module {stream_module};"] if stream_module else []),
            "events { worker_connections 256; }",
            "stream {",
            "    log_format lab '$remote_addr $status $session_time $ssl_protocol "
            "alpn=$ssl_alpn_protocol client_verify=$ssl_client_verify';",
            f"    access_log {w / 'access.log'} lab;",
            "    server {",
            *(f"        {line}" for line in server),
            "    }",
            "}",
            "",
        ]
        return "\n".join(lines)

    def start(self) -> TlsProxy:
        if self.proc is not None:
            raise TlsProxyError("proxy already started")
        nginx = self._nginx or find_nginx()
        if not nginx:
            raise TlsProxyError("nginx not installed: install Debian/Ubuntu package 'nginx'")
        module = find_stream_module()
        if module is None and not _stream_is_built_in(nginx):
            raise TlsProxyError(
                "nginx's stream module is not installed: install Debian/Ubuntu package "
                "'libnginx-mod-stream'"
            )
        for path in (self.cert_file, self.key_file, self.client_ca_file):
            if path is not None and not path.is_file():
                raise TlsProxyError(f"TLS proxy file {path} does not exist")
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "nginx.conf"
        conf.write_text(self.config_text(module))
        log = open(self.workdir / "nginx.out", "ab")  # noqa: SIM115 - handed to the child
        try:
            # -p: relative paths and temp dirs under workdir; -e: the log nginx writes before it
            # has read the config (its compiled-in /var/log/nginx may not be ours to write).
            self.proc = subprocess.Popen(
                [nginx, "-p", str(self.workdir), "-c", str(conf), "-e", str(self.error_log)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        finally:
            log.close()
        try:
            self._wait_listening()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_listening(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                raise TlsProxyError(
                    f"nginx for {self.address} exited with {self.proc.returncode}; "
                    f"log tail:\n{self.log_tail()}"
                )
            try:
                with socket.create_connection((self.ip, self.port), timeout=0.2):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TlsProxyError(
                    f"nginx did not listen on {self.address} within {self.start_timeout} s; "
                    f"log tail:\n{self.log_tail()}"
                )
            time.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM the master's process group (nginx's fast shutdown: open connections are cut,
        as when a server dies), SIGKILL after 5 s. Safe to call twice."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        texts = []
        for name in ("nginx.out", "error.log"):
            path = self.workdir / name
            if path.exists():
                texts += path.read_text(errors="replace").splitlines()
        return "\n".join(texts[-lines:])

    def __enter__(self) -> TlsProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

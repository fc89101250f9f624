"""Deployment fixtures: a throwaway PKI (trustme) and a TLS-terminating proxy (nginx's stream
module, tests/servers/tls_proxy.py) in front of a real Temporal dev server, for TLS and mutual TLS
end to end. The dev server itself has no TLS flags.

- ``pki``: a CA, a server certificate for 127.0.0.1 and localhost, a client certificate, and the
  same three from another CA (what a client must refuse, what the proxy must refuse).
- ``tls_proxy`` / ``mtls_proxy``: TLS, and TLS requiring a client certificate from ``pki.ca``,
  in front of the session's dev server.
- ``make_tls_proxy(upstream, mutual=..., protocols=...)``: a proxy in front of a test's own dev
  server (one the test stops and restarts), stopped at the test's end. ``protocols=("TLSv1.2",)``
  makes a refused client certificate a handshake error every time (see TlsProxy).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from temporalio.service import TLSConfig

from genesis.lab.temporal_dev import TemporalDevServer
from tests.servers.tls_proxy import DEFAULT_PROTOCOLS, TlsProxy, find_nginx, find_stream_module
from tests.support import require, unavailable


@dataclass(frozen=True)
class CertFiles:
    """One identity issued by a test CA: its certificate chain and private key, as PEM files."""

    cert: Path
    key: Path

    def cert_pem(self) -> bytes:
        return self.cert.read_bytes()

    def key_pem(self) -> bytes:
        return self.key.read_bytes()


@dataclass(frozen=True)
class LabPki:
    ca: Path  # the CA certificate a client trusts and the mutual-TLS proxy checks clients against
    server: CertFiles  # 127.0.0.1 and localhost
    client: CertFiles
    other_ca: Path  # an unrelated CA: its certificates must be refused either way
    other_server: CertFiles
    other_client: CertFiles

    def tls_config(
        self,
        *,
        client: CertFiles | None = None,
        ca: Path | None = None,
        domain: str | None = None,
    ) -> TLSConfig:
        """The SDK's TLS settings: trust ``ca`` (default the lab CA), present ``client``;
        ``domain`` is the name sent (SNI) and verified instead of the address's host."""
        return TLSConfig(
            server_root_ca_cert=(ca or self.ca).read_bytes(),
            client_cert=client.cert_pem() if client else None,
            client_private_key=client.key_pem() if client else None,
            domain=domain,
        )

    def config_table(self, *, client: bool = False) -> dict[str, str]:
        """A ``[temporal.tls]`` table for the worker's config file, pointing at these files."""
        table = {"server_ca_cert_path": str(self.ca)}
        if client:
            table |= {
                "client_cert_path": str(self.client.cert),
                "client_key_path": str(self.client.key),
            }
        return table


def _write(directory: Path, name: str, leaf: trustme.LeafCert) -> CertFiles:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    leaf.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)  # as a deployment keeps it; nginx and the SDK read it as us
    # The chain without the CA itself: what a server or client presents.
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    return CertFiles(cert, key)


def make_pki(directory: Path) -> LabPki:
    directory.mkdir(parents=True, exist_ok=True)
    ca, other = trustme.CA(), trustme.CA()
    ca.cert_pem.write_to_path(str(directory / "ca.pem"))
    other.cert_pem.write_to_path(str(directory / "other-ca.pem"))
    return LabPki(
        ca=directory / "ca.pem",
        server=_write(directory, "server", ca.issue_cert("127.0.0.1", "localhost")),
        client=_write(directory, "client", ca.issue_cert("worker.genesis.test")),
        other_ca=directory / "other-ca.pem",
        other_server=_write(directory, "other-server", other.issue_cert("127.0.0.1", "localhost")),
        other_client=_write(directory, "other-client", other.issue_cert("worker.genesis.test")),
    )


def require_nginx_stream() -> str:
    nginx = require(find_nginx(), "nginx (Debian package nginx)")
    # Debian builds the stream module as a dynamic module in its own package.
    if find_stream_module() is None and os.path.exists("/etc/debian_version"):
        unavailable("nginx's stream module is not installed (Debian package libnginx-mod-stream)")
    return nginx


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> LabPki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _proxy(
    workdir: Path,
    upstream: str,
    pki: LabPki,
    *,
    mutual: bool,
    protocols: Sequence[str] = DEFAULT_PROTOCOLS,
) -> TlsProxy:
    return TlsProxy(
        workdir,
        upstream,
        cert_file=pki.server.cert,
        key_file=pki.server.key,
        client_ca_file=pki.ca if mutual else None,
        nginx=require_nginx_stream(),
        protocols=protocols,
    ).start()


@pytest.fixture(scope="session")
def tls_proxy(
    tmp_path_factory: pytest.TempPathFactory, dev_server: TemporalDevServer, pki: LabPki
) -> Iterator[TlsProxy]:
    proxy = _proxy(tmp_path_factory.mktemp("tls-proxy"), dev_server.address, pki, mutual=False)
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(scope="session")
def mtls_proxy(
    tmp_path_factory: pytest.TempPathFactory, dev_server: TemporalDevServer, pki: LabPki
) -> Iterator[TlsProxy]:
    proxy = _proxy(tmp_path_factory.mktemp("mtls-proxy"), dev_server.address, pki, mutual=True)
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def make_tls_proxy(tmp_path: Path, pki: LabPki) -> Iterator[Callable[..., TlsProxy]]:
    started: list[TlsProxy] = []

    def make(
        upstream: str, *, mutual: bool = False, protocols: Sequence[str] = DEFAULT_PROTOCOLS
    ) -> TlsProxy:
        workdir = tmp_path / f"tls-proxy-{len(started)}"
        proxy = _proxy(workdir, upstream, pki, mutual=mutual, protocols=protocols)
        started.append(proxy)
        return proxy

    try:
        yield make
    finally:
        for proxy in started:
            proxy.stop()

"""The TLS lab itself, checked with the SDK directly: a worker configured for TLS or mutual TLS
against a real cluster meets what these tests meet, so the lab must refuse what a real server
refuses and serve what it serves (TLSConfig is the SDK's own, not ours)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import TLSConfig

from genesis.lab.ports import port_is_free
from genesis.lab.temporal_dev import TemporalDevServer
from tests.deploy.conftest import LabPki, require_nginx_stream
from tests.servers.tls_proxy import TlsProxy, TlsProxyError

# Every refusal below happens in well under a second; the bound keeps a regression that hangs
# (a handshake nobody answers) from eating the test's whole timeout.
CONNECT_TIMEOUT = timedelta(seconds=5)

# What the SDK's message holds when a TLS 1.3 server refuses the client after the handshake.
TLS13_REFUSALS = ("received fatal alert: CertificateRequired", "connection closed", "broken pipe")


async def describe_default(address: str, tls: TLSConfig) -> str:
    client = await Client.connect(address, tls=tls, connect_timeout=CONNECT_TIMEOUT)
    response = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default")
    )
    return str(response.namespace_info.name)


async def refusal(address: str, tls: TLSConfig) -> str:
    """The message Client.connect fails with (the SDK raises a bare RuntimeError)."""
    with pytest.raises(RuntimeError) as caught:
        await Client.connect(address, tls=tls, connect_timeout=CONNECT_TIMEOUT)
    return str(caught.value)


async def logged(proxy: TlsProxy, before: str, text: str) -> None:
    """nginx logs a refusal once it has closed the connection, maybe after the client raised."""
    deadline = time.monotonic() + 5
    while text not in (added := proxy.error_log.read_text()[len(before) :]):
        assert time.monotonic() < deadline, f"{text!r} not in the proxy's log:\n{added}"
        await asyncio.sleep(0.02)


async def test_tls_with_the_lab_ca_serves_the_namespace(tls_proxy: TlsProxy, pki: LabPki) -> None:
    assert await describe_default(tls_proxy.address, pki.tls_config()) == "default"


def test_the_proxy_selects_http2_by_alpn(tls_proxy: TlsProxy, pki: LabPki) -> None:
    """Without ALPN h2 the SDK refuses every connection (H2NotNegotiated): why not stunnel."""
    context = ssl.create_default_context(cafile=str(pki.ca))
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection((tls_proxy.ip, tls_proxy.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=tls_proxy.ip) as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"


async def test_domain_names_the_certificate_when_the_address_does_not(
    tls_proxy: TlsProxy, pki: LabPki
) -> None:
    # Dialling 127.0.0.1 but verifying "localhost" (also in the certificate), as a worker that
    # reaches a cluster by IP or through a tunnel does with [temporal.tls] server_name.
    assert await describe_default(tls_proxy.address, pki.tls_config(domain="localhost")) == (
        "default"
    )
    message = await refusal(tls_proxy.address, pki.tls_config(domain="temporal.wrong.test"))
    assert "NotValidForName" in message and "temporal.wrong.test" in message


async def test_a_server_certificate_from_another_ca_is_refused(
    tls_proxy: TlsProxy, pki: LabPki
) -> None:
    message = await refusal(tls_proxy.address, pki.tls_config(ca=pki.other_ca))
    assert "InvalidCertificate(UnknownIssuer)" in message


async def test_mutual_tls_with_a_client_certificate_from_the_ca(
    mtls_proxy: TlsProxy, pki: LabPki
) -> None:
    tls = pki.tls_config(client=pki.client)
    assert await describe_default(mtls_proxy.address, tls) == "default"


async def test_mutual_tls_without_a_client_certificate_is_refused(
    mtls_proxy: TlsProxy, pki: LabPki
) -> None:
    before = mtls_proxy.error_log.read_text()
    message = await refusal(mtls_proxy.address, pki.tls_config())
    # TLS 1.3: the server's certificate_required alert comes after the client thinks the
    # handshake is done and races the connection's reset (about half the time here, with nginx
    # and with OpenSSL alone): the client sees the alert or only the closed connection.
    assert any(shape in message for shape in TLS13_REFUSALS), message
    await logged(mtls_proxy, before, "peer did not return a certificate")


async def test_over_tls12_a_missing_client_certificate_fails_the_handshake(
    dev_server: TemporalDevServer, make_tls_proxy: Callable[..., TlsProxy], pki: LabPki
) -> None:
    proxy = make_tls_proxy(dev_server.address, mutual=True, protocols=("TLSv1.2",))
    for _ in range(3):  # every time, not by luck
        message = await refusal(proxy.address, pki.tls_config())
        assert "AlertReceived(HandshakeFailure)" in message, message


async def test_mutual_tls_with_a_client_certificate_from_another_ca_is_refused(
    mtls_proxy: TlsProxy, pki: LabPki
) -> None:
    before = mtls_proxy.error_log.read_text()
    message = await refusal(mtls_proxy.address, pki.tls_config(client=pki.other_client))
    assert any(shape in message for shape in TLS13_REFUSALS), message
    # nginx closes such a connection after the handshake, so the client's message is only
    # "connection closed" or "broken pipe" (a real server sends UnknownCA); its log says why.
    await logged(mtls_proxy, before, "client SSL certificate verify error")


async def test_a_plaintext_client_is_not_served_by_the_tls_port(tls_proxy: TlsProxy) -> None:
    with pytest.raises(RuntimeError, match="get_system_info"):
        await Client.connect(tls_proxy.address, connect_timeout=CONNECT_TIMEOUT)


def test_stop_frees_the_port(tmp_path: Path, pki: LabPki) -> None:
    proxy = TlsProxy(
        tmp_path / "proxy",
        "127.0.0.1:9",  # nginx dials its upstream only when a client arrives
        cert_file=pki.server.cert,
        key_file=pki.server.key,
        nginx=require_nginx_stream(),
    ).start()
    assert proxy.proc is not None
    pid = proxy.proc.pid
    proxy.stop()
    assert not _alive(pid) and port_is_free(proxy.port)
    proxy.stop()  # twice is harmless


def test_a_missing_certificate_is_named(tmp_path: Path, pki: LabPki) -> None:
    missing = tmp_path / "nope.pem"
    proxy = TlsProxy(
        tmp_path / "proxy",
        "127.0.0.1:9",
        cert_file=missing,
        key_file=pki.server.key,
        nginx=require_nginx_stream(),
    )
    with pytest.raises(TlsProxyError, match=str(missing)):
        proxy.start()


def test_the_proxy_dies_with_its_parent(tmp_path: Path, pki: LabPki) -> None:
    """A killed test run leaves no nginx behind holding a port (PR_SET_PDEATHSIG)."""
    nginx = require_nginx_stream()
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import time
                from tests.servers.tls_proxy import TlsProxy
                p = TlsProxy({str(tmp_path / "proxy")!r}, "127.0.0.1:9",
                             cert_file={str(pki.server.cert)!r}, key_file={str(pki.server.key)!r},
                             nginx={nginx!r}).start()
                print(p.proc.pid, p.port, flush=True)
                time.sleep(60)
            """),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert parent.stdout is not None
        pid, port = map(int, parent.stdout.readline().split())
        assert _alive(pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(5)
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid) and port_is_free(port)
    finally:
        parent.kill()
        parent.wait()


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (an exited child nobody reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        return os.path.exists(f"/proc/{pid}")

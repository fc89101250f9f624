"""Which connect errors the worker waits out and which it refuses at once.

The failure stories: a worker that retries a certificate nobody trusts for a minute, then says
"cannot reach" (the operator looks at the network, not at the CA file); or a worker that gives
up at once while the cluster beside it is still starting (compose, a reboot), leaving the site
unwatched until the process manager's next try.

The messages are what temporalio 1.35 raised, verbatim (trimmed), in a survey against the dev
server behind an nginx TLS proxy; tests/deploy exercises the same cases end to end.
"""

from __future__ import annotations

import pytest
from temporalio.service import RPCError, RPCStatusCode

from genesis.failover.domain.config import TemporalSettings
from genesis.failover.domain.errors import TemporalRefused, TemporalUnreachable
from genesis.failover.temporal.connection import ConnectionOptions, _classified

PREFIX = "Failed client connect: Server connection error: tonic::transport::Error(Transport, "
AFTER = "Failed client connect: `get_system_info` call error after connection: Status { "

WAIT = {
    "refused": PREFIX + 'ConnectError(ConnectError("tcp connect error", 127.0.0.1:7233, Os { '
    'code: 111, kind: ConnectionRefused, message: "Connection refused" })))',
    "no such name": PREFIX + 'ConnectError(ConnectError("dns error", Custom { kind: '
    'Uncategorized, error: "failed to lookup address information: Name or service not known" '
    "})))",
    "syn timeout": PREFIX + 'ConnectError(ConnectError("tcp connect error", 10.0.0.1:7233, Os '
    '{ code: 110, kind: TimedOut, message: "Connection timed out" })))',
    "connect_timeout": PREFIX + "ConnectError(Custom { kind: TimedOut, error: Elapsed(()) }))",
    "closed": AFTER + 'code: Cancelled, message: "connection closed" }',
    "transport": AFTER + 'code: Unknown, message: "transport error", source: ... "stream closed '
    'because of a broken pipe" }',
    "unavailable": AFTER + 'code: Unavailable, message: "upstream connect error" }',
}

REFUSE = {
    "unknown issuer": (
        PREFIX + "ConnectError(Custom { kind: InvalidData, error: InvalidCertificate("
        "UnknownIssuer) }))",
        "not signed by a CA this worker trusts",
    ),
    "wrong name": (
        PREFIX + "ConnectError(Custom { kind: InvalidData, error: InvalidCertificate("
        'NotValidForNameContext { expected: DnsName("wrong.example"), presented: '
        '["IpAddress(127.0.0.1)"] }) }))',
        "not valid for the name dialled",
    ),
    "tls to plaintext": (
        PREFIX + "ConnectError(Custom { kind: InvalidData, error: InvalidMessage("
        "InvalidContentType) }))",
        "does not speak TLS",
    ),
    "client cert required (1.3)": (
        AFTER + 'code: Unknown, message: "transport error", source: ... "received fatal alert: '
        'CertificateRequired" }',
        "requires a client certificate",
    ),
    "client cert required (1.2)": (
        PREFIX + "ConnectError(Custom { kind: InvalidData, error: AlertReceived("
        "HandshakeFailure) }))",
        "client certificate required?",
    ),
    "client cert unknown": (
        AFTER + 'code: Unknown, message: "transport error", source: "received fatal alert: '
        'UnknownCA" }',
        "does not trust this worker's client certificate",
    ),
    "key mismatch": (PREFIX + "InconsistentKeys(KeyMismatch))", "does not belong"),
    "no alpn": (PREFIX + "ConnectError(H2NotNegotiated))", "ALPN h2"),
    "bad api key": (
        AFTER + 'code: Unauthenticated, message: "Request unauthenticated" }',
        "refused the credentials",
    ),
    "not temporal": (
        AFTER + 'code: Unimplemented, message: "grpc-status header missing, mapped from HTTP '
        'status code 404" }',
        "not a Temporal frontend",
    ),
}

SETTINGS = TemporalSettings(address="temporal.internal:7233", namespace="prod")
PLAIN = ConnectionOptions(tls=False)


@pytest.mark.parametrize("text", WAIT.values(), ids=WAIT.keys())
def test_nothing_answering_is_waited_out(text: str) -> None:
    error = _classified(RuntimeError(text), SETTINGS, PLAIN)
    assert isinstance(error, TemporalUnreachable) and error.retryable
    assert str(error).startswith("cannot reach Temporal at temporal.internal:7233 (namespace prod)")


@pytest.mark.parametrize(("text", "meaning"), REFUSE.values(), ids=REFUSE.keys())
def test_a_server_that_says_no_is_refused_at_once_in_words(text: str, meaning: str) -> None:
    error = _classified(RuntimeError(text), SETTINGS, PLAIN)
    assert isinstance(error, TemporalRefused) and not error.retryable
    assert "Temporal at temporal.internal:7233" in str(error) and meaning in str(error)
    assert text[-40:] in str(error)  # the client's own words follow, for searching


def test_refused_connection_and_lookup_failure_are_said_plainly() -> None:
    assert "connection refused [" in str(
        _classified(RuntimeError(WAIT["refused"]), SETTINGS, PLAIN)
    )
    lookup = str(_classified(RuntimeError(WAIT["no such name"]), SETTINGS, PLAIN))
    assert "the name does not resolve [" in lookup


def test_a_closed_connection_without_tls_configured_asks_whether_tls_is_needed() -> None:
    plain = str(_classified(RuntimeError(WAIT["closed"]), SETTINGS, PLAIN))
    assert "does the server require TLS?" in plain
    with_tls = TemporalSettings(address="temporal.internal:7233", tls={})
    assert "require TLS" not in str(
        _classified(RuntimeError(WAIT["closed"]), with_tls, ConnectionOptions(tls=True))
    )


def test_rpc_errors_for_credentials_are_refusals() -> None:
    for status in (RPCStatusCode.UNAUTHENTICATED, RPCStatusCode.PERMISSION_DENIED):
        error = _classified(RPCError("denied", status, b""), SETTINGS, PLAIN)
        assert isinstance(error, TemporalRefused)


def test_the_api_key_never_reaches_the_message() -> None:
    key = "tcld_live_abcdef0123456789"
    options = ConnectionOptions(tls=True, api_key=key)
    for text in (
        f"{WAIT['closed']} authorization: Bearer {key}",
        f"{REFUSE['bad api key'][0]}{key}",
    ):
        assert key not in str(_classified(RuntimeError(text), SETTINGS, options))

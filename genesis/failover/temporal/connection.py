"""Connecting to Temporal as ``[temporal]`` says: TLS, mutual TLS, an API key, a namespace that
exists. One path for the worker, the CLI and the Python facade.

    options = connection_options(config.temporal, os.environ)    # files and secrets, checked
    client = await connect_temporal(config.temporal, options, converter=..., wait_seconds=60)

Two kinds of trouble, told apart because they need opposite answers:
- ``ConfigError`` (before any connection): a certificate file missing or not PEM, a key that
  does not belong to its certificate, an expired client certificate, the API key's variable
  unset. Named by field and path; a retry cannot help.
- ``TemporalConnectionError`` (connecting): ``TemporalUnreachable`` when nothing answers (a
  cluster restarting beside the worker: worth waiting for, up to ``wait_seconds``) and
  ``TemporalRefused`` when the server answered no (a certificate either side does not trust,
  a refused API key, an unknown namespace: the worker stops at once and says why).

This module talks to Temporal as a client only (DESIGN.md: the client-facing exception).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from genesis.failover.domain.config import TemporalSettings
from genesis.failover.domain.config.site import TlsSettings
from genesis.failover.domain.errors import ConfigError, TemporalRefused, TemporalUnreachable
from genesis.failover.domain.secrets import redact, secret_from_env
from genesis.failover.domain.wording import one_line
from genesis.failover.temporal.converter import data_converter

log = logging.getLogger("genesis.failover.temporal.connection")

# One attempt's bound: a server that accepts the TCP connection and then says nothing (a
# blackholed route, a proxy with no upstream) must not hold the worker's start for minutes.
ATTEMPT_TIMEOUT = timedelta(seconds=10)
FIRST_DELAY, MAX_DELAY = 0.5, 10.0
# A client certificate closer than this to its end is announced at every start.
EXPIRY_WARNING = timedelta(days=14)


@dataclass(frozen=True)
class ConnectionOptions:
    """What ``Client.connect`` needs beyond the address: read once, at start."""

    tls: TLSConfig | bool
    # Held here and handed to the SDK only; never logged, never in an error message.
    api_key: str | None = None

    def __repr__(self) -> str:  # a debug print of the options must not show the key
        return f"ConnectionOptions(tls={bool(self.tls)}, api_key={'set' if self.api_key else None})"


def connection_options(temporal: TemporalSettings, environ: Mapping[str, str]) -> ConnectionOptions:
    """The TLS files read and checked, the API key read from its variable; ``ConfigError``
    naming the field (and path or variable) for anything that cannot work."""
    api_key = None
    if temporal.api_key_env is not None:
        api_key = secret_from_env(
            environ,
            temporal.api_key_env,
            field="temporal.api_key_env",
            holds="the Temporal Cloud API key of a service account with access to "
            f"namespace {temporal.namespace!r}",
        )
    if temporal.tls is None:
        return ConnectionOptions(tls=api_key is not None, api_key=api_key)
    return ConnectionOptions(tls=_tls_config(temporal.tls), api_key=api_key)


def _tls_config(tls: TlsSettings) -> TLSConfig:
    ca = None
    if tls.server_ca_cert_path is not None:
        ca = _read(tls.server_ca_cert_path, "temporal.tls.server_ca_cert_path")
        certs = _certificates(ca, tls.server_ca_cert_path, "temporal.tls.server_ca_cert_path")
        if all(_expired(c) for c in certs):
            _refuse_expired(certs[0], tls.server_ca_cert_path, "temporal.tls.server_ca_cert_path")
    cert = key = None
    if tls.client_cert_path is not None and tls.client_key_path is not None:
        cert = _read(tls.client_cert_path, "temporal.tls.client_cert_path")
        key = _read(tls.client_key_path, "temporal.tls.client_key_path")
        _check_client_pair(cert, key, tls.client_cert_path, tls.client_key_path)
    return TLSConfig(
        server_root_ca_cert=ca,
        client_cert=cert,
        client_private_key=key,
        domain=tls.server_name,
    )


def _read(path: str, field: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise ConfigError(
            f"{field}: cannot read {path!r}: {exc.strerror or exc}", field=field, value=path
        ) from None


def _certificates(data: bytes, path: str, field: str) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if not certs:
        raise ConfigError(
            f"{field}: {path!r} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)",
            field=field,
            value=path,
        )
    return certs


def _expired(cert: x509.Certificate) -> bool:
    return cert.not_valid_after_utc < datetime.now(UTC)


def _refuse_expired(cert: x509.Certificate, path: str, field: str) -> None:
    raise ConfigError(
        f"{field}: the certificate in {path!r} expired on "
        f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC",
        field=field,
        value=path,
    )


def _check_client_pair(cert_pem: bytes, key_pem: bytes, cert_path: str, key_path: str) -> None:
    """The handshake would fail anyway, with a message about neither file; say which here."""
    cert_field, key_field = "temporal.tls.client_cert_path", "temporal.tls.client_key_path"
    leaf = _certificates(cert_pem, cert_path, cert_field)[0]
    if _expired(leaf):
        _refuse_expired(leaf, cert_path, cert_field)
    left = leaf.not_valid_after_utc - datetime.now(UTC)
    if left < EXPIRY_WARNING:
        # Read once, at start: a certificate renewed on disk is used from the next restart.
        # Two weeks' notice in the log is the difference between a rolling restart and a
        # worker that, after its next restart, cannot reach Temporal at all.
        log.warning(
            "%s: the certificate in %r expires in %d days (%s UTC); renew it and restart the "
            "worker (it reads the file at start)",
            cert_field,
            cert_path,
            left.days,
            f"{leaf.not_valid_after_utc:%Y-%m-%d %H:%M}",
        )
    if leaf.not_valid_before_utc > datetime.now(UTC):
        raise ConfigError(
            f"{cert_field}: the certificate in {cert_path!r} is not valid before "
            f"{leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC (is this machine's clock right?)",
            field=cert_field,
            value=cert_path,
        )
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise ConfigError(
            f"{key_field}: the key in {key_path!r} is encrypted; the worker cannot ask for a "
            "passphrase (store it unencrypted, readable only by the worker's user)",
            field=key_field,
            value=key_path,
        ) from None
    except Exception:
        # cryptography raises ValueError, or UnsupportedAlgorithm for an unknown key type.
        raise ConfigError(
            f"{key_field}: {key_path!r} holds no PEM private key "
            "(expected -----BEGIN PRIVATE KEY----- or -----BEGIN EC/RSA PRIVATE KEY-----)",
            field=key_field,
            value=key_path,
        ) from None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, spki) != leaf.public_key().public_bytes(der, spki):
        raise ConfigError(
            f"{key_field}: the key in {key_path!r} does not belong to the certificate in "
            f"{cert_path!r}",
            field=key_field,
            value=key_path,
        )


async def connect_temporal(
    temporal: TemporalSettings,
    options: ConnectionOptions,
    *,
    converter: DataConverter,
    runtime: Runtime | None = None,
    wait_seconds: float = 0.0,
) -> Client:
    """A client whose namespace exists; ``TemporalUnreachable`` once ``wait_seconds`` have
    passed with nothing answering, ``TemporalRefused`` at once when the server says no."""
    started = time.monotonic()
    delay = FIRST_DELAY
    while True:
        try:
            # The SDK's connect_timeout bounds the TCP connect only; a TLS endpoint that
            # accepts and then says nothing would hang the attempt for good without this.
            return await asyncio.wait_for(
                _attempt(temporal, options, converter, runtime),
                ATTEMPT_TIMEOUT.total_seconds(),
            )
        except (TemporalRefused, TemporalUnreachable) as exc:
            error: TemporalRefused | TemporalUnreachable = exc
        except TimeoutError:
            error = TemporalUnreachable(
                f"cannot reach {_where(temporal)}: "
                f"no answer within {ATTEMPT_TIMEOUT.total_seconds():.0f} s"
            )
        except Exception as exc:
            error = _classified(exc, temporal, options)
        waited = time.monotonic() - started
        if isinstance(error, TemporalRefused) or waited >= wait_seconds:
            if isinstance(error, TemporalUnreachable) and wait_seconds > 0:
                raise TemporalUnreachable(f"{error} (tried for {waited:.0f} s)") from None
            raise error from None
        pause = min(delay, wait_seconds - waited)  # the last attempt at the deadline itself
        log.warning(
            "%s; trying again in %.1f s (%.0f s of %.0f s)", error, pause, waited, wait_seconds
        )
        await asyncio.sleep(pause)
        delay = min(delay * 2, MAX_DELAY)


async def connect_site(
    temporal: TemporalSettings, environ: Mapping[str, str], *, wait_seconds: float = 0.0
) -> Client:
    """A client of the site's Temporal for a command or the Python facade: its data converter
    (encryption keys) and connection options (TLS files, API key) read from ``environ`` first,
    so a missing key or file is a ``ConfigError`` before anything is dialled."""
    converter = data_converter(temporal.encryption, environ)
    options = connection_options(temporal, environ)
    return await connect_temporal(temporal, options, converter=converter, wait_seconds=wait_seconds)


def _where(temporal: TemporalSettings) -> str:
    """How every connection message names the server: the address and the namespace."""
    return f"Temporal at {temporal.address} (namespace {temporal.namespace})"


async def _attempt(
    temporal: TemporalSettings,
    options: ConnectionOptions,
    converter: DataConverter,
    runtime: Runtime | None,
) -> Client:
    client = await Client.connect(
        temporal.address,
        namespace=temporal.namespace,
        data_converter=converter,
        runtime=runtime,
        tls=options.tls,
        api_key=options.api_key,
        connect_timeout=ATTEMPT_TIMEOUT,
    )
    await _check_namespace(client, temporal)
    return client


async def _check_namespace(client: Client, temporal: TemporalSettings) -> None:
    """Client.connect only asks for the server's version: an unknown namespace would surface
    as a worker that polls nothing, and a monitor that never starts."""
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=temporal.namespace)
        )
    except RPCError as exc:
        where = f"Temporal at {temporal.address}"
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise TemporalRefused(
                f"{where} has no namespace {temporal.namespace!r} (temporal.namespace); create "
                f"it: temporal operator namespace create --namespace {temporal.namespace}"
            ) from None
        if exc.status in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNAUTHENTICATED):
            raise TemporalRefused(
                f"{where} refused access to namespace {temporal.namespace!r}: {exc.message}"
            ) from None
        raise


# What the SDK's connect errors say (temporalio 1.35: a bare RuntimeError whose text is the Rust
# client's; surveyed against the dev server behind an nginx TLS proxy). A refusal is recognised
# by these markers and explained in words; everything else (refused TCP, DNS lookup, timeouts,
# "transport error", "connection closed") may pass, and is retried. The markers are the
# rustls/tonic/gRPC names, stable across releases; an unknown message is treated as passing, so
# the worst a new SDK wording can do is make the worker wait connect_wait_seconds before it says
# the same thing.
_REFUSALS: tuple[tuple[str, str], ...] = (
    (
        "unknownissuer",
        "the server's certificate is not signed by a CA this worker trusts "
        "(temporal.tls.server_ca_cert_path)",
    ),
    (
        "notvalidforname",
        "the server's certificate is not valid for the name dialled "
        "(the address's host, or temporal.tls.server_name)",
    ),
    ("invalidcertificate", "the server's certificate was refused"),
    (
        "invalidcontenttype",
        "the server does not speak TLS (remove [temporal.tls], or use its TLS port)",
    ),
    (
        "certificaterequired",
        "the server requires a client certificate (mutual TLS: "
        "temporal.tls.client_cert_path and client_key_path)",
    ),
    (
        "alertreceived(handshakefailure)",
        "the TLS handshake was refused (a client certificate required?)",
    ),
    ("unknownca", "the server does not trust this worker's client certificate"),
    ("badcertificate", "the server refused this worker's client certificate"),
    ("certificateexpired", "the server says a certificate has expired"),
    ("received fatal alert", "the server refused the TLS handshake"),
    ("alertreceived", "the server refused the TLS handshake"),
    ("inconsistentkeys", "the client key does not belong to the client certificate"),
    ("nocertificatespresented", "the client certificate file holds no certificate"),
    ("privatekeyparseerror", "the client key file holds no usable key"),
    ("h2notnegotiated", "the endpoint did not negotiate HTTP/2 (a TLS proxy without ALPN h2?)"),
    ("code: unauthenticated", "the server refused the credentials (the API key or certificate)"),
    ("code: permissiondenied", "the credentials are not allowed in this namespace"),
    ("code: unimplemented", "the endpoint is not a Temporal frontend (HTTP 404)"),
)


def _classified(
    exc: BaseException, temporal: TemporalSettings, options: ConnectionOptions
) -> TemporalRefused | TemporalUnreachable:
    secrets = [options.api_key] if options.api_key else []
    text = redact(str(exc) or type(exc).__name__, secrets)
    # A gRPC status's header dump (a proxy's name, the date) says nothing an operator needs.
    raw = one_line(text.split(", metadata: MetadataMap")[0], 400)
    where = _where(temporal)
    if isinstance(exc, RPCError) and exc.status in (
        RPCStatusCode.UNAUTHENTICATED,
        RPCStatusCode.PERMISSION_DENIED,
    ):
        return TemporalRefused(f"{where} refused the credentials: {raw}")
    squeezed = _squeezed(raw)
    for marker, meaning in _REFUSALS:
        if _squeezed(marker) in squeezed:
            return TemporalRefused(f"{where} refused the connection: {meaning} [{raw}]")
    return TemporalUnreachable(f"cannot reach {where}: {_plain(raw)}{_tls_hint(temporal, raw)}")


def _plain(raw: str) -> str:
    """The Rust client's error in words first, its text after: the first is for the on-call
    engineer, the second for the search engine."""
    squeezed = _squeezed(raw)
    for marker, words in (
        ("ConnectionRefused", "connection refused"),
        ("dns error", "the name does not resolve"),
        ("TimedOut", "timed out"),
        ("Elapsed(", "timed out"),
    ):
        if _squeezed(marker) in squeezed:
            return f"{words} [{raw}]"
    return raw


def _squeezed(text: str) -> str:
    """Lower case without spaces: "code: Unauthenticated" and "CertificateRequired" match
    however the client spaces or capitalises them."""
    return "".join(text.lower().split())


def _tls_hint(temporal: TemporalSettings, raw: str) -> str:
    """A plaintext client at a TLS port only ever sees the connection closed: say what may be
    missing rather than let it wait in silence."""
    closed = any(w in raw.lower() for w in ("connection closed", "broken pipe", "transport error"))
    if closed and not temporal.uses_tls:
        return " (no [temporal.tls] in the config: does the server require TLS?)"
    return ""

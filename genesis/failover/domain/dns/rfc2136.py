"""RFC 2136 dynamic updates (BIND9, Knot, PowerDNS, ...) signed with TSIG, over dnspython.

The switch is atomic on the server: one UPDATE message carries the prerequisite "the rrset is
exactly the values we read" and the replacement. If someone changes the record between our read
and our write, the server refuses the whole message (NXRRSET) and nothing is written; there is no
moment where the name has no address.

Both reads and updates go over TCP to the configured (primary) server: no truncation, no lost
datagram to retry, and the update needs a connection anyway. Reads are TSIG-signed too, so a dry
run already proves the key works. Wire errors and response codes are mapped to the domain error
tree in exactly one place, ``_send``.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping

import dns.asyncquery
import dns.exception
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update

from genesis.failover.domain.config import Rfc2136Settings
from genesis.failover.domain.dns.base import DNSProvider, RecordValues
from genesis.failover.domain.dns.query import resolve_host, split_host_port
from genesis.failover.domain.errors import (
    ConfigError,
    DNSAuthError,
    DNSConflictError,
    DNSError,
    DNSNotFoundError,
    DNSTransientError,
)
from genesis.failover.domain.secrets import secret_from_env

__all__ = ["RFC2136Provider"]


class RFC2136Provider(DNSProvider):
    name = "rfc2136"

    def __init__(self, settings: Rfc2136Settings, tsig_secret: str | None = None) -> None:
        super().__init__()
        self.server = settings.server
        self._host, self._port = split_host_port(settings.server)
        self._address: str | None = None
        self.timeout = settings.timeout_seconds
        try:
            self.zone = dns.name.from_text(settings.zone)
        except dns.exception.DNSException as exc:
            raise ConfigError(
                f"bad rfc2136 zone {settings.zone!r}: {exc}", field="dns.rfc2136.zone"
            ) from exc
        self.key_name = settings.tsig_key_name  # the NAME only: safe in every message
        self._key: dns.name.Name | None = None
        self._keyring: dict[dns.name.Name, dns.tsig.Key] | None = None
        self._algorithm = settings.tsig_algorithm
        if self.key_name is not None:
            if not tsig_secret:
                raise ConfigError(
                    f"rfc2136: TSIG key {self.key_name!r} configured but no secret given",
                    field="dns.rfc2136.tsig_secret_env",
                )
            self._keyring = _keyring(self.key_name, tsig_secret, self._algorithm)
            (self._key,) = self._keyring

    @classmethod
    def from_settings(
        cls, settings: Rfc2136Settings, environ: Mapping[str, str] = os.environ
    ) -> RFC2136Provider:
        """Build from config, reading the TSIG secret from the env var it names."""
        secret: str | None = None
        if settings.tsig_secret_env is not None:
            var = settings.tsig_secret_env
            secret = secret_from_env(
                environ, var, field="dns.rfc2136.tsig_secret_env", holds="the base64 TSIG secret"
            )
            if not _is_base64(secret):
                raise ConfigError(
                    f"environment variable {var} (dns.rfc2136.tsig_secret_env) is not valid base64",
                    field="dns.rfc2136.tsig_secret_env",
                    value=var,
                )
        return cls(settings, secret)

    @property
    def where(self) -> str:
        return f"rfc2136 server {self.server} zone {self.zone}"

    # -- the two primitives ------------------------------------------------------------------

    async def read_record(self, domain: str, record_type: str) -> RecordValues:
        name = self.record_name(domain)
        try:
            rdtype = dns.rdatatype.from_text(record_type)
        except dns.exception.DNSException:
            raise ConfigError(
                f"unknown record type {record_type!r}", field="record_type", value=record_type
            ) from None
        query = dns.message.make_query(name, rdtype)
        self._sign(query)
        response = await self._send(query, f"read of {name} {record_type}")
        rrset = response.get_rrset(response.answer, name, dns.rdataclass.IN, rdtype)
        if rrset is None:
            raise DNSNotFoundError(f"{name} has no {record_type} record ({self.where})")
        return RecordValues(values=sorted(rd.to_text() for rd in rrset), ttl=rrset.ttl)

    async def _replace(
        self, domain: str, record_type: str, old_values: list[str], new_value: str, ttl: int
    ) -> str | None:
        name = self.record_name(domain)
        update = dns.update.UpdateMessage(
            self.zone, keyring=self._keyring, keyname=self._key, keyalgorithm=self._algorithm
        )
        # Prerequisite: the rrset is exactly old_values (RFC 2136 3.2.3, value-dependent; TTL
        # 0 as the RFC requires). The server checks it and applies the replace atomically.
        if old_values:
            for value in old_values:
                update.present(name, record_type, value)
        else:
            update.absent(name, record_type)
        update.replace(name, ttl, record_type, new_value)
        await self._send(update, f"update of {name} {record_type}")
        return None  # applied on the primary when it answers; secondaries are asked directly

    # -- names and wire ----------------------------------------------------------------------

    def record_name(self, domain: str) -> dns.name.Name:
        """The absolute owner name for ``domain``; it must be inside the zone.

        "www.example.com." and "www.example.com" are absolute; a single label ("www") and "@"
        are relative to the zone. A multi-label name is never silently made relative: a typo
        like "www.example.org" for zone example.com is an error, not www.example.org.example.com.
        """
        text = domain.strip()
        try:
            if text in ("@", ""):
                name = self.zone
            elif text.endswith(".") or "." in text:
                name = dns.name.from_text(text)
            else:
                name = dns.name.from_text(text, origin=self.zone)
        except dns.exception.DNSException as exc:
            raise ConfigError(f"bad domain name {domain!r}: {exc}", field="domain") from exc
        if not name.is_subdomain(self.zone):
            raise ConfigError(
                f"record {domain!r} is not within zone {self.zone} ({self.where})",
                field="domain",
                value=domain,
            )
        return name

    def _sign(self, message: dns.message.Message) -> None:
        if self._keyring is not None:
            message.use_tsig(self._keyring, keyname=self._key, algorithm=self._algorithm)

    async def _send(self, message: dns.message.Message, what: str) -> dns.message.Message:
        """Send over TCP; map every wire failure and error rcode to the domain error tree."""
        if self._address is None:
            self._address = await resolve_host(self._host)
        try:
            response = await dns.asyncquery.tcp(
                message, self._address, timeout=self.timeout, port=self._port
            )
        except dns.tsig.PeerError as exc:
            # The server could not verify our signature: unknown key name (BADKEY), wrong
            # secret or algorithm (BADSIG), clock skew (BADTIME). Retrying cannot help.
            raise DNSAuthError(
                f"TSIG key {self.key_name!r} rejected by {self.server} "
                f"({type(exc).__name__.removeprefix('Peer')}) during the {what} ({self.where})"
            ) from exc
        except (dns.tsig.BadSignature, dns.tsig.BadKey, dns.tsig.BadAlgorithm) as exc:
            raise DNSAuthError(
                f"the answer from {self.server} to the {what} failed TSIG verification with key "
                f"{self.key_name!r} ({self.where})"
            ) from exc
        except dns.message.UnknownTSIGKey as exc:
            raise DNSAuthError(
                f"{self.server} signed its answer to the {what} with an unknown key ({self.where})"
            ) from exc
        except dns.exception.Timeout as exc:
            raise DNSTransientError(
                f"timed out after {self.timeout:g} s waiting for {self.server} during the {what} "
                f"({self.where})"
            ) from exc
        except (OSError, EOFError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise DNSTransientError(
                f"cannot reach {self.server} for the {what}: {reason} ({self.where})"
            ) from exc
        except dns.exception.DNSException as exc:
            raise DNSTransientError(
                f"malformed answer from {self.server} to the {what}: {exc} ({self.where})"
            ) from exc
        self._check_rcode(response, what)
        return response

    def _check_rcode(self, response: dns.message.Message, what: str) -> None:
        rcode = response.rcode()
        if rcode == dns.rcode.NOERROR:
            return
        text = dns.rcode.to_text(rcode)
        said = f"{self.server} answered {text} to the {what} ({self.where})"
        is_update = response.opcode() == dns.opcode.UPDATE
        if response.tsig_error:
            tsig_error = dns.rcode.to_text(dns.rcode.Rcode.make(response.tsig_error))
            raise DNSAuthError(
                f"TSIG key {self.key_name!r} rejected by {self.server} ({tsig_error}) "
                f"during the {what} ({self.where})"
            )
        if rcode == dns.rcode.NXRRSET or (is_update and rcode == dns.rcode.NXDOMAIN):
            # Our prerequisite failed: the record changed between our read and our write.
            raise DNSConflictError(
                f"{said}: the record changed since it was read; nothing was written"
            )
        if rcode == dns.rcode.NXDOMAIN:
            raise DNSNotFoundError(f"{said}: no such name")
        if rcode in (dns.rcode.NOTZONE, dns.rcode.NOTAUTH):
            raise DNSNotFoundError(f"{said}: the server is not authoritative for this zone/name")
        if rcode == dns.rcode.REFUSED:
            if is_update:
                signer = f"key {self.key_name!r}" if self.key_name else "an unsigned update"
                raise DNSAuthError(
                    f"{said}: the update was not allowed (is {signer} allowed by the zone's "
                    "allow-update / update-policy?)"
                )
            raise DNSNotFoundError(f"{said}: does it serve the zone?")
        if rcode == dns.rcode.SERVFAIL:
            raise DNSTransientError(said)
        raise DNSError(said, retryable=False)


def _is_base64(secret: str) -> bool:
    try:
        return bool(base64.b64decode(secret, validate=True))
    except (binascii.Error, ValueError):
        return False


def _keyring(key_name: str, secret: str, algorithm: str) -> dict[dns.name.Name, dns.tsig.Key]:
    """A one-key keyring, checked by signing a throw-away message (bad secret or algorithm)."""
    if not _is_base64(secret):
        raise ConfigError(
            f"rfc2136: the secret for TSIG key {key_name!r} is not valid base64",
            field="dns.rfc2136.tsig_secret_env",
        )
    try:
        keyname = dns.name.from_text(key_name)
        key = dns.tsig.Key(keyname, secret, algorithm)
        keyring = {keyname: key}
        probe = dns.message.make_query("probe.invalid.", "A")
        probe.use_tsig(keyring, keyname=keyname)
        probe.to_wire()
    except (
        dns.exception.DNSException,
        KeyError,
        NotImplementedError,
        ValueError,
        TypeError,
    ) as exc:
        raise ConfigError(
            f"rfc2136: cannot use TSIG key {key_name!r} with algorithm {algorithm!r}: "
            f"{type(exc).__name__}",
            field="dns.rfc2136.tsig_algorithm",
            value=algorithm,
        ) from None
    return keyring

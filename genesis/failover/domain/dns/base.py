"""What every DNS provider does: read a record, and switch it by compare-and-set.

A provider implements two primitives, ``read_record`` and ``_replace``; the switch itself is here,
once, so every provider refuses the same things:

- a record already at the target is left alone (``already_at_target``, no write: a retried
  activity or a second operator finds the work done instead of writing twice);
- a record at neither the "from" nor the "to" value raises ``DNSConflictError`` unless forced:
  someone else moved it, and overwriting could send traffic somewhere nobody intended (octodns'
  ``UnsafePlan`` idea: refuse a change bigger than the one asked for);
- the write replaces the rrset in place, never delete-then-create in two requests: during a
  failover the gap between the two is an outage;
- the write is conditional on the rrset still holding what was read. A server that can check
  that itself does (RFC 2136 prerequisites); for an API that cannot (no ETag, no If-Match:
  Cloudflare, DigitalOcean, Route53's UPSERT) ``ReadCheckWriteProvider`` reads the rrset again
  right before writing and refuses one that moved, so someone else's change is never overwritten
  unless it lands in that one round trip.

Providers behind an HTTP API are split in two (octoDNS's pattern): a thin client that makes the
calls and maps status codes to the typed errors of ``genesis.failover.domain.errors`` in ONE
place, and the provider, which translates between records and the API's objects. Zones are
found from the record's name (``parent_zones``) unless the config names them (``zones``).
"""

from __future__ import annotations

import abc
import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from genesis.failover.domain.addresses import canonical_ip, canonical_ip_or_value
from genesis.failover.domain.errors import ConfigError, DNSConflictError, DNSNotFoundError
from genesis.failover.domain.models import RecordAction, RecordSwitch

__all__ = [
    "DNSProvider",
    "FreshRead",
    "ReadCheckWriteProvider",
    "RecordValues",
    "TtlChange",
    "canonical_values",
    "normalize_value",
    "parent_zones",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordValues:
    """An rrset as the provider holds it: sorted values and the TTL (None if unknown).

    ``proxied`` is True when the provider answers queries for it with its own addresses
    (a proxied Cloudflare record): asking nameservers for the value then proves nothing.
    """

    values: list[str] = field(default_factory=list)
    ttl: int | None = None
    proxied: bool = False


@dataclass(frozen=True)
class FreshRead:
    """An rrset read right before a write the server cannot make conditional: its ``values``
    (canonical, sorted) for ``ReadCheckWriteProvider`` to compare with what the switch read, and
    ``records``, whatever the provider's write needs from that same read (Cloudflare's record
    ids, ...), so the check costs no second round trip."""

    values: list[str]
    records: Any = None


@dataclass(frozen=True)
class TtlChange:
    """What ``set_ttl`` did: the TTL before and after, and whether it wrote."""

    domain: str
    record_type: str
    values: list[str]
    ttl_before: int | None
    ttl_after: int | None
    written: bool


def parent_zones(domain: str) -> list[str]:
    """The zones that could hold ``domain``, longest first, without the trailing dot.

    "api.genesis.example.com." -> ["api.genesis.example.com", "genesis.example.com",
    "example.com"]. A bare TLD is never a candidate: nobody hosts "com" at a DNS provider.
    """
    labels = domain.strip().rstrip(".").lower().split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def normalize_value(record_type: str, value: str, *, what: str = "value") -> str:
    """Canonical text of an A/AAAA value ("2001:DB8:0::1" -> "2001:db8::1"), other types as is.

    Comparing canonical forms is what makes "already at target" true for the same address written
    two ways; refusing a non-address here keeps "1.2.3" from ever reaching a zone.
    """
    rtype = record_type.upper()
    if rtype not in ("A", "AAAA"):
        return value
    try:
        canonical = canonical_ip(value)
    except ValueError:
        raise ConfigError(
            f"{what} {value!r} is not an IP address for a {rtype} record", field=what, value=value
        ) from None
    version = 6 if ":" in canonical else 4  # IPv6 text always holds a colon, IPv4 text never
    if (rtype == "A") != (version == 4):
        raise ConfigError(
            f"{what} {value!r} is an IPv{version} address; a {rtype} record needs "
            f"IPv{4 if rtype == 'A' else 6}",
            field=what,
            value=value,
        )
    return canonical


def canonical_values(record_type: str, values: Iterable[str]) -> list[str]:
    """An rrset's values as a provider or a nameserver holds them, sorted, A/AAAA addresses in
    canonical text. Anything else is kept as it is: not ours to judge when reading, it simply
    will not equal a target."""
    if record_type.upper() not in ("A", "AAAA"):
        return sorted(values)
    return sorted(canonical_ip_or_value(value) for value in values)


class DNSProvider(abc.ABC):
    """A place DNS records live. Errors raised are from ``genesis.failover.domain.errors``."""

    #: Short provider name, written to ``RecordSwitch.provider`` (e.g. "rfc2136").
    name: str = "dns"
    #: TTL to write when the caller gives none and the provider cannot report the current one.
    default_ttl: int = 60

    def __init__(self) -> None:
        #: Zones named in the config for this provider; others are found from the record name.
        self.zones: list[str] = []

    def zone_hint(self, domain: str) -> str | None:
        """The longest configured zone that contains ``domain``, if any."""
        candidates = set(parent_zones(domain))
        known = [z.rstrip(".").lower() for z in self.zones]
        return max((z for z in known if z in candidates), key=len, default=None)

    def zone_candidates(self, domain: str) -> list[str]:
        """The zones to look up for ``domain``, in order: the configured one alone, else every
        parent, longest first."""
        hint = self.zone_hint(domain)
        return [hint] if hint else parent_zones(domain)

    @property
    def where(self) -> str:
        """The provider as error messages name it (e.g. "rfc2136 127.0.0.1:5300 zone x.")."""
        return self.name

    @abc.abstractmethod
    async def read_record(self, domain: str, record_type: str) -> RecordValues:
        """The rrset's sorted values and TTL; ``DNSNotFoundError`` if there is no such rrset."""

    @abc.abstractmethod
    async def _replace(
        self, domain: str, record_type: str, old_values: list[str], new_value: str, ttl: int
    ) -> str | None:
        """Set the rrset to exactly ``[new_value]`` with ``ttl``, in place, only if it still is
        ``old_values``: ``DNSConflictError`` if it changed since it was read, nothing written.

        A server that checks that itself implements this (RFC 2136 prerequisites); a provider
        whose API cannot derives from ``ReadCheckWriteProvider``. Returns the provider's id for
        the change when it has one (Route53), for ``change_is_live``.
        """

    async def change_is_live(self, change_id: str) -> bool:
        """Whether the provider says a change it accepted is served everywhere it answers.

        Route53 says PENDING until every one of its nameservers has the change (INSYNC);
        providers without such a notion apply writes at once and say True.
        """
        return True

    async def aclose(self) -> None:
        """Release connections. The provider must not be used afterwards."""
        return None  # nothing held by default (RFC 2136 opens a connection per message)

    async def switch_record(
        self,
        domain: str,
        record_type: str,
        from_value: str,
        to_value: str,
        *,
        ttl: int | None = None,
        force: bool = False,
        dry_run: bool = False,
    ) -> RecordSwitch:
        """Move ``domain`` from ``from_value`` to ``to_value`` (compare-and-set).

        ``ttl=None`` keeps the record's TTL. ``force`` overwrites a record at some other value
        (it still needs the record to exist). ``dry_run`` reads and decides but never writes;
        it raises the same conflict a real run would.
        """
        rtype = record_type.upper()
        target = normalize_value(rtype, to_value, what="to_value")
        source = normalize_value(rtype, from_value, what="from_value")
        current = await self.read_record(domain, rtype)

        def outcome(
            action: RecordAction,
            after: list[str],
            ttl_after: int | None = current.ttl,
            change_id: str | None = None,
        ) -> RecordSwitch:
            return RecordSwitch(
                domain=domain,
                record_type=rtype,
                provider=self.name,
                before=list(current.values),
                after=list(after),
                target=target,
                action=action,
                ttl_before=current.ttl,
                ttl_after=ttl_after,
                change_id=change_id,
                proxied=current.proxied,
            )

        if current.values == [target]:
            # The TTL is not compared: a record already serving the target is done.
            return outcome("already_at_target", current.values)
        if current.values != [source] and not force:
            raise DNSConflictError(
                f"{domain} {rtype} is at {current.values}, neither the expected from value "
                f"{source!r} nor the target {target!r} ({self.where}); refusing to overwrite "
                "it without force",
                current=list(current.values),
            )
        if ttl is not None:
            new_ttl = ttl
        elif current.ttl is not None:
            new_ttl = current.ttl
        else:
            new_ttl = self.default_ttl
        if dry_run:
            return outcome("would_switch", [target], new_ttl)
        change_id = await self._replace(domain, rtype, current.values, target, new_ttl)
        log.info(
            "%s: switched %s %s from %s to %s (ttl %s%s)",
            self.where,
            domain,
            rtype,
            current.values,
            target,
            new_ttl,
            ", forced" if current.values != [source] else "",
        )
        return outcome("switched", [target], new_ttl, change_id)

    async def set_ttl(
        self,
        domain: str,
        record_type: str,
        ttl: int,
        *,
        expected: list[str],
        dry_run: bool = False,
    ) -> TtlChange:
        """Rewrite the record with the same value and a new TTL (planned failover lowers it
        before the switch and restores it after).

        The record must hold exactly one of the ``expected`` values (compare-and-set, as for a
        switch): a TTL change must never carry someone else's value along. A record whose TTL
        is already ``ttl`` is not written.
        """
        rtype = record_type.upper()
        allowed = [normalize_value(rtype, v, what="expected value") for v in expected]
        current = await self.read_record(domain, rtype)
        if len(current.values) != 1 or current.values[0] not in allowed:
            raise DNSConflictError(
                f"{domain} {rtype} is at {current.values}, none of {allowed} ({self.where}); "
                "refusing to change its TTL",
                current=list(current.values),
            )
        change = TtlChange(
            domain=domain,
            record_type=rtype,
            values=list(current.values),
            ttl_before=current.ttl,
            ttl_after=ttl,
            written=False,
        )
        if current.ttl == ttl or dry_run:
            return change
        await self._replace(domain, rtype, current.values, current.values[0], ttl)
        log.info("%s: %s %s TTL %s -> %s", self.where, domain, rtype, current.ttl, ttl)
        return dataclasses.replace(change, written=True)


class ReadCheckWriteProvider(DNSProvider):
    """A provider whose API has no conditional write: ``_replace`` reads the rrset again right
    before writing (``_read_for_write``) and refuses, here, one that moved since the switch read
    it; only then does the provider write (``_write``)."""

    async def _replace(
        self, domain: str, record_type: str, old_values: list[str], new_value: str, ttl: int
    ) -> str | None:
        fresh = await self._read_for_write(domain, record_type)
        found, expected = sorted(fresh.values), sorted(old_values)
        if found != expected:
            raise DNSConflictError(
                f"{domain} {record_type} changed to {found} since it was read as {expected} "
                f"({self.where}); nothing was written",
                current=found,
            )
        return await self._write(domain, record_type, new_value, ttl, fresh)

    async def _read_for_write(self, domain: str, record_type: str) -> FreshRead:
        """The rrset as the provider holds it now, with what ``_write`` needs from it. By
        default ``read_record``; a record gone since it was read reads as no values (changed)."""
        try:
            current = await self.read_record(domain, record_type)
        except DNSNotFoundError:
            return FreshRead(values=[])
        return FreshRead(values=list(current.values))

    @abc.abstractmethod
    async def _write(
        self, domain: str, record_type: str, new_value: str, ttl: int, fresh: FreshRead
    ) -> str | None:
        """Set the rrset to exactly ``[new_value]`` with ``ttl``, in place; ``fresh`` is the
        read ``_replace`` just checked. Returns the provider's change id, if it has one."""

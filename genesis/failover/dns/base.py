"""What every DNS provider does: read a record, and switch it by compare-and-set.

A provider implements two primitives, ``read_record`` and ``_replace``; the switch itself is here,
once, so every provider refuses the same things:

- a record already at the target is left alone (``already_at_target``, no write: a retried
  activity or a second operator finds the work done instead of writing twice);
- a record at neither the "from" nor the "to" value raises ``DNSConflictError`` unless forced:
  someone else moved it, and overwriting could send traffic somewhere nobody intended (octodns'
  ``UnsafePlan`` idea: refuse a change bigger than the one asked for);
- the write replaces the rrset in place, never delete-then-create in two requests: during a
  failover the gap between the two is an outage.
"""

from __future__ import annotations

import abc
import ipaddress
import logging
from dataclasses import dataclass, field

from genesis.failover.errors import ConfigError, DNSConflictError
from genesis.failover.models import RecordAction, RecordSwitch

__all__ = ["DNSProvider", "RecordValues", "normalize_value"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordValues:
    """An rrset as the provider holds it: sorted values and the TTL (None if unknown)."""

    values: list[str] = field(default_factory=list)
    ttl: int | None = None


def normalize_value(record_type: str, value: str, *, what: str = "value") -> str:
    """Canonical text of an A/AAAA value ("2001:DB8:0::1" -> "2001:db8::1"), other types as is.

    Comparing canonical forms is what makes "already at target" true for the same address written
    two ways; refusing a non-address here keeps "1.2.3" from ever reaching a zone.
    """
    rtype = record_type.upper()
    if rtype not in ("A", "AAAA"):
        return value
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        raise ConfigError(
            f"{what} {value!r} is not an IP address for a {rtype} record", field=what, value=value
        ) from None
    if (rtype == "A") != (ip.version == 4):
        raise ConfigError(
            f"{what} {value!r} is an IPv{ip.version} address; a {rtype} record needs "
            f"IPv{4 if rtype == 'A' else 6}",
            field=what,
            value=value,
        )
    return str(ip)


class DNSProvider(abc.ABC):
    """A place DNS records live. Errors raised are from ``genesis.failover.errors``."""

    #: Short provider name, written to ``RecordSwitch.provider`` (e.g. "rfc2136").
    name: str = "dns"
    #: TTL to write when the caller gives none and the provider cannot report the current one.
    default_ttl: int = 60

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
    ) -> None:
        """Set the rrset to exactly ``[new_value]`` in one request.

        Conditioned on it still being ``old_values`` where the provider can (RFC 2136
        prerequisites, etc.): ``DNSConflictError`` if it changed since it was read.
        """

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

        def outcome(action: RecordAction, after: list[str]) -> RecordSwitch:
            return RecordSwitch(
                domain=domain,
                record_type=rtype,
                provider=self.name,
                before=list(current.values),
                after=list(after),
                target=target,
                action=action,
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
        if dry_run:
            return outcome("would_switch", [target])
        if ttl is not None:
            new_ttl = ttl
        elif current.ttl is not None:
            new_ttl = current.ttl
        else:
            new_ttl = self.default_ttl
        await self._replace(domain, rtype, current.values, target, new_ttl)
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
        return outcome("switched", [target])

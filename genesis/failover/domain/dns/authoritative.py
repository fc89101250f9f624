"""Which nameservers to ask: the authoritative ones of the zone holding a record.

When ``[propagation] nameservers`` is empty, a change is verified where it matters first: on
every server in the zone's NS rrset (Cloudflare's, AWS's, your BIND secondaries). They are found
through a resolver (the system's, or ``[propagation] resolver``), then each is asked directly.
"""

from __future__ import annotations

import dns.asyncresolver
import dns.exception
import dns.name
import dns.rdatatype

from genesis.failover.domain.dns.query import resolve_host, split_host_port
from genesis.failover.domain.errors import ConfigError, DNSTransientError

__all__ = ["authoritative_nameservers"]


async def _resolver(resolver: str | None, lifetime: float) -> dns.asyncresolver.Resolver:
    if resolver is None:
        res = dns.asyncresolver.Resolver()  # /etc/resolv.conf
    else:
        host, port = split_host_port(resolver)
        res = dns.asyncresolver.Resolver(configure=False)
        res.nameservers = [await resolve_host(host)]
        res.port = port
    res.lifetime = lifetime
    return res


async def authoritative_nameservers(
    domain: str,
    *,
    resolver: str | None = None,
    port: int = 53,
    timeout: float = 5.0,  # noqa: ASYNC109 - a lookup budget handed to dnspython
) -> list[str]:
    """Addresses of the zone's nameservers, as ``verify_dns_propagation`` takes them: "ip" on
    port 53, else "ip:port" ("[ip6]:port"). One address per nameserver, IPv4 preferred.

    ``DNSTransientError`` when the zone or its NS rrset cannot be found: the resolver may be
    down, and nothing was verified, so the caller must not count this as propagated.
    """
    try:
        name = dns.name.from_text(domain)
    except dns.exception.DNSException as exc:
        raise ConfigError(f"bad domain name {domain!r}: {exc}", field="domain") from exc
    via = resolver or "the system resolver"
    res = await _resolver(resolver, timeout)
    try:
        zone = await dns.asyncresolver.zone_for_name(name, resolver=res)
        ns_answer = await res.resolve(zone, dns.rdatatype.NS)
    except (dns.exception.DNSException, OSError) as exc:
        raise DNSTransientError(
            f"cannot find the authoritative nameservers of {domain} via {via}: {type(exc).__name__}"
        ) from exc
    targets = sorted({rd.target for rd in ns_answer})  # type: ignore[attr-defined]
    addresses: list[str] = []
    for target in targets:
        address = await _address_of(res, target)
        if address is None:
            continue
        if port == 53:
            addresses.append(address)
        else:
            addresses.append(f"[{address}]:{port}" if ":" in address else f"{address}:{port}")
    if not addresses:
        raise DNSTransientError(
            f"zone {zone} of {domain} has nameservers {[t.to_text() for t in targets]} but "
            f"none has an address via {via}"
        )
    return addresses


async def _address_of(res: dns.asyncresolver.Resolver, target: dns.name.Name) -> str | None:
    for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        try:
            answer = await res.resolve(target, rdtype)
        except (dns.exception.DNSException, OSError):
            continue
        return str(min(rd.to_text() for rd in answer))
    return None

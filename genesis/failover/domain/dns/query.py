"""Ask one nameserver directly what it answers for a name: never through the system resolver
(which would answer from its cache).

UDP loses packets: one lost answer is retried, not counted as "not propagated" (three tries of
``timeout/3`` on one socket, so a late answer to the first try still counts), and a truncated
answer is asked again over TCP. Every failure leaves as ``DNSTransientError`` naming the
nameserver and what it did, so a caller can say why a nameserver has not confirmed a change.
"""

from __future__ import annotations

import asyncio
import socket

import dns.asyncbackend
import dns.asyncquery
import dns.exception
import dns.flags
import dns.inet
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from genesis.failover.domain import addresses
from genesis.failover.domain.addresses import canonical_ip
from genesis.failover.domain.errors import ConfigError, DNSError, DNSTransientError

__all__ = ["absolute_name", "query_nameserver", "resolve_host", "split_host_port"]

_UDP_TRIES = 3


def split_host_port(server: str, default_port: int = 53) -> tuple[str, int]:
    """ "host", "host:port", "1.2.3.4", "::1", "[::1]" or "[::1]:5300" -> (host, port)."""
    try:
        return addresses.split_host_port(server.strip(), default_port)
    except ValueError:
        raise ConfigError(
            f"bad server address {server!r} (want host, host:port or [ipv6]:port)",
            field="server",
            value=server,
        ) from None


async def resolve_host(host: str) -> str:
    """An IP address for ``host``: itself if it is one, else the system resolver's first answer."""
    try:
        return canonical_ip(host)
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except OSError as exc:
        raise DNSTransientError(f"cannot resolve nameserver host {host!r}: {exc}") from exc
    if not infos:
        raise DNSTransientError(f"cannot resolve nameserver host {host!r}: no address")
    return str(infos[0][4][0])


def absolute_name(domain: str) -> dns.name.Name:
    """``domain`` as an absolute DNS name; ``ConfigError`` for a malformed one."""
    try:
        return dns.name.from_text(domain)
    except dns.exception.DNSException as exc:
        raise ConfigError(
            f"bad domain name {domain!r}: {exc}", field="domain", value=domain
        ) from exc


async def _exchange(
    q: dns.message.Message,
    address: str,
    port: int,
    nameserver: str,
    timeout: float,  # noqa: ASYNC109 - a budget split over UDP tries, not a cancel scope
) -> dns.message.Message:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    af = dns.inet.af_for_address(address)
    backend = dns.asyncbackend.get_default_backend()
    # One connected socket for every try: a late answer to try 1 is accepted during try 2 (same
    # query id), and an ICMP "port unreachable" fails fast instead of waiting out the timeout.
    sock = await backend.make_socket(af, socket.SOCK_DGRAM, 0, None, (address, port))
    try:
        for _attempt in range(_UDP_TRIES):
            try:
                response = await dns.asyncquery.udp(
                    q,
                    address,
                    timeout=timeout / _UDP_TRIES,
                    port=port,
                    sock=sock,
                    ignore_unexpected=True,
                )
                break
            except dns.exception.Timeout:
                continue
        else:
            raise DNSTransientError(
                f"no answer from nameserver {nameserver} after {_UDP_TRIES} tries in {timeout:g} s"
            )
    finally:
        await sock.close()
    if response.flags & dns.flags.TC:
        remaining = max(deadline - loop.time(), timeout / _UDP_TRIES)
        response = await dns.asyncquery.tcp(q, address, timeout=remaining, port=port)
    return response


async def query_nameserver(
    nameserver: str,
    domain: str,
    record_type: str = "A",
    *,
    timeout: float = 2.0,  # noqa: ASYNC109 - per-query budget, part of the public contract
) -> list[str]:
    """The sorted values ``nameserver`` answers for domain/type; [] for NXDOMAIN or no data.

    Raises ``DNSTransientError`` when the nameserver does not answer or answers SERVFAIL,
    REFUSED, ...; ``ConfigError`` for a malformed nameserver address or domain.
    """
    host, port = split_host_port(nameserver)
    qname = absolute_name(domain)
    rdtype = dns.rdatatype.from_text(record_type)
    address = await resolve_host(host)
    # RD stays set: the configured nameservers are often public resolvers (8.8.8.8) that need
    # it; authoritative servers ignore it.
    q = dns.message.make_query(qname, rdtype)
    try:
        response = await _exchange(q, address, port, nameserver, timeout)
    except DNSError:
        raise
    except dns.exception.Timeout as exc:
        raise DNSTransientError(f"nameserver {nameserver} timed out over TCP") from exc
    except ConnectionRefusedError as exc:  # ICMP "port unreachable": nothing listens there
        raise DNSTransientError(
            f"nameserver {nameserver} refused the query (nothing listens on port {port})"
        ) from exc
    except (OSError, EOFError, dns.exception.DNSException) as exc:
        raise DNSTransientError(f"nameserver {nameserver} failed: {exc!r}") from exc
    rcode = response.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        return []
    if rcode != dns.rcode.NOERROR:
        raise DNSTransientError(
            f"nameserver {nameserver} answered {dns.rcode.to_text(rcode)} for {qname} {record_type}"
        )
    if not isinstance(response, dns.message.QueryMessage):
        raise DNSTransientError(f"nameserver {nameserver}: not a query response for {qname}")
    try:
        answer = response.resolve_chaining().answer  # follows a CNAME to the address
    except dns.exception.DNSException as exc:
        raise DNSTransientError(f"nameserver {nameserver}: bad answer for {qname}: {exc}") from exc
    return sorted(rd.to_text() for rd in answer) if answer is not None else []

"""Has the change reached the nameservers? Ask each one directly.

Each nameserver is asked over UDP on its own, never through the system resolver (which would
answer from its cache). UDP loses packets: one lost answer is retried, not counted as "not
propagated" (three tries of ``timeout/3`` on one socket, so a late answer to the first try still
counts), and a truncated answer is asked again over TCP. A nameserver that errors is ``False``
in the map: one dead resolver must not fail the whole verification.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Sequence

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
from genesis.failover.domain.errors import ConfigError, DNSError, DNSTransientError

__all__ = [
    "check_propagation",
    "query_nameserver",
    "resolve_host",
    "split_host_port",
    "verify_dns_propagation",
    "wait_for_propagation",
]

log = logging.getLogger(__name__)

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
        return str(ipaddress.ip_address(host))
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


def _absolute_name(domain: str) -> dns.name.Name:
    try:
        return dns.name.from_text(domain)
    except dns.exception.DNSException as exc:
        raise ConfigError(
            f"bad domain name {domain!r}: {exc}", field="domain", value=domain
        ) from exc


def _normalized(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return value


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
    qname = _absolute_name(domain)
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


async def check_propagation(
    domain: str,
    expected_ip: str,
    nameservers: Sequence[str],
    record_type: str = "A",
    *,
    timeout: float = 2.0,  # noqa: ASYNC109 - per-nameserver budget; one slow server stays False
) -> dict[str, str | None]:
    """``{nameserver: None}`` for each nameserver answering exactly ``[expected_ip]``, else why
    not, naming it: "nameserver 10.0.0.53 answers 192.0.2.10 for www.example.com A" (still the
    old address), "no answer from nameserver 10.0.0.53 after 3 tries in 2 s" (down, or its
    datagrams dropped), "nameserver ... answered SERVFAIL ...". Every nameserver is asked
    concurrently; a failover that ends unconfirmed can then tell the operator which nameserver
    held it back and what it said, not only that one did."""
    _absolute_name(domain)  # a bad domain is the caller's error, not one nameserver's
    expected = [_normalized(expected_ip)]
    answers = await asyncio.gather(
        *(query_nameserver(ns, domain, record_type, timeout=timeout) for ns in nameservers),
        return_exceptions=True,
    )
    result: dict[str, str | None] = {}
    for ns, answer in zip(nameservers, answers, strict=True):
        if isinstance(answer, BaseException):
            log.info("propagation check of %s at %s failed: %s", domain, ns, answer)
            result[ns] = str(answer) or f"nameserver {ns}: {type(answer).__name__}"
        elif answer == expected:
            result[ns] = None
        else:
            said = ", ".join(answer) if answer else "no such record"
            result[ns] = f"nameserver {ns} answers {said} for {domain} {record_type}"
    return result


async def verify_dns_propagation(
    domain: str,
    expected_ip: str,
    nameservers: Sequence[str],
    record_type: str = "A",
    *,
    timeout: float = 2.0,  # noqa: ASYNC109 - per-nameserver budget; one slow server stays False
) -> dict[str, bool]:
    """``{nameserver: answers exactly [expected_ip]}``, every nameserver asked concurrently
    (``check_propagation`` says why a nameserver is False)."""
    why_not = await check_propagation(
        domain, expected_ip, nameservers, record_type, timeout=timeout
    )
    return {ns: why is None for ns, why in why_not.items()}


async def wait_for_propagation(
    domain: str,
    expected_ip: str,
    nameservers: Sequence[str],
    *,
    deadline_seconds: float,
    poll_interval: float = 0.2,
    record_type: str = "A",
    query_timeout: float = 2.0,
) -> dict[str, bool]:
    """Poll until every nameserver answers ``[expected_ip]`` or the deadline passes.

    Returns the last map. A nameserver that has answered the new value is not asked again: an
    authoritative secondary never goes back, and a resolver serves the new value from its cache.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_seconds
    status = dict.fromkeys(nameservers, False)
    while True:
        pending = [ns for ns, ok in status.items() if not ok]
        if not pending:
            return status
        remaining = deadline - loop.time()
        status.update(
            await verify_dns_propagation(
                domain,
                expected_ip,
                pending,
                record_type,
                timeout=min(query_timeout, max(remaining, 0.2)),
            )
        )
        remaining = deadline - loop.time()
        if all(status.values()) or remaining <= 0:
            return status
        await asyncio.sleep(min(poll_interval, remaining))

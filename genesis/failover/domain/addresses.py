"""Addresses as operators and providers write them: IP addresses in any of their spellings, and
servers as "host", "host:port", "::1", "[::1]", "[::1]:53".

One parser for the config (checked at load time), the DNS code and the local lab, so an address
the config accepts is read the same way everywhere, and one canonical text of an IP address, so
"2001:DB8:0::1" in a config and "2001:db8::1" in a zone are the same record value. Plain
functions, ValueError on bad input.
"""

from __future__ import annotations

import ipaddress
import re

_HOST_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_PORT = re.compile(r"[0-9]{1,5}")


def canonical_ip(value: str) -> str:
    """The canonical text of an IP address: " 2001:DB8:0::1" -> "2001:db8::1", "192.0.2.1" as is.

    Comparing canonical texts is what makes one address written two ways equal (a record already
    at its target is not written again). ValueError if ``value`` is not an IPv4 or IPv6 address.
    """
    return str(ipaddress.ip_address(value.strip()))


def canonical_ip_or_value(value: str) -> str:
    """``canonical_ip(value)``, or ``value`` as it is when it is no IP address: for values read
    back from a zone or a nameserver, where something else simply will not equal an address."""
    try:
        return canonical_ip(value)
    except ValueError:
        return value


def _is_host(host: str) -> bool:
    """A hostname or an IPv4 address (what may stand before ":port")."""
    try:
        return ipaddress.ip_address(host).version == 4
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        return False
    # All-numeric labels that are not a valid IPv4 address ("1.2.3.999") are a typo, not a name.
    return not all(label.isdigit() for label in labels)


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False


def split_host_port(text: str, default_port: int = 53) -> tuple[str, int]:
    """(host, port) of "host", "host:port", a bare IPv6 address, "[IPv6]" or "[IPv6]:port".

    Raises ValueError for anything else, or a port outside 1-65535.
    """
    port: str | None = None
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        ok = bool(sep) and _is_ipv6(host) and (not rest or rest.startswith(":"))
        port = rest[1:] if rest else None
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
        ok = _is_host(host)
    elif ":" in text:
        host, ok = text, _is_ipv6(text)  # bare IPv6 on the default port
    else:
        host, ok = text, _is_host(text)
    if ok and port is not None:
        ok = bool(_PORT.fullmatch(port)) and 0 < int(port) < 65536
    if not ok:
        raise ValueError("must be host, host:port, IPv6 or [IPv6]:port with port 1-65535")
    return host, int(port) if port is not None else default_port

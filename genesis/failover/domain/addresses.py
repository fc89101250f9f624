"""Server addresses as operators write them: "host", "host:port", "::1", "[::1]", "[::1]:53".

One parser for the config (checked at load time), the DNS code and the local lab, so an address
the config accepts is read the same way everywhere. Plain functions, ValueError on bad input.
"""

from __future__ import annotations

import ipaddress
import re

_HOST_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_PORT = re.compile(r"[0-9]{1,5}")


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

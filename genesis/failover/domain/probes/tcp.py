"""TCP probe: can a connection to host:port be opened? It is closed again at once.

Each resolved address is tried in turn (as ``asyncio.open_connection`` does), but by hand so that
"every address refused" reads as "connection refused" rather than a merged multi-error string.
"""

from __future__ import annotations

import asyncio
import socket

from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.models import ProbeResult
from genesis.failover.domain.probes._result import Stopwatch, describe_error, run_bounded


def split_host_port(target: str) -> tuple[str, int]:
    """``host:port``, ``1.2.3.4:80`` or ``[::1]:80`` -> (host, port)."""
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"tcp target must be host:port, got {target!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


async def probe_tcp(check: CheckConfig, *, origin: str = "") -> ProbeResult:
    async def body(_clock: Stopwatch) -> str | None:
        host, port = split_host_port(check.target)
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        errors: list[OSError] = []
        for family, type_, proto, _name, address in infos:
            sock = socket.socket(family, type_, proto)
            try:
                sock.setblocking(False)
                await loop.sock_connect(sock, address)
                return None
            except OSError as exc:
                errors.append(exc)
            finally:
                sock.close()
        if errors and all(isinstance(e, ConnectionRefusedError) for e in errors):
            return "connection refused"
        if errors:
            return describe_error(errors[-1])
        return f"no address found for {host}"

    return await run_bounded(check, body, origin=origin)

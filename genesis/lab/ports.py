"""Free loopback ports for labs and tests.

A DNS server listens on UDP *and* TCP with the same number, so a port is only "free" here when
both protocols could bind it. Another process on this machine may hold well-known ports (5300,
7233, ...): labs and tests always take a port from here instead of hard-coding one.
"""

from __future__ import annotations

import socket

__all__ = ["free_port", "port_is_free"]

# Ports this process has already handed out: a lab asks for several ports before any server
# binds them, and the kernel may offer a just-released port again.
_handed_out: set[int] = set()


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nothing listens on TCP ``port`` (bound with SO_REUSEADDR, as a server binds: a closed
    connection left in TIME_WAIT does not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1", *, attempts: int = 50) -> int:
    """A port number that is free on ``host`` for both UDP and TCP right now.

    The kernel picks a free UDP port; we keep it only if TCP can bind the same number too.
    (There is an unavoidable window between returning and the caller binding it.)
    """
    for _ in range(attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port: int = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if port in _handed_out:
                    continue
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
                _handed_out.add(port)
                return port
    raise OSError(f"no port free for both UDP and TCP on {host} after {attempts} attempts")

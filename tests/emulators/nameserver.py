"""A tiny nameserver on loopback speaking the real DNS wire format, answering what the test says.

``answering(ip)`` makes an answer; a test swaps ``FakeNameserver.answer`` to play a nameserver
that lags behind a change (answers the old address) and then catches up, or never does.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import dns.flags
import dns.message
import dns.rcode
import dns.rrset

from genesis.lab import free_port

# (query number, query) -> response, or None to drop the query (a lost datagram).
Answer = Callable[[int, dns.message.Message], dns.message.Message | None]


def answering(
    *values: str, drop_first: int = 0, rcode: int = dns.rcode.NOERROR, truncate: bool = False
) -> Answer:
    def answer(n: int, q: dns.message.Message) -> dns.message.Message | None:
        if n <= drop_first:
            return None
        r = dns.message.make_response(q)
        r.set_rcode(dns.rcode.Rcode.make(rcode))
        if truncate:
            r.flags |= dns.flags.TC
        elif values:
            qname = q.question[0].name
            r.answer.append(dns.rrset.from_text(qname, 60, "IN", "A", *values))
        return r

    return answer


class FakeNameserver(asyncio.DatagramProtocol):
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.queries = 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queries += 1
        response = self.answer(self.queries, dns.message.from_wire(data))
        if response is not None and self.transport is not None:
            self.transport.sendto(response.to_wire(), addr)


@asynccontextmanager
async def fake_nameserver(
    answer: Answer, host: str = "127.0.0.1", tcp_answer: Answer | None = None
) -> AsyncIterator[tuple[str, FakeNameserver]]:
    """A UDP nameserver on a free port (and a TCP one on the same port if tcp_answer)."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    port = free_port() if family == socket.AF_INET else 0
    transport, proto = await loop.create_datagram_endpoint(
        lambda: FakeNameserver(answer), local_addr=(host, port), family=family
    )
    port = transport.get_extra_info("sockname")[1]
    server = None
    if tcp_answer is not None:

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            size = int.from_bytes(await reader.readexactly(2), "big")
            response = tcp_answer(1, dns.message.from_wire(await reader.readexactly(size)))
            assert response is not None
            wire = response.to_wire()
            writer.write(len(wire).to_bytes(2, "big") + wire)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, host, port)
    address = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
    try:
        yield address, proto
    finally:
        transport.close()
        if server is not None:
            server.close()
            await server.wait_closed()

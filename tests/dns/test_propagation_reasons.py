"""Why a nameserver has not confirmed a change, in words naming it: what an operator reads when
a failover ends unconfirmed at its deadline (loopback nameservers speaking the DNS wire format)."""

from __future__ import annotations

import dns.rcode

from genesis.failover.domain.dns import check_propagation, verify_dns_propagation
from genesis.lab import free_port
from tests.emulators.nameserver import answering, fake_nameserver

NAME = "www.example.test"
NEW, OLD = "198.51.100.10", "192.0.2.10"


async def test_each_unconfirmed_nameserver_is_named_with_what_it_said_instead() -> None:
    closed = f"127.0.0.1:{free_port()}"
    async with (
        fake_nameserver(answering(NEW)) as (good, _),
        fake_nameserver(answering(OLD)) as (stale, _),
        fake_nameserver(answering(NEW, drop_first=99)) as (silent, _),
        fake_nameserver(answering(rcode=dns.rcode.NXDOMAIN)) as (empty, _),
        fake_nameserver(answering(rcode=dns.rcode.SERVFAIL)) as (failing, _),
    ):
        nameservers = [good, stale, silent, closed, empty, failing]
        why = await check_propagation(NAME, NEW, nameservers, timeout=0.3)
        same = await verify_dns_propagation(NAME, NEW, nameservers, timeout=0.3)
    assert why[good] is None
    assert why[stale] == f"nameserver {stale} answers {OLD} for {NAME} A"
    assert why[silent] == f"no answer from nameserver {silent} after 3 tries in 0.3 s"
    assert why[empty] == f"nameserver {empty} answers no such record for {NAME} A"
    assert why[failing] is not None and failing in why[failing] and "SERVFAIL" in why[failing]
    port = closed.rsplit(":", 1)[1]
    assert why[closed] == f"nameserver {closed} refused the query (nothing listens on port {port})"
    # The yes/no map is the same question, answered the same way.
    assert same == {ns: why[ns] is None for ns in nameservers}

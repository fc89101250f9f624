"""Propagation checks against tiny loopback nameservers speaking the real DNS wire format."""

from __future__ import annotations

import time

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rrset
import dns.tsigkeyring
import dns.update
import pytest

from genesis.failover.domain.dns import (
    query_nameserver,
    verify_dns_propagation,
    wait_for_propagation,
)
from genesis.failover.domain.dns.authoritative import authoritative_nameservers
from genesis.failover.domain.errors import DNSTransientError
from genesis.lab import Bind9Lab, free_port
from tests.dns.conftest import ZONE
from tests.emulators.nameserver import answering, fake_nameserver
from tests.support import unavailable

NAME = "www.example.test"
IP, OLD_IP = "198.51.100.10", "192.0.2.10"


async def test_one_lost_udp_answer_is_retried_not_counted() -> None:
    async with fake_nameserver(answering(IP, drop_first=1)) as (ns, fake):
        assert await verify_dns_propagation(NAME, IP, [ns], timeout=0.6) == {ns: True}
    assert fake.queries == 2


async def test_every_answer_lost_is_false_after_three_tries() -> None:
    async with fake_nameserver(answering(IP, drop_first=99)) as (ns, fake):
        with pytest.raises(DNSTransientError, match="3 tries"):
            await query_nameserver(ns, NAME, timeout=0.3)
        assert await verify_dns_propagation(NAME, IP, [ns], timeout=0.3) == {ns: False}
    assert fake.queries == 6


async def test_closed_port_is_false_without_raising() -> None:
    ns = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    assert await verify_dns_propagation(NAME, IP, [ns], timeout=1.0) == {ns: False}
    assert time.monotonic() - started < 0.9  # ICMP "port unreachable" fails fast


async def test_mixed_nameservers() -> None:
    closed = f"127.0.0.1:{free_port()}"
    async with (
        fake_nameserver(answering(IP)) as (good, _),
        fake_nameserver(answering(OLD_IP)) as (stale, _),
        fake_nameserver(answering(IP, OLD_IP)) as (both, _),
        fake_nameserver(answering(rcode=dns.rcode.SERVFAIL)) as (failing, _),
        fake_nameserver(answering(rcode=dns.rcode.NXDOMAIN)) as (nxdomain, _),
    ):
        nameservers = [good, closed, stale, both, failing, nxdomain]
        result = await verify_dns_propagation(NAME, IP, nameservers, timeout=0.5)
    assert result == {
        good: True,
        closed: False,
        stale: False,
        both: False,  # several values: not "exactly the expected IP"
        failing: False,
        nxdomain: False,
    }


async def test_query_nameserver_answers() -> None:
    async with (
        fake_nameserver(answering("192.0.2.2", "192.0.2.1")) as (two, _),
        fake_nameserver(answering(rcode=dns.rcode.NXDOMAIN)) as (nxdomain, _),
        fake_nameserver(answering()) as (nodata, _),
        fake_nameserver(answering(rcode=dns.rcode.REFUSED)) as (refused, _),
    ):
        assert await query_nameserver(two, NAME) == ["192.0.2.1", "192.0.2.2"]
        assert await query_nameserver(nxdomain, NAME) == []
        assert await query_nameserver(nodata, NAME) == []
        with pytest.raises(DNSTransientError, match="REFUSED"):
            await query_nameserver(refused, NAME)


async def test_truncated_udp_answer_is_asked_again_over_tcp() -> None:
    async with fake_nameserver(answering(truncate=True), tcp_answer=answering(IP)) as (ns, _):
        assert await query_nameserver(ns, NAME, timeout=1.0) == [IP]


async def test_hostname_and_ipv6_nameservers() -> None:
    async with fake_nameserver(answering(IP)) as (ns, _):
        port = ns.rsplit(":", 1)[1]
        assert await query_nameserver(f"localhost:{port}", NAME) == [IP]
    try:
        async with fake_nameserver(answering(IP), host="::1") as (ns6, _):
            assert ns6.startswith("[::1]:")
            assert await verify_dns_propagation(NAME, IP, [ns6]) == {ns6: True}
    except OSError:
        unavailable("no IPv6 loopback here")


async def test_wait_for_propagation_gives_up_at_the_deadline() -> None:
    async with fake_nameserver(answering(OLD_IP)) as (stale, fake):
        started = time.monotonic()
        result = await wait_for_propagation(
            NAME, IP, [stale], deadline_seconds=0.5, poll_interval=0.1, query_timeout=0.3
        )
        elapsed = time.monotonic() - started
    assert result == {stale: False}
    assert 0.5 <= elapsed < 1.0
    assert fake.queries >= 3  # it kept polling


async def test_wait_for_propagation_polls_until_every_server_has_it() -> None:
    def later(n: int, q: dns.message.Message) -> dns.message.Message | None:
        return answering(IP if n >= 3 else OLD_IP)(n, q)

    async with (
        fake_nameserver(answering(IP)) as (fast, fast_fake),
        fake_nameserver(later) as (slow, _),
    ):
        result = await wait_for_propagation(
            NAME, IP, [fast, slow], deadline_seconds=5, poll_interval=0.02
        )
    assert result == {fast: True, slow: True}
    assert fast_fake.queries == 1  # once it had the value, it was not asked again


async def test_no_nameservers_is_trivially_propagated() -> None:
    assert await wait_for_propagation(NAME, IP, [], deadline_seconds=1) == {}


@pytest.mark.integration
async def test_secondaries_have_a_change_within_milliseconds(bind9_lab: Bind9Lab) -> None:
    bind9_lab.set_record("www", IP)
    started = time.monotonic()
    result = await wait_for_propagation(
        NAME, IP, bind9_lab.servers, deadline_seconds=5, poll_interval=0.005
    )
    elapsed = time.monotonic() - started
    assert result == dict.fromkeys(bind9_lab.servers, True)
    assert elapsed < 1.0, f"secondaries took {elapsed:.3f} s (notify tuning lost?)"


# --- the zone's authoritative nameservers (an empty [propagation] nameservers list) --------------


def add_nameserver(lab: Bind9Lab, host: str, address: str) -> None:
    """One more NS (with glue) in the lab's zone, as a TSIG-signed update."""
    zone = dns.name.from_text(ZONE)
    update = dns.update.UpdateMessage(
        zone,
        keyring=dns.tsigkeyring.from_text({lab.tsig_key_name: lab.tsig_secret}),
        keyname=dns.name.from_text(lab.tsig_key_name),
        keyalgorithm=lab.tsig_algorithm,
    )
    update.add(zone, 300, "NS", f"{host}.{ZONE}")
    update.add(dns.name.from_text(host, origin=zone), 300, "A", address)
    response = dns.query.tcp(update, "127.0.0.1", port=lab.primary_port, timeout=2)
    assert response.rcode() == dns.rcode.NOERROR


async def test_the_zone_nameservers_are_found_through_its_ns_records(bind9_lab: Bind9Lab) -> None:
    found = await authoritative_nameservers(
        "www.example.test", resolver=bind9_lab.primary, port=bind9_lab.primary_port
    )
    assert found == [bind9_lab.primary]  # ns1.example.test. A 127.0.0.1, on the lab's port
    on_53 = await authoritative_nameservers("www.example.test", resolver=bind9_lab.primary)
    assert on_53 == ["127.0.0.1"]  # the usual port is not written out


async def test_every_zone_nameserver_is_asked_and_a_dead_one_is_named(
    bind9_lab: Bind9Lab,
) -> None:
    add_nameserver(bind9_lab, "ns2", "127.0.0.9")  # listed in the zone, nothing listens there
    found = await authoritative_nameservers(
        "www.example.test", resolver=bind9_lab.primary, port=bind9_lab.primary_port
    )
    dead = f"127.0.0.9:{bind9_lab.primary_port}"
    assert sorted(found) == sorted([bind9_lab.primary, dead])
    answers = await verify_dns_propagation("www.example.test", "192.0.2.10", found, timeout=0.5)
    assert answers == {bind9_lab.primary: True, dead: False}


async def test_no_answer_from_the_resolver_is_a_transient_error_naming_the_domain() -> None:
    silent = f"127.0.0.1:{free_port()}"
    with pytest.raises(DNSTransientError, match=rf"www\.example\.test via {silent}"):
        await authoritative_nameservers("www.example.test", resolver=silent, timeout=0.5)

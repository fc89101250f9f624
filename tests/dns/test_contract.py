"""The provider contract: every DNS provider passes the same tests on its own server.

RFC 2136 runs on a real BIND9, Route53 on moto's server, Cloudflare and DigitalOcean on the
loopback emulators that speak their documented wire format. What a test seeds and reads back
goes around the provider (``harness.seed``/``current``), so a provider cannot pass by agreeing
with itself; ``harness.writes()`` counts what the server accepted.
"""

from __future__ import annotations

import logging

import pytest

from genesis.failover.domain.dns import DNSProvider
from genesis.failover.domain.errors import DNSAuthError, DNSConflictError, DNSNotFoundError
from tests.dns.harness import ProviderHarness

pytestmark = pytest.mark.integration

OLD, NEW, OTHER = "192.0.2.10", "198.51.100.10", "203.0.113.77"
WWW = "www.example.test"


@pytest.fixture
async def provider(harness: ProviderHarness) -> DNSProvider:
    return harness.provider()


async def test_read_returns_the_values_and_ttl_the_server_holds(
    harness: ProviderHarness, provider: DNSProvider
) -> None:
    await harness.seed("multi.example.test", "A", ["192.0.2.31", "192.0.2.30"], ttl=600)
    got = await provider.read_record("multi.example.test", "A")
    assert (got.values, got.ttl) == (["192.0.2.30", "192.0.2.31"], 600)
    assert harness.writes() == 0


async def test_switch_moves_the_record_and_keeps_its_ttl(
    harness: ProviderHarness, provider: DNSProvider
) -> None:
    await harness.seed(WWW, "A", [OLD], ttl=600)
    result = await provider.switch_record(WWW, "A", OLD, NEW)
    assert (result.action, result.before, result.after, result.provider) == (
        "switched",
        [OLD],
        [NEW],
        harness.name,
    )
    current = await harness.current(WWW, "A")
    assert current is not None and (current.values, current.ttl) == ([NEW], 600)
    assert harness.writes() == 1


async def test_switch_with_a_ttl_writes_that_ttl(
    harness: ProviderHarness, provider: DNSProvider
) -> None:
    await harness.seed(WWW, "A", [OLD], ttl=600)
    result = await provider.switch_record(WWW, "A", OLD, NEW, ttl=120)
    assert (result.ttl_before, result.ttl_after) == (600, 120)
    current = await harness.current(WWW, "A")
    assert current is not None and (current.values, current.ttl) == ([NEW], 120)


async def test_a_record_already_at_the_target_is_not_written_again(
    harness: ProviderHarness, provider: DNSProvider
) -> None:
    await harness.seed(WWW, "A", [OLD])
    await provider.switch_record(WWW, "A", OLD, NEW)
    again = await provider.switch_record(WWW, "A", OLD, NEW)  # a retried activity, a 2nd run
    assert again.action == "already_at_target" and again.at_target
    assert harness.writes() == 1


async def test_a_record_at_a_third_value_is_refused_and_left_alone(
    harness: ProviderHarness, provider: DNSProvider
) -> None:
    await harness.seed(WWW, "A", [OTHER])
    with pytest.raises(DNSConflictError) as caught:
        await provider.switch_record(WWW, "A", OLD, NEW)
    assert caught.value.current == [OTHER] and not caught.value.retryable
    assert WWW in str(caught.value) and harness.name in str(caught.value)
    current = await harness.current(WWW, "A")
    assert current is not None and current.values == [OTHER]
    assert harness.writes() == 0


async def test_a_record_that_moved_between_the_read_and_the_write_is_not_overwritten(
    harness: ProviderHarness, provider: DNSProvider
) -> None:
    # The write primitive, handed the values a switch read before someone else moved the record:
    # RFC 2136 has the server check them (prerequisites), the others read again and compare.
    await harness.seed(WWW, "A", [OTHER])
    with pytest.raises(DNSConflictError, match="changed") as caught:
        await provider._replace(WWW, "A", [OLD], NEW, 300)
    assert not caught.value.retryable and "nothing was written" in str(caught.value)
    if harness.name != "rfc2136":  # the server's NXRRSET does not say what it holds
        assert caught.value.current == [OTHER] and harness.name in str(caught.value)
    current = await harness.current(WWW, "A")
    assert current is not None and current.values == [OTHER]
    assert harness.writes() == 0


async def test_force_overwrites_a_third_value_and_leaves_exactly_one(
    harness: ProviderHarness, provider: DNSProvider
) -> None:
    await harness.seed(WWW, "A", [OTHER, "203.0.113.78"])
    result = await provider.switch_record(WWW, "A", OLD, NEW, force=True)
    assert result.action == "switched"
    current = await harness.current(WWW, "A")
    assert current is not None and current.values == [NEW]


async def test_a_dry_run_reads_decides_and_writes_nothing(
    harness: ProviderHarness, provider: DNSProvider
) -> None:
    await harness.seed(WWW, "A", [OLD])
    result = await provider.switch_record(WWW, "A", OLD, NEW, dry_run=True)
    assert (result.action, result.before, result.after) == ("would_switch", [OLD], [NEW])
    current = await harness.current(WWW, "A")
    assert current is not None and current.values == [OLD]
    assert harness.writes() == 0


async def test_an_ipv6_target_written_another_way_is_already_there(
    harness: ProviderHarness, provider: DNSProvider
) -> None:
    await harness.seed("v6.example.test", "AAAA", ["2001:db8::20"])
    result = await provider.switch_record(
        "v6.example.test", "AAAA", "2001:db8::10", "2001:DB8:0:0::20"
    )
    assert result.action == "already_at_target" and harness.writes() == 0


async def test_a_missing_record_is_not_found_naming_it(
    harness: ProviderHarness, provider: DNSProvider
) -> None:
    await harness.seed(WWW, "A", [OLD])
    with pytest.raises(DNSNotFoundError) as caught:
        await provider.switch_record("nope.example.test", "A", OLD, NEW)
    assert "nope.example.test" in str(caught.value) and not caught.value.retryable
    with pytest.raises(DNSNotFoundError):  # the name exists, not with this type
        await provider.read_record(WWW, "AAAA")
    assert harness.writes() == 0


async def test_bad_credentials_are_an_auth_error_that_never_shows_the_secret(
    harness: ProviderHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await harness.seed(WWW, "A", [OLD])
    bad = harness.provider_with_bad_credentials()
    with pytest.raises(DNSAuthError) as caught:
        await bad.switch_record(WWW, "A", OLD, NEW)
    assert not caught.value.retryable and harness.name in str(caught.value)
    assert harness.secret not in str(caught.value) and harness.secret not in caplog.text
    assert harness.writes() == 0
    await bad.aclose()


async def test_set_ttl_rewrites_the_same_value_with_a_new_ttl(
    harness: ProviderHarness, provider: DNSProvider
) -> None:
    await harness.seed(WWW, "A", [OLD], ttl=3600)
    lowered = await provider.set_ttl(WWW, "A", 60, expected=[OLD, NEW])
    assert (lowered.ttl_before, lowered.ttl_after, lowered.written) == (3600, 60, True)
    current = await harness.current(WWW, "A")
    assert current is not None and (current.values, current.ttl) == ([OLD], 60)
    again = await provider.set_ttl(WWW, "A", 60, expected=[OLD, NEW])
    assert not again.written and harness.writes() == 1


async def test_set_ttl_refuses_a_record_somebody_else_moved(
    harness: ProviderHarness, provider: DNSProvider
) -> None:
    await harness.seed(WWW, "A", [OTHER], ttl=3600)
    with pytest.raises(DNSConflictError):
        await provider.set_ttl(WWW, "A", 60, expected=[OLD, NEW])
    assert harness.writes() == 0


async def test_a_change_the_provider_accepted_is_live_when_it_says_so(
    harness: ProviderHarness, provider: DNSProvider
) -> None:
    await harness.seed(WWW, "A", [OLD])
    result = await provider.switch_record(WWW, "A", OLD, NEW)
    # Route53 hands back a change id to ask about; the others apply writes at once.
    if result.change_id is not None:
        assert await provider.change_is_live(result.change_id)
    else:
        assert harness.name != "route53"

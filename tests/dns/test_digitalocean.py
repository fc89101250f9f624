"""What is particular to DigitalOcean, against the loopback emulator (tests/emulators/).

The generic switch, conflict and fault behaviour is the shared contract and fault suites' job.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from genesis.failover.domain.config import DigitalOceanSettings
from genesis.failover.domain.dns.digitalocean import DigitalOceanProvider, rate_limit_wait
from genesis.failover.domain.errors import (
    ConfigError,
    DNSAuthError,
    DNSBadResponseError,
    DNSError,
    DNSNotFoundError,
    DNSRateLimitedError,
    DNSTransientError,
)
from tests.dns.harness_digitalocean import DigitalOceanHarness, digitalocean_harness
from tests.emulators.digitalocean import DigitalOceanEmulator

__all__ = ["digitalocean_harness"]  # the fixture, imported for the tests below

WWW = "www.example.test"
OLD, NEW = "192.0.2.10", "198.51.100.10"


@pytest.fixture
def emulator() -> Iterator[DigitalOceanEmulator]:
    with DigitalOceanEmulator(domains=["example.test", "sub.example.test"]) as do:
        yield do


@pytest.fixture
async def provider(emulator: DigitalOceanEmulator) -> AsyncIterator[DigitalOceanProvider]:
    """The seed's form: a token and default settings but the URL; no zone named."""
    provider = DigitalOceanProvider(
        DigitalOceanSettings(base_url=emulator.base_url), emulator.token
    )
    try:
        yield provider
    finally:
        await provider.aclose()


def writes_of(emulator: DigitalOceanEmulator) -> list[str]:
    return [r.method for r in emulator.requests if r.method in ("POST", "PUT", "PATCH", "DELETE")]


async def test_token_and_default_settings_switch_a_record(
    provider: DigitalOceanProvider, emulator: DigitalOceanEmulator
) -> None:
    emulator.set_rrset(WWW, "A", [OLD], ttl=300)
    result = await provider.switch_record(WWW, "A", OLD, NEW)
    assert (result.action, result.provider, result.before, result.after) == (
        "switched",
        "digitalocean",
        [OLD],
        [NEW],
    )
    assert [(r["data"], r["ttl"]) for r in emulator.rrset(WWW, "A")] == [(NEW, 300)]
    assert writes_of(emulator) == ["PATCH"]


async def test_paging_is_followed(
    provider: DigitalOceanProvider, emulator: DigitalOceanEmulator
) -> None:
    values = [f"192.0.2.{i}" for i in range(1, 6)]
    emulator.set_rrset(WWW, "A", values)
    provider.client.page_size = 2
    assert (await provider.read_record(WWW, "A")).values == sorted(values)
    pages = [r.query.get("page", "1") for r in emulator.requests if r.path.endswith("/records")]
    assert pages == ["1", "2", "3"]


async def test_page_links_are_followed_on_our_base_url_only(
    provider: DigitalOceanProvider, emulator: DigitalOceanEmulator
) -> None:
    # A link naming another host must not get the token: the page is asked of our server.
    emulator.link_base_url = "http://203.0.113.1:9"
    emulator.set_rrset(WWW, "A", ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
    provider.client.page_size = 2
    assert len((await provider.read_record(WWW, "A")).values) == 3


async def test_zone_is_discovered_among_parents_and_cached(
    provider: DigitalOceanProvider, emulator: DigitalOceanEmulator
) -> None:
    emulator.set_rrset("a.b.example.test", "A", [OLD])
    emulator.set_rrset("www.sub.example.test", "A", [NEW])
    for _ in range(2):
        assert (await provider.read_record("a.b.example.test", "A")).values == [OLD]
        assert (await provider.read_record("WWW.sub.example.test.", "A")).values == [NEW]
    lookups = [r.path for r in emulator.requests if "/records" not in r.path]
    assert lookups == [
        "/v2/domains/a.b.example.test",
        "/v2/domains/b.example.test",
        "/v2/domains/example.test",
        "/v2/domains/www.sub.example.test",
        "/v2/domains/sub.example.test",  # the longest parent wins over example.test
    ]


async def test_unknown_zone_names_the_record_and_provider(
    provider: DigitalOceanProvider,
) -> None:
    with pytest.raises(DNSNotFoundError, match=r"www\.other\.test.*digitalocean"):
        await provider.read_record("www.other.test", "A")


async def test_names_that_would_reshape_the_url_are_refused(
    provider: DigitalOceanProvider, emulator: DigitalOceanEmulator
) -> None:
    for name in ("www.example.test/../../v2/account", "www.example.test?type=MX", "www"):
        with pytest.raises(ConfigError, match="not a fully qualified domain name"):
            await provider.read_record(name, "A")
    assert emulator.requests == []


async def test_name_filter_is_the_fqdn_and_apex_is_at(
    provider: DigitalOceanProvider, emulator: DigitalOceanEmulator
) -> None:
    emulator.set_rrset("example.test", "A", [OLD])
    emulator.set_rrset(WWW, "AAAA", ["2001:db8::1"])
    assert emulator.rrset("example.test", "A")[0]["name"] == "@"
    assert (await provider.read_record("example.test.", "A")).values == [OLD]
    assert (await provider.read_record(WWW, "aaaa")).values == ["2001:db8::1"]
    filters = [
        (r.query["name"], r.query["type"], r.query["per_page"])
        for r in emulator.requests
        if r.path.endswith("/records")
    ]
    assert filters == [("example.test", "A", "200"), (WWW, "AAAA", "200")]


async def test_rrset_of_two_ends_as_one_record_updated_in_place_then_extra_deleted(
    provider: DigitalOceanProvider, emulator: DigitalOceanEmulator
) -> None:
    emulator.set_rrset(WWW, "A", ["192.0.2.1", "192.0.2.2"], ttl=120)
    ids = [r["id"] for r in emulator.rrset(WWW, "A")]
    result = await provider.switch_record(WWW, "A", OLD, NEW, force=True)
    assert result.before == ["192.0.2.1", "192.0.2.2"] and result.after == [NEW]
    (record,) = emulator.rrset(WWW, "A")
    assert (record["id"], record["data"], record["ttl"]) == (ids[0], NEW, 120)
    assert writes_of(emulator) == ["PATCH", "DELETE"]
    patch, delete = [r.path for r in emulator.requests if r.method in ("PATCH", "DELETE")]
    assert patch.endswith(f"/records/{ids[0]}") and delete.endswith(f"/records/{ids[1]}")
    assert emulator.writes == 2


async def test_ttl_rejected_by_digitalocean_is_not_retryable_and_carries_its_message(
    provider: DigitalOceanProvider, emulator: DigitalOceanEmulator
) -> None:
    emulator.set_rrset(WWW, "A", [OLD])
    with pytest.raises(DNSError) as caught:
        await provider.switch_record(WWW, "A", OLD, NEW, ttl=10)
    assert type(caught.value) is DNSError and not caught.value.retryable
    assert "HTTP 422" in str(caught.value) and "at least 30 seconds" in str(caught.value)
    assert "unprocessable_entity" in str(caught.value)
    assert [r["data"] for r in emulator.rrset(WWW, "A")] == [OLD]


async def test_rate_limit_without_retry_after_uses_ratelimit_reset(
    provider: DigitalOceanProvider, emulator: DigitalOceanEmulator
) -> None:
    emulator.set_rrset(WWW, "A", [OLD])
    provider.zones = ["example.test"]
    emulator.inject("rate_limited")  # no Retry-After: ratelimit-reset is about 6 s ahead
    with pytest.raises(DNSRateLimitedError) as caught:
        await provider.read_record(WWW, "A")
    assert caught.value.retryable and caught.value.retry_after is not None
    assert 4 <= caught.value.retry_after <= 7
    emulator.inject("rate_limited", retry_after=3)
    with pytest.raises(DNSRateLimitedError) as caught:
        await provider.read_record(WWW, "A")
    assert caught.value.retry_after == 3


def test_ratelimit_reset_is_the_fallback_when_retry_after_is_absent() -> None:
    now = 1_700_000_000.0
    assert rate_limit_wait({"ratelimit-reset": str(int(now) + 90)}, now) == 90
    assert rate_limit_wait({"retry-after": "5", "ratelimit-reset": str(int(now) + 90)}, now) == 5
    assert rate_limit_wait({"ratelimit-reset": "soon"}, now) is None
    assert rate_limit_wait({}, now) is None


async def test_json_without_the_records_key_is_a_bad_response(
    provider: DigitalOceanProvider, emulator: DigitalOceanEmulator
) -> None:
    provider.zones = ["example.test"]
    emulator.inject("malformed_json")
    with pytest.raises(DNSBadResponseError, match="domain_records"):
        await provider.read_record(WWW, "A")


async def test_token_never_in_errors_or_logs(
    digitalocean_harness: DigitalOceanHarness, caplog: pytest.LogCaptureFixture
) -> None:
    harness = digitalocean_harness
    caplog.set_level(logging.DEBUG)
    await harness.seed(WWW, "A", [OLD])
    provider = harness.provider()
    raised: list[BaseException] = []
    for fault in ("unauthorized", "rate_limited", "server_error", "malformed", "not_found"):
        harness.inject(fault)  # type: ignore[arg-type]
        with pytest.raises(DNSError) as caught:
            await provider.read_record(WWW, "A")
        raised.append(caught.value)
    with pytest.raises(DNSError) as caught:
        await provider.switch_record(WWW, "A", OLD, NEW, ttl=5)  # 422
    raised.append(caught.value)
    with pytest.raises(DNSAuthError, match=r"digitalocean rejected the API token \(HTTP 401\)"):
        await harness.provider_with_bad_credentials().read_record(WWW, "A")
    assert await provider.switch_record(WWW, "A", OLD, NEW)
    texts = [str(e) for e in raised] + [repr(e) for e in raised] + [repr(provider)]
    texts += [str(e.__cause__) for e in raised if e.__cause__ is not None]
    assert caplog.text and all(harness.secret not in text for text in [*texts, caplog.text])


async def test_transport_failures_are_transient(emulator: DigitalOceanEmulator) -> None:
    emulator.stop()  # nobody listens there any more
    provider = DigitalOceanProvider(
        DigitalOceanSettings(base_url="http://127.0.0.1:9", timeout_seconds=1), "t0ken"
    )
    try:
        with pytest.raises(DNSTransientError, match="cannot reach digitalocean"):
            await provider.read_record(WWW, "A")
    finally:
        await provider.aclose()


def test_from_settings_needs_the_token_variable() -> None:
    settings = DigitalOceanSettings(api_token_env="GENESIS_TEST_DO_UNSET")
    for environ in ({}, {"GENESIS_TEST_DO_UNSET": "  "}):
        with pytest.raises(ConfigError, match="GENESIS_TEST_DO_UNSET") as caught:
            DigitalOceanProvider.from_settings(settings, environ)
        assert caught.value.field == "dns.digitalocean.api_token_env"
        assert caught.value.value == "GENESIS_TEST_DO_UNSET"
    with pytest.raises(ConfigError) as bad:
        DigitalOceanProvider(settings, "two words")
    assert "two words" not in str(bad.value)


async def test_from_settings_with_the_variable_set(
    digitalocean_harness: DigitalOceanHarness,
) -> None:
    section, environ = digitalocean_harness.config()
    settings = DigitalOceanSettings(**section["digitalocean"])
    await digitalocean_harness.seed(WWW, "A", [OLD])
    provider = DigitalOceanProvider.from_settings(settings, environ)
    try:
        assert (await provider.read_record(WWW, "A")).values == [OLD]
    finally:
        await provider.aclose()


async def test_emulator_refuses_what_digitalocean_refuses(emulator: DigitalOceanEmulator) -> None:
    emulator.set_rrset(WWW, "A", [OLD])
    (record,) = emulator.rrset(WWW, "A")
    url = f"/v2/domains/example.test/records/{record['id']}"
    async with httpx.AsyncClient(
        base_url=emulator.base_url, headers={"Authorization": f"Bearer {emulator.token}"}
    ) as http:
        refused = [
            await http.post(
                "/v2/domains/example.test/records", json={"type": "A", "name": "x", "data": "::1"}
            ),
            await http.post(
                "/v2/domains/example.test/records",
                json={"type": "AAAA", "name": "x", "data": "192.0.2.1"},
            ),
            await http.post(
                "/v2/domains/example.test/records", json={"type": "SPF", "name": "x", "data": "y"}
            ),
            await http.put(url, json={"data": NEW}),  # no type
            await http.patch(url, json={"type": "A", "data": NEW, "ttl": 29}),
        ]
        assert [r.status_code for r in refused] == [422] * 5
        assert {r.json()["id"] for r in refused} == {"unprocessable_entity"}
        missing = await http.get("/v2/domains/example.test/records/1")
        assert missing.status_code == 404 and missing.json()["id"] == "not_found"
        anonymous = await http.get("/v2/domains/example.test", headers={"Authorization": "x"})
        assert anonymous.json() == {
            "id": "unauthorized",
            "message": "Unable to authenticate you.",
        }
        relative = await http.get("/v2/domains/example.test/records", params={"name": "www"})
        assert relative.json()["domain_records"] == [] and relative.json()["links"] == {}
        put = await http.put(url, json={"type": "A", "data": NEW, "ttl": 30})
        assert put.json()["domain_record"]["data"] == NEW
    assert emulator.writes == 1  # only the accepted write counts
    assert all("Bearer" not in str(r) for r in emulator.requests)

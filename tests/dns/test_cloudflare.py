"""What only Cloudflare does: paging, zone discovery, proxied records, TTL 1 = automatic, the
envelope's ``success`` flag, its error codes, and the token kept out of every message and log.

The switch/conflict/fault behaviour every provider shares is in the contract and fault suites.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from genesis.failover.domain.config import CloudflareSettings
from genesis.failover.domain.dns.cloudflare import AUTO_TTL_SECONDS, CloudflareProvider
from genesis.failover.domain.errors import (
    ConfigError,
    DNSBadResponseError,
    DNSError,
    DNSNotFoundError,
    DNSTransientError,
)
from genesis.lab.ports import free_port
from tests.dns import harness_cloudflare
from tests.dns.harness import FAULTS
from tests.dns.harness_cloudflare import CloudflareHarness
from tests.emulators.cloudflare import CloudflareEmulator, LoggedRequest

cloudflare_harness = harness_cloudflare.cloudflare_harness  # the fixture, for this module

WWW = "www.example.test"


def zone_lookups(requests: list[LoggedRequest]) -> list[str]:
    return [r.query.get("name", "") for r in requests if r.method == "GET" and r.path == "/zones"]


def settings_for(emulator: CloudflareEmulator, **kw: Any) -> CloudflareSettings:
    return CloudflareSettings(base_url=emulator.base_url, timeout_seconds=1.0, **kw)


@pytest.fixture
async def small_pages() -> AsyncIterator[tuple[CloudflareEmulator, CloudflareProvider]]:
    """An emulator answering at most 2 records a page, and a provider for it."""
    with CloudflareEmulator(token=secrets.token_hex(16), max_per_page=2) as emulator:
        provider = CloudflareProvider(settings_for(emulator), emulator.token)
        try:
            yield emulator, provider
        finally:
            await provider.aclose()


# -- reading: pages and zones ---------------------------------------------------------------


async def test_paging_is_followed_and_finds_records_on_later_pages(
    small_pages: tuple[CloudflareEmulator, CloudflareProvider],
) -> None:
    emulator, provider = small_pages
    values = [f"192.0.2.{i}" for i in range(1, 6)]
    emulator.seed(WWW, "A", values)

    found = await provider.read_record(WWW, "A")

    assert found.values == values  # two on page 1, two on page 2, one on page 3
    pages = [r.query.get("page") for r in emulator.requests if r.path.endswith("/dns_records")]
    assert pages == ["1", "2", "3"]
    listing = next(r for r in emulator.requests if r.path.endswith("/dns_records"))
    assert listing.query["name.exact"] == WWW and listing.query["type"] == "A"


async def test_switch_of_a_multi_page_rrset_patches_one_record_and_deletes_the_rest(
    small_pages: tuple[CloudflareEmulator, CloudflareProvider],
) -> None:
    emulator, provider = small_pages
    emulator.seed(WWW, "A", ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
    before = emulator.write_count

    switch = await provider.switch_record(WWW, "A", "192.0.2.1", "198.51.100.7", force=True)

    assert switch.action == "switched"
    assert [r["content"] for r in emulator.records(WWW, "A")] == ["198.51.100.7"]
    writes = [r.method for r in emulator.requests if r.method in ("PATCH", "PUT", "DELETE")]
    assert writes == ["PATCH", "DELETE", "DELETE"]  # in place first, extras after: no gap
    assert emulator.write_count - before == 3


async def test_switch_keeps_the_record_already_at_the_target(
    cloudflare_harness: CloudflareHarness,
) -> None:
    # PATCHing another record to the target would collide with it (81058 identical record).
    emulator = cloudflare_harness.emulator
    ids = emulator.seed(WWW, "A", ["192.0.2.1", "192.0.2.2"])
    provider = cloudflare_harness.provider()

    await provider.switch_record(WWW, "A", "192.0.2.1", "192.0.2.2", force=True)

    (left,) = emulator.records(WWW, "A")
    assert left["content"] == "192.0.2.2" and left["id"] == ids[1]


async def test_zone_is_found_among_parents_and_its_id_cached(
    cloudflare_harness: CloudflareHarness,
) -> None:
    emulator = cloudflare_harness.emulator
    emulator.seed("a.b.example.test", "A", ["192.0.2.1"])
    emulator.seed("c.b.example.test", "A", ["192.0.2.2"])
    provider = cloudflare_harness.provider()

    await provider.read_record("a.b.example.test.", "A")
    await provider.read_record("a.b.example.test", "A")
    await provider.read_record("c.b.example.test", "A")  # same zone, another name

    # Longest first, once each; the found zone's id is reused for every later read.
    assert zone_lookups(emulator.requests) == [
        "a.b.example.test",
        "b.example.test",
        "example.test",
        "c.b.example.test",
        "b.example.test",
    ]
    assert provider.where == "cloudflare zone example.test"


async def test_configured_zone_is_looked_up_once_and_nested_zones_win(
    cloudflare_harness: CloudflareHarness,
) -> None:
    emulator = cloudflare_harness.emulator
    emulator.add_zone("sub.example.test")
    emulator.seed("www.sub.example.test", "A", ["192.0.2.9"])  # lives in the nested zone
    emulator.seed(WWW, "A", ["192.0.2.1"])

    configured = cloudflare_harness.provider()
    configured.zones = ["example.test."]
    assert (await configured.read_record(WWW, "A")).values == ["192.0.2.1"]
    assert (await configured.read_record(WWW, "A")).values == ["192.0.2.1"]
    assert zone_lookups(emulator.requests) == ["example.test"]

    discovering = cloudflare_harness.provider()
    assert (await discovering.read_record("www.sub.example.test", "A")).values == ["192.0.2.9"]
    assert zone_lookups(emulator.requests)[1:] == ["www.sub.example.test", "sub.example.test"]


async def test_an_active_zone_wins_over_a_pending_copy_of_the_same_name() -> None:
    with CloudflareEmulator(token="t0ken-" + secrets.token_hex(8), zones=()) as emulator:
        emulator.add_zone("example.test", status="pending")  # listed first, holds nothing
        emulator.add_zone("example.test")  # the live one: seed puts the records here
        emulator.seed(WWW, "A", ["192.0.2.1"])
        provider = CloudflareProvider(settings_for(emulator), emulator.token)
        try:
            assert (await provider.read_record(WWW, "A")).values == ["192.0.2.1"]
        finally:
            await provider.aclose()


async def test_unknown_zone_names_every_candidate(cloudflare_harness: CloudflareHarness) -> None:
    provider = cloudflare_harness.provider()
    with pytest.raises(DNSNotFoundError) as caught:
        await provider.read_record("www.elsewhere.invalid", "A")
    assert "www.elsewhere.invalid" in str(caught.value) and "elsewhere.invalid" in str(caught.value)
    with pytest.raises(DNSNotFoundError, match=f"{WWW} has no AAAA record"):
        await provider.read_record(WWW, "AAAA")


# -- writing: what a switch must leave alone --------------------------------------------------


async def test_proxied_comment_and_tags_survive_a_switch(
    cloudflare_harness: CloudflareHarness,
) -> None:
    emulator = cloudflare_harness.emulator
    emulator.seed(WWW, "A", ["192.0.2.1"], 300, proxied=True, comment="origin", tags=["a:b"])
    provider = cloudflare_harness.provider()

    assert (await provider.read_record(WWW, "A")).proxied is True
    switch = await provider.switch_record(WWW, "A", "192.0.2.1", "192.0.2.2")

    assert switch.proxied is True
    (record,) = emulator.records(WWW, "A")
    assert record["content"] == "192.0.2.2"
    assert (record["proxied"], record["comment"], record["tags"]) == (True, "origin", ["a:b"])
    assert [r.method for r in emulator.requests if r.method not in ("GET",)] == ["PATCH"]


async def test_automatic_ttl_stays_automatic_unless_a_ttl_is_asked_for(
    cloudflare_harness: CloudflareHarness,
) -> None:
    emulator = cloudflare_harness.emulator
    emulator.seed(WWW, "A", ["192.0.2.1"], ttl=1)
    provider = cloudflare_harness.provider()

    assert (await provider.read_record(WWW, "A")).ttl == AUTO_TTL_SECONDS
    switch = await provider.switch_record(WWW, "A", "192.0.2.1", "192.0.2.2")
    assert switch.ttl_after == AUTO_TTL_SECONDS
    assert emulator.records(WWW, "A")[0]["ttl"] == 1  # still "automatic", not a manual 300

    await provider.switch_record(WWW, "A", "192.0.2.2", "192.0.2.1", ttl=120)
    assert emulator.records(WWW, "A")[0]["ttl"] == 120


async def test_base_url_from_the_environment_when_not_configured(
    cloudflare_harness: CloudflareHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = cloudflare_harness.emulator
    emulator.seed(WWW, "A", ["192.0.2.1"])
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", emulator.base_url)
    provider = CloudflareProvider(CloudflareSettings(timeout_seconds=1.0), emulator.token)
    try:
        assert (await provider.read_record(WWW, "A")).values == ["192.0.2.1"]
    finally:
        await provider.aclose()
    assert emulator.requests, "the request went to the emulator"


async def test_environment_api_key_does_not_displace_the_token(
    cloudflare_harness: CloudflareHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SDK sends X-Auth-Email/X-Auth-Key instead of the token when these are set.
    monkeypatch.setenv("CLOUDFLARE_API_KEY", "legacy-global-key")
    monkeypatch.setenv("CLOUDFLARE_EMAIL", "ops@example.test")
    cloudflare_harness.emulator.seed(WWW, "A", ["192.0.2.1"])
    provider = cloudflare_harness.provider()
    assert (await provider.read_record(WWW, "A")).values == ["192.0.2.1"]


# -- bad answers and refusals -----------------------------------------------------------------


@pytest.mark.parametrize("fault", ["malformed", "html"])
async def test_success_false_or_html_in_a_200_is_a_bad_response(
    cloudflare_harness: CloudflareHarness, fault: str
) -> None:
    cloudflare_harness.emulator.seed(WWW, "A", ["192.0.2.1"])
    provider = cloudflare_harness.provider()
    await provider.read_record(WWW, "A")  # zone found and cached: the fault hits the listing
    cloudflare_harness.emulator.inject(fault)

    with pytest.raises(DNSBadResponseError) as caught:
        await provider.read_record(WWW, "A")

    assert caught.value.retryable
    text = str(caught.value)
    assert "HTTP 200" in text and WWW in text and "example.test" in text
    assert ("success: true" in text) if fault == "malformed" else ("text/html" in text)


async def test_nothing_listening_is_a_transient_error_naming_the_host() -> None:
    settings = CloudflareSettings(base_url=f"http://127.0.0.1:{free_port()}/client/v4")
    provider = CloudflareProvider(settings, "unused-" + secrets.token_hex(8))
    try:
        with pytest.raises(DNSTransientError, match=r"cannot reach cloudflare \(127.0.0.1\)"):
            await provider.read_record(WWW, "A")
    finally:
        await provider.aclose()


@pytest.fixture
def emulator() -> Iterator[CloudflareEmulator]:
    with CloudflareEmulator(token="emulator-" + secrets.token_hex(8)) as running:
        yield running


def api(emulator: CloudflareEmulator, token: str | None = None) -> httpx.Client:
    auth = {"Authorization": f"Bearer {token or emulator.token}"}
    return httpx.Client(base_url=emulator.base_url, headers=auth, timeout=5)


@pytest.mark.parametrize(
    ("method", "body", "status", "code"),
    [
        ("PATCH", {"content": "1.2.3"}, 400, 9005),
        ("PATCH", {"content": "2001:db8::1"}, 400, 9005),
        ("PATCH", {"ttl": 30}, 400, 9021),
        ("PATCH", {"ttl": 86401}, 400, 9021),
        ("PATCH", {"ttl": "60"}, 400, 9021),
        ("PATCH", {"proxied": "yes"}, 400, 9003),
        ("PATCH", {"name": "www.example.org"}, 400, 9000),
        ("PUT", {"type": "A", "name": WWW, "ttl": 60}, 400, 9005),  # no content
        ("PUT", {"name": WWW, "content": "192.0.2.5"}, 400, 9020),  # no type
        ("PUT", {"type": "A", "content": "192.0.2.5"}, 400, 9000),  # no name
        ("PATCH", {"ttl": 1}, 200, None),  # automatic
        ("PATCH", {"ttl": 60, "content": "192.0.2.5"}, 200, None),
    ],
)
def test_emulator_refuses_what_the_api_refuses(
    emulator: CloudflareEmulator, method: str, body: dict[str, Any], status: int, code: int | None
) -> None:
    (record_id,) = emulator.seed(WWW, "A", ["192.0.2.1"])
    zone_id = emulator.zone_id("example.test")
    with api(emulator) as client:
        answer = client.request(method, f"/zones/{zone_id}/dns_records/{record_id}", json=body)
    envelope = answer.json()
    assert answer.status_code == status, envelope
    assert envelope["success"] is (code is None)
    if code is not None:
        codes = [e["code"] for e in envelope["errors"]]
        codes += [c["code"] for e in envelope["errors"] for c in e.get("error_chain", [])]
        assert code in codes
        assert emulator.write_count == 0
        assert emulator.records(WWW, "A")[0]["content"] == "192.0.2.1"
    else:
        assert emulator.write_count == 1


def test_emulator_refuses_unknown_ids_tokens_proxied_txt_and_duplicates(
    emulator: CloudflareEmulator,
) -> None:
    (record_id,) = emulator.seed(WWW, "A", ["192.0.2.1"])
    zone_id = emulator.zone_id("example.test")
    records = f"/zones/{zone_id}/dns_records"
    with api(emulator) as client:
        unknown_zone = client.get(f"/zones/{'0' * 32}/dns_records")
        unknown_record = client.patch(f"{records}/{'f' * 32}", json={"ttl": 60})
        proxied_txt = client.post(
            records, json={"type": "TXT", "name": WWW, "content": "x", "proxied": True}
        )
        duplicate = client.post(records, json={"type": "A", "name": WWW, "content": "192.0.2.1"})
        created = client.post(records, json={"type": "A", "name": WWW, "content": "192.0.2.2"})
        deleted = client.delete(f"{records}/{record_id}")
    with api(emulator, token="not-the-token") as client:
        unauthorized = client.get("/zones")
    assert (unknown_zone.status_code, unknown_zone.json()["errors"][0]["code"]) == (404, 7003)
    assert (unknown_record.status_code, unknown_record.json()["errors"][0]["code"]) == (404, 81044)
    assert proxied_txt.status_code == 400
    assert proxied_txt.json()["errors"][0]["error_chain"][0]["code"] == 9004
    assert (duplicate.status_code, duplicate.json()["errors"][0]["code"]) == (400, 81058)
    assert created.status_code == 200 and created.json()["result"]["ttl"] == 1
    assert deleted.json()["result"] == {"id": record_id}
    assert unauthorized.status_code == 401
    assert unauthorized.json() == {
        "success": False,
        "errors": [{"code": 10000, "message": "Authentication error"}],
        "messages": [],
        "result": None,
    }
    assert emulator.write_count == 2  # the create and the delete
    assert all("Bearer" not in str(r) and emulator.token not in str(r) for r in emulator.requests)


async def test_refused_ttl_and_content_are_final_errors_naming_the_record(
    cloudflare_harness: CloudflareHarness,
) -> None:
    cloudflare_harness.emulator.seed(WWW, "A", ["192.0.2.1"])
    provider = cloudflare_harness.provider()

    with pytest.raises(DNSError) as bad_ttl:
        await provider.switch_record(WWW, "A", "192.0.2.1", "192.0.2.2", ttl=30)
    # The primitive itself, with content the base class would have refused before sending.
    with pytest.raises(DNSError) as bad_content:
        await provider._replace(WWW, "A", ["192.0.2.1"], "192.0.2", 300)

    for caught, code in ((bad_ttl, "9021"), (bad_content, "9005")):
        assert type(caught.value) is DNSError and not caught.value.retryable
        text = str(caught.value)
        assert code in text and "HTTP 400" in text and WWW in text and "example.test" in text
    assert cloudflare_harness.writes() == 0
    assert (await cloudflare_harness.current(WWW, "A")).values == ["192.0.2.1"]  # type: ignore[union-attr]


async def test_the_token_is_in_no_error_and_no_log_line(
    cloudflare_harness: CloudflareHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = cloudflare_harness.secret
    cloudflare_harness.emulator.seed(WWW, "A", ["192.0.2.1"])
    texts: list[str] = []

    def chain(exc: BaseException | None) -> None:
        while exc is not None:
            texts.extend([str(exc), repr(exc), str(getattr(exc, "args", ""))])
            exc = exc.__cause__ or exc.__context__

    for fault in (*FAULTS, "html"):
        provider = cloudflare_harness.provider()
        cloudflare_harness.emulator.inject(fault, retry_after=2)  # type: ignore[arg-type]
        with pytest.raises(DNSError) as caught:
            await provider.switch_record(WWW, "A", "192.0.2.1", "192.0.2.2")
        chain(caught.value)
        texts.append(repr(provider))
    bad = cloudflare_harness.provider_with_bad_credentials()
    with pytest.raises(DNSError) as refused:
        await bad.read_record(WWW, "A")
    chain(refused.value)
    assert "cloudflare rejected the API token (HTTP 401" in str(refused.value)

    assert len(texts) > 20 and caplog.records, "errors and SDK debug logs were produced"
    logged = [caplog.text, *(r.getMessage() for r in caplog.records)]
    for text in texts + logged:
        assert token not in text
        assert "Bearer" not in text


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize("environ", [{}, {"GENESIS_CF_TOKEN": "  "}])
def test_from_settings_names_the_missing_variable(environ: dict[str, str]) -> None:
    settings = CloudflareSettings(api_token_env="GENESIS_CF_TOKEN")
    with pytest.raises(ConfigError) as caught:
        CloudflareProvider.from_settings(settings, environ)
    assert caught.value.field == "dns.cloudflare.api_token_env"
    assert caught.value.value == "GENESIS_CF_TOKEN"
    assert "GENESIS_CF_TOKEN" in str(caught.value)


async def test_from_settings_reads_the_token_and_config_round_trips(
    cloudflare_harness: CloudflareHarness,
) -> None:
    sections, environ = cloudflare_harness.config()
    settings = CloudflareSettings(**sections["cloudflare"])
    provider = CloudflareProvider.from_settings(settings, environ)
    cloudflare_harness.emulator.seed(WWW, "A", ["192.0.2.1"])
    try:
        assert (await provider.read_record(WWW, "A")).values == ["192.0.2.1"]
    finally:
        await provider.aclose()

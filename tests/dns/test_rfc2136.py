"""RFC2136Provider against a real BIND9 primary with two secondaries (see conftest.py)."""

from __future__ import annotations

import base64
import secrets

import pytest
from pydantic import ValidationError

from genesis.failover.domain.config import DnsRecordConfig, DnsSettings, Rfc2136Settings
from genesis.failover.domain.dns import (
    RecordValues,
    RFC2136Provider,
    build_providers,
    verify_dns_propagation,
    wait_for_propagation,
)
from genesis.failover.domain.errors import (
    ConfigError,
    DNSAuthError,
    DNSConflictError,
    DNSNotFoundError,
    DNSTransientError,
)
from genesis.lab import Bind9Lab, free_port

pytestmark = pytest.mark.integration

# The lab's records (conftest.RECORDS): www=192.0.2.10, multi=[.30, .31], v6=2001:db8::10, TTL 300.
OLD, NEW, OTHER = "192.0.2.10", "198.51.100.10", "203.0.113.77"
WWW = "www.example.test"


def settings_for(lab: Bind9Lab, **changes: object) -> Rfc2136Settings:
    return lab.rfc2136_settings().model_copy(update=changes)


async def test_read_record(provider: RFC2136Provider, bind9_lab: Bind9Lab) -> None:
    assert await provider.read_record(WWW, "A") == RecordValues([OLD], bind9_lab.ttl)
    multi = await provider.read_record("multi.example.test.", "A")
    assert multi.values == ["192.0.2.30", "192.0.2.31"]
    assert (await provider.read_record("v6", "AAAA")).values == ["2001:db8::10"]


async def test_relative_and_absolute_names_are_the_same_record(provider: RFC2136Provider) -> None:
    for name in ("www", "www.example.test", "www.example.test.", "WWW.Example.Test"):
        assert (await provider.read_record(name, "A")).values == [OLD]


async def test_name_outside_the_zone_is_a_config_error(provider: RFC2136Provider) -> None:
    with pytest.raises(ConfigError, match=r"www\.example\.org.*example\.test"):
        await provider.read_record("www.example.org", "A")


async def test_switch_reaches_primary_and_both_secondaries(
    provider: RFC2136Provider, bind9_lab: Bind9Lab
) -> None:
    result = await provider.switch_record(WWW, "A", OLD, NEW)
    assert (result.action, result.before, result.after, result.target) == (
        "switched",
        [OLD],
        [NEW],
        NEW,
    )
    assert result.provider == "rfc2136" and result.at_target
    assert await provider.read_record(WWW, "A") == RecordValues([NEW], bind9_lab.ttl)
    status = await wait_for_propagation(WWW, NEW, bind9_lab.servers, deadline_seconds=5)
    assert status == dict.fromkeys(bind9_lab.servers, True)
    assert await verify_dns_propagation(WWW, OLD, bind9_lab.servers) == dict.fromkeys(
        bind9_lab.servers, False
    )


async def test_switch_is_one_atomic_replace_not_delete_then_create(
    provider: RFC2136Provider, bind9_lab: Bind9Lab
) -> None:
    await provider.switch_record(WWW, "A", OLD, NEW)
    # One update (one serial bump) that deletes and adds within the same message.
    assert bind9_lab.updates_applied() == 1
    lines = bind9_lab.update_log_lines()
    assert any("deleting rrset at 'www.example.test' A" in line for line in lines)
    assert any(f"adding an RR at 'www.example.test' A {NEW}" in line for line in lines)


async def test_second_switch_is_already_at_target_and_writes_nothing(
    provider: RFC2136Provider, bind9_lab: Bind9Lab
) -> None:
    await provider.switch_record(WWW, "A", OLD, NEW)
    log_lines, serial = bind9_lab.update_log_lines(), bind9_lab.serial()
    again = await provider.switch_record(WWW, "A", OLD, NEW)
    assert (again.action, again.before, again.after) == ("already_at_target", [NEW], [NEW])
    assert again.at_target
    assert bind9_lab.update_log_lines() == log_lines
    assert bind9_lab.serial() == serial


async def test_record_at_a_third_value_is_a_conflict_and_left_alone(
    provider: RFC2136Provider, bind9_lab: Bind9Lab
) -> None:
    bind9_lab.set_record("www", OTHER)
    serial = bind9_lab.serial()
    with pytest.raises(DNSConflictError) as caught:
        await provider.switch_record(WWW, "A", OLD, NEW)
    message = str(caught.value)
    for part in (WWW, OTHER, OLD, NEW, "rfc2136", bind9_lab.primary, "example.test"):
        assert part in message
    assert caught.value.retryable is False and caught.value.current == [OTHER]
    assert bind9_lab.query("www") == [OTHER]
    assert bind9_lab.serial() == serial


async def test_several_values_are_a_conflict(provider: RFC2136Provider) -> None:
    with pytest.raises(DNSConflictError, match="192.0.2.30"):
        await provider.switch_record("multi", "A", "192.0.2.30", NEW)


async def test_force_overrides_a_conflict(provider: RFC2136Provider, bind9_lab: Bind9Lab) -> None:
    bind9_lab.set_record("multi", "192.0.2.30", "192.0.2.31")
    result = await provider.switch_record("multi", "A", OLD, NEW, force=True)
    assert (result.action, result.before, result.after) == (
        "switched",
        ["192.0.2.30", "192.0.2.31"],
        [NEW],
    )
    assert bind9_lab.query("multi") == [NEW]


async def test_dry_run_writes_nothing(provider: RFC2136Provider, bind9_lab: Bind9Lab) -> None:
    log_lines, serial = bind9_lab.update_log_lines(), bind9_lab.serial()
    result = await provider.switch_record(WWW, "A", OLD, NEW, dry_run=True)
    assert (result.action, result.before, result.after) == ("would_switch", [OLD], [NEW])
    assert not result.at_target
    assert bind9_lab.query("www") == [OLD]
    assert bind9_lab.update_log_lines() == log_lines
    assert bind9_lab.serial() == serial


async def test_dry_run_still_reports_a_conflict(
    provider: RFC2136Provider, bind9_lab: Bind9Lab
) -> None:
    bind9_lab.set_record("www", OTHER)
    with pytest.raises(DNSConflictError):
        await provider.switch_record(WWW, "A", OLD, NEW, dry_run=True)


async def test_prerequisite_makes_the_write_atomic(
    provider: RFC2136Provider, bind9_lab: Bind9Lab
) -> None:
    # As if the record changed between our read (OTHER) and our write: the server refuses.
    serial = bind9_lab.serial()
    with pytest.raises(DNSConflictError, match="changed since it was read"):
        await provider._replace(WWW, "A", [OTHER], NEW, 60)
    assert bind9_lab.query("www") == [OLD]
    assert bind9_lab.serial() == serial


async def test_ttl_kept_when_not_given(provider: RFC2136Provider, bind9_lab: Bind9Lab) -> None:
    await provider.switch_record(WWW, "A", OLD, NEW)
    assert (await provider.read_record(WWW, "A")).ttl == bind9_lab.ttl
    await provider.switch_record(WWW, "A", NEW, OLD, ttl=30)
    assert await provider.read_record(WWW, "A") == RecordValues([OLD], 30)


async def test_aaaa_switch_compares_canonical_addresses(
    provider: RFC2136Provider, bind9_lab: Bind9Lab
) -> None:
    result = await provider.switch_record("v6", "AAAA", "2001:DB8:0::10", "2001:db8::20")
    assert result.action == "switched" and bind9_lab.query("v6", "AAAA") == ["2001:db8::20"]
    again = await provider.switch_record("v6", "AAAA", "2001:db8::10", "2001:0db8::20")
    assert again.action == "already_at_target"
    with pytest.raises(ConfigError, match="IPv4"):
        await provider.switch_record("v6", "AAAA", "2001:db8::20", "192.0.2.1")


async def test_wrong_tsig_secret_is_an_auth_error_without_the_secret(
    bind9_lab: Bind9Lab,
) -> None:
    wrong = base64.b64encode(secrets.token_bytes(32)).decode()
    bad = RFC2136Provider(bind9_lab.rfc2136_settings(), wrong)
    with pytest.raises(DNSAuthError) as caught:
        await bad.switch_record(WWW, "A", OLD, NEW)
    message = str(caught.value)
    assert "ddns-key" in message and bind9_lab.primary in message
    assert wrong not in message and bind9_lab.tsig_secret not in message
    assert caught.value.retryable is False
    assert bind9_lab.query("www") == [OLD]


async def test_unknown_tsig_key_name_is_an_auth_error(bind9_lab: Bind9Lab) -> None:
    bad = RFC2136Provider(settings_for(bind9_lab, tsig_key_name="other-key"), bind9_lab.tsig_secret)
    with pytest.raises(DNSAuthError, match="other-key"):
        await bad.read_record(WWW, "A")


async def test_unknown_record_is_not_found(provider: RFC2136Provider) -> None:
    with pytest.raises(DNSNotFoundError, match="nope.example.test") as caught:
        await provider.switch_record("nope", "A", OLD, NEW)
    assert caught.value.retryable is False
    with pytest.raises(DNSNotFoundError):  # the name exists, the type does not
        await provider.read_record(WWW, "AAAA")


async def test_zone_the_server_does_not_serve_is_not_found(bind9_lab: Bind9Lab) -> None:
    other = RFC2136Provider(settings_for(bind9_lab, zone="other.test"), bind9_lab.tsig_secret)
    with pytest.raises(DNSNotFoundError, match="other.test"):
        await other.read_record("www.other.test", "A")
    with pytest.raises(DNSNotFoundError, match="NOTAUTH"):
        await other._replace("www.other.test", "A", [OLD], NEW, 60)


async def test_server_on_an_unused_port_is_transient() -> None:
    settings = Rfc2136Settings(
        server=f"127.0.0.1:{free_port()}", zone="example.test", timeout_seconds=1
    )
    with pytest.raises(DNSTransientError, match="cannot reach") as caught:
        await RFC2136Provider(settings).switch_record(WWW, "A", OLD, NEW)
    assert caught.value.retryable is True


async def test_stopped_server_is_transient(provider: RFC2136Provider, bind9_lab: Bind9Lab) -> None:
    bind9_lab.stop()
    with pytest.raises(DNSTransientError) as caught:
        await provider.switch_record(WWW, "A", OLD, NEW)
    assert caught.value.retryable is True and bind9_lab.primary in str(caught.value)


def test_from_settings_reads_the_secret_from_the_environment(bind9_lab: Bind9Lab) -> None:
    settings = bind9_lab.rfc2136_settings("LAB_TSIG_SECRET")
    provider = RFC2136Provider.from_settings(settings, {"LAB_TSIG_SECRET": bind9_lab.tsig_secret})
    assert provider.key_name == "ddns-key"


@pytest.mark.parametrize("environ", [{}, {"LAB_TSIG_SECRET": ""}, {"LAB_TSIG_SECRET": "n0t b64!"}])
def test_from_settings_names_a_missing_or_bad_env_var(environ: dict[str, str]) -> None:
    settings = Rfc2136Settings(
        server="127.0.0.1:5300",
        zone="example.test",
        tsig_key_name="ddns-key",
        tsig_secret_env="LAB_TSIG_SECRET",
        timeout_seconds=5,
    )
    with pytest.raises(ConfigError, match="LAB_TSIG_SECRET") as caught:
        RFC2136Provider.from_settings(settings, environ)
    assert caught.value.field == "dns.rfc2136.tsig_secret_env"
    assert "n0t b64" not in str(caught.value)


def test_bad_tsig_algorithm_is_a_config_error() -> None:
    fields = {
        "server": "127.0.0.1:5300",
        "zone": "example.test",
        "tsig_key_name": "ddns-key",
        "tsig_algorithm": "hmac-nope",
        "tsig_secret_env": "LAB_TSIG_SECRET",
        "timeout_seconds": 5,
    }
    # Refused when the config is loaded, naming the field...
    with pytest.raises(ValidationError, match="hmac-nope") as refused:
        Rfc2136Settings(**fields)
    assert refused.value.errors()[0]["loc"] == ("tsig_algorithm",)
    # ...and by the provider too, for settings built around the validation (the facade).
    settings = Rfc2136Settings.model_construct(**fields)
    secret = base64.b64encode(secrets.token_bytes(32)).decode()
    with pytest.raises(ConfigError, match="hmac-nope") as caught:
        RFC2136Provider(settings, secret)
    assert secret not in str(caught.value)


async def test_build_provider_from_dns_settings(bind9_lab: Bind9Lab) -> None:
    dns_settings = DnsSettings(
        provider="rfc2136",
        ttl=60,
        records=[DnsRecordConfig(domain=WWW, record_type="A", ttl=None)],
        rfc2136=bind9_lab.rfc2136_settings("LAB_TSIG_SECRET"),
    )
    providers = build_providers(dns_settings, {"LAB_TSIG_SECRET": bind9_lab.tsig_secret})
    provider = providers.for_record("")
    assert isinstance(provider, RFC2136Provider)
    assert providers.for_record("rfc2136") is provider
    assert (await provider.read_record(WWW, "A")).values == [OLD]
    with pytest.raises(ConfigError, match="LAB_TSIG_SECRET"):
        build_providers(dns_settings, {})
    with pytest.raises(ConfigError, match="no DNS provider 'cloudflare'.*rfc2136"):
        providers.for_record("cloudflare")


async def test_update_without_tsig_is_refused_as_auth_error(bind9_lab: Bind9Lab) -> None:
    settings = Rfc2136Settings(server=bind9_lab.primary, zone="example.test", timeout_seconds=2)
    with pytest.raises(DNSAuthError, match="REFUSED.*unsigned update"):
        await RFC2136Provider(settings).switch_record(WWW, "A", OLD, NEW)
    assert bind9_lab.query("www") == [OLD]

"""The seed's ``DNSManager`` form against every provider's server:

dns_manager = DNSManager(api_token=os.environ["DO_API_TOKEN"], provider="digitalocean")
ok = await dns_manager.failover_dns(domain=..., from_ip=..., to_ip=..., record_type="A")
"""

from __future__ import annotations

from typing import Any

import pytest

from genesis.failover import DNSManager
from genesis.failover.domain.errors import ConfigError
from tests.dns.harness import ProviderHarness
from tests.dns.harness_rfc2136 import Rfc2136Harness

pytestmark = pytest.mark.integration

OLD, NEW, OTHER = "192.0.2.10", "198.51.100.10", "203.0.113.77"
WWW = "www.example.test"


def seed_form(harness: ProviderHarness, monkeypatch: pytest.MonkeyPatch) -> DNSManager:
    """The manager as a seed user writes it: a token (or the AWS chain) and a provider name;
    the zone is found from the record's name."""
    section, environ = harness.config()
    settings: dict[str, Any] = section[harness.name]
    if isinstance(harness, Rfc2136Harness):
        return DNSManager(
            provider="rfc2136",
            server=settings["server"],
            zone=settings["zone"],
            tsig_key_name=settings["tsig_key_name"],
            tsig_secret=harness.secret,
        )
    if harness.name == "route53":
        for name, value in environ.items():  # the usual AWS chain: the environment
            monkeypatch.setenv(name, value)
        return DNSManager(provider="route53", endpoint_url=settings["endpoint_url"])
    return DNSManager(
        api_token=harness.secret, provider=harness.name, base_url=settings["base_url"]
    )


async def test_failover_dns_in_the_seed_form_moves_the_record(
    harness: ProviderHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await harness.seed(WWW, "A", [OLD])
    manager = seed_form(harness, monkeypatch)
    assert await manager.failover_dns(domain=WWW, from_ip=OLD, to_ip=NEW, record_type="A")
    current = await harness.current(WWW, "A")
    assert current is not None and current.values == [NEW]
    # Again: True (the record is at to_ip) and nothing written.
    assert await manager.failover_dns(domain=WWW, from_ip=OLD, to_ip=NEW)
    assert manager.last_switch is not None and manager.last_switch.action == "already_at_target"
    assert harness.writes() == 1
    await manager.aclose()


async def test_failover_dns_refuses_a_third_value_and_says_why(
    harness: ProviderHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await harness.seed(WWW, "A", [OTHER])
    manager = seed_form(harness, monkeypatch)
    assert not await manager.failover_dns(domain=WWW, from_ip=OLD, to_ip=NEW)
    assert manager.last_switch is not None and manager.last_switch.action == "refused"
    assert OTHER in (manager.last_switch.error or "") and harness.writes() == 0
    await manager.aclose()


@pytest.mark.parametrize("provider", ["digitalocean", "cloudflare"])
def test_a_token_provider_without_a_token_is_a_config_error(provider: str) -> None:
    with pytest.raises(ConfigError, match="api_token"):
        DNSManager(api_token=None, provider=provider)


def test_an_unknown_provider_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="'godaddy'.*cloudflare, digitalocean, rfc2136, route53"):
        DNSManager(api_token="x", provider="godaddy")

"""The providers one site's records live at, built from config with secrets from the environment.

The seed advises more than one DNS provider; a record names its provider (or takes the site's
default), and the DNS activities look it up here by name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from genesis.failover.domain.config import DnsSettings
from genesis.failover.domain.dns.base import DNSProvider
from genesis.failover.domain.errors import ConfigError

__all__ = ["DNSProviders", "build_provider", "build_providers"]


class DNSProviders(Mapping[str, DNSProvider]):
    """Providers by name, with the one a record without ``provider`` uses."""

    def __init__(self, providers: Mapping[str, DNSProvider], default: str) -> None:
        if default not in providers:
            raise ValueError(f"default provider {default!r} is not among {sorted(providers)}")
        self._providers = dict(providers)
        self.default = default

    @classmethod
    def single(cls, provider: DNSProvider) -> DNSProviders:
        return cls({provider.name: provider}, provider.name)

    def for_record(self, name: str) -> DNSProvider:
        """The provider called ``name`` ("" = the default). A name the worker was not built with
        is a config mismatch between the monitor's plan and this worker: not retryable."""
        try:
            return self._providers[name or self.default]
        except KeyError:
            raise ConfigError(
                f"no DNS provider {name!r} is configured in this worker "
                f"(configured: {', '.join(sorted(self._providers))})",
                field="dns.records.provider",
                value=name,
            ) from None

    def __getitem__(self, name: str) -> DNSProvider:
        return self._providers[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._providers)

    def __len__(self) -> int:
        return len(self._providers)

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()


def build_provider(
    name: str, dns: DnsSettings, environ: Mapping[str, str] = os.environ
) -> DNSProvider:
    """Provider ``name`` from its ``[dns.<name>]`` section, its secret read from ``environ``
    (ConfigError names the variable, never its value)."""
    provider: DNSProvider
    if name == "rfc2136":
        from genesis.failover.domain.dns.rfc2136 import RFC2136Provider

        if dns.rfc2136 is None:
            raise ConfigError(
                "provider 'rfc2136' needs a [dns.rfc2136] section", field="dns.rfc2136"
            )
        provider = RFC2136Provider.from_settings(dns.rfc2136, environ)
    elif name == "cloudflare":
        from genesis.failover.domain.dns.cloudflare import CloudflareProvider

        provider = CloudflareProvider.from_settings(dns.cloudflare, environ)
    elif name == "digitalocean":
        from genesis.failover.domain.dns.digitalocean import DigitalOceanProvider

        provider = DigitalOceanProvider.from_settings(dns.digitalocean, environ)
    elif name == "route53":
        from genesis.failover.domain.dns.route53 import Route53Provider

        provider = Route53Provider.from_settings(dns.route53, environ)
    else:
        raise ConfigError(f"unknown DNS provider {name!r}", field="dns.provider", value=name)
    provider.default_ttl = dns.ttl
    provider.zones = sorted({r.zone for r in dns.records if r.zone and dns.provider_of(r) == name})
    return provider


def build_providers(dns: DnsSettings, environ: Mapping[str, str] = os.environ) -> DNSProviders:
    """Every provider some record of the site lives at."""
    return DNSProviders(
        {name: build_provider(name, dns, environ) for name in dns.providers_used}, dns.provider
    )

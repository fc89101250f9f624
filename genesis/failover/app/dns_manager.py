"""The seed's ``DNSManager``: switch and verify records directly (no Temporal).

    dns_manager = DNSManager(api_token=os.environ["DO_API_TOKEN"], provider="digitalocean")
    ok = await dns_manager.failover_dns(domain=..., from_ip=..., to_ip=..., record_type="A")
    propagation = await dns_manager.verify_dns_propagation(domain, expected_ip, nameservers)

Cloudflare takes ``api_token`` too; Route53 takes its credentials from the usual AWS chain;
RFC 2136 takes ``server=``, ``zone=`` and a TSIG key. The secret is held by this object only;
the coordinator hands the providers to its in-process worker, never to a workflow.
"""

from __future__ import annotations

import os
from typing import Any

from genesis.failover.domain.config import (
    IMPLEMENTED_PROVIDERS,
    CloudflareSettings,
    DigitalOceanSettings,
    Rfc2136Settings,
    Route53Settings,
)
from genesis.failover.domain.dns.base import DNSProvider
from genesis.failover.domain.dns.propagation import verify_dns_propagation, watch_propagation
from genesis.failover.domain.dns.registry import DNSProviders
from genesis.failover.domain.errors import ConfigError, DNSConflictError
from genesis.failover.domain.models import RecordSwitch


class DNSManager:
    def __init__(
        self,
        api_token: str | None = None,
        provider: str = "rfc2136",
        base_url: str | None = None,
        endpoint_url: str | None = None,
        *,
        server: str | None = None,
        zone: str | None = None,
        tsig_key_name: str | None = None,
        tsig_secret: str | None = None,
        tsig_algorithm: str = "hmac-sha256",
        timeout_seconds: float = 10.0,
        dns_provider: DNSProvider | None = None,
        providers: DNSProviders | None = None,
    ) -> None:
        self.provider_name = provider
        self.last_switch: RecordSwitch | None = None
        if providers is not None:
            self.providers = providers
        else:
            self.providers = DNSProviders.single(
                dns_provider
                or _provider_from_arguments(
                    provider,
                    api_token,
                    base_url=base_url,
                    endpoint_url=endpoint_url,
                    server=server,
                    zone=zone,
                    tsig_key_name=tsig_key_name,
                    tsig_secret=tsig_secret,
                    tsig_algorithm=tsig_algorithm,
                    timeout_seconds=timeout_seconds,
                )
            )
        self.provider = self.providers.for_record("")

    @classmethod
    def from_settings(cls, dns: Any, environ: Any = os.environ) -> DNSManager:
        from genesis.failover.domain.dns.registry import build_providers

        return cls(provider=dns.provider, providers=build_providers(dns, environ))

    async def aclose(self) -> None:
        await self.providers.aclose()

    async def failover_dns(
        self,
        domain: str,
        from_ip: str,
        to_ip: str,
        record_type: str = "A",
        *,
        force: bool = False,
        ttl: int | None = None,
    ) -> bool:
        """Move ``domain`` from ``from_ip`` to ``to_ip`` by compare-and-set.

        True when the record is at ``to_ip`` afterwards (including when it already was); False
        when it holds some third value and ``force`` is off (it is left untouched, and
        ``last_switch.error`` says what was found). Other failures raise typed errors.
        """
        try:
            self.last_switch = await self.provider.switch_record(
                domain, record_type, from_ip, to_ip, ttl=ttl, force=force
            )
        except DNSConflictError as exc:
            self.last_switch = RecordSwitch.not_moved(
                exc,
                domain=domain,
                record_type=record_type,
                provider=self.provider.name,
                target=to_ip,
            )
            return False
        return self.last_switch.at_target

    async def verify_dns_propagation(
        self,
        domain: str,
        expected_ip: str,
        nameservers: list[str],
        record_type: str = "A",
        *,
        wait_seconds: float = 10.0,
    ) -> dict[str, bool]:
        """``{nameserver: bool}``, each nameserver asked directly (not the system resolver).

        Called right after ``failover_dns`` (as the seed does), secondaries may still be a few
        milliseconds behind: wait up to ``wait_seconds`` for every one to agree, returning as
        soon as they do. ``wait_seconds=0`` asks once.
        """
        if wait_seconds <= 0:
            return await verify_dns_propagation(
                domain, expected_ip, nameservers, record_type=record_type
            )
        outcome = await watch_propagation(
            domain, expected_ip, nameservers, deadline_seconds=wait_seconds, record_type=record_type
        )
        return outcome.nameservers


def _provider_from_arguments(
    provider: str,
    api_token: str | None,
    *,
    base_url: str | None,
    endpoint_url: str | None,
    server: str | None,
    zone: str | None,
    tsig_key_name: str | None,
    tsig_secret: str | None,
    tsig_algorithm: str,
    timeout_seconds: float,
) -> DNSProvider:
    """The seed's keyword form: one provider, its secret passed in (not read from the env)."""
    if provider not in IMPLEMENTED_PROVIDERS:
        raise ConfigError(
            f"unknown DNS provider {provider!r} (available: "
            f"{', '.join(sorted(IMPLEMENTED_PROVIDERS))})",
            field="provider",
            value=provider,
        )
    zones = [zone] if zone else []
    built: DNSProvider
    if provider in ("digitalocean", "cloudflare") and not api_token:
        raise ConfigError(
            f"the {provider} provider needs api_token= (e.g. from os.environ)",
            field="api_token",
        )
    if provider == "digitalocean":
        from genesis.failover.domain.dns.digitalocean import DigitalOceanProvider

        settings = DigitalOceanSettings(timeout_seconds=timeout_seconds)
        if base_url:
            settings = DigitalOceanSettings(base_url=base_url, timeout_seconds=timeout_seconds)
        built = DigitalOceanProvider(settings, api_token or "")
    elif provider == "cloudflare":
        from genesis.failover.domain.dns.cloudflare import CloudflareProvider

        built = CloudflareProvider(
            CloudflareSettings(base_url=base_url, timeout_seconds=timeout_seconds), api_token or ""
        )
    elif provider == "route53":
        from genesis.failover.domain.dns.route53 import Route53Provider

        built = Route53Provider(
            Route53Settings(endpoint_url=endpoint_url, timeout_seconds=timeout_seconds)
        )
    else:
        from genesis.failover.domain.dns.rfc2136 import RFC2136Provider

        if server is None or zone is None:
            raise ConfigError(
                "the rfc2136 provider needs server= and zone=", field="server", value=server
            )
        settings_2136 = Rfc2136Settings(
            server=server,
            zone=zone,
            tsig_key_name=tsig_key_name,
            tsig_algorithm=tsig_algorithm,
            # The secret is passed directly here; the settings only need to know there is one.
            tsig_secret_env="GENESIS_TSIG_SECRET" if tsig_key_name else None,
            timeout_seconds=timeout_seconds,
        )
        built = RFC2136Provider(settings_2136, tsig_secret)
    built.zones = zones
    return built

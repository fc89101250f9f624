"""The seed's ``DNSManager``: one provider, switched and verified directly (no Temporal).

    dns_manager = DNSManager(provider="rfc2136", server="127.0.0.1:5300", zone="example.com",
                             tsig_key_name="ddns-key", tsig_secret=os.environ["TSIG"])
    ok = await dns_manager.failover_dns(domain=..., from_ip=..., to_ip=..., record_type="A")
    propagation = await dns_manager.verify_dns_propagation(domain, expected_ip, nameservers)

The secret is held by this object only; the coordinator hands the provider to its in-process
worker, never to a workflow.
"""

from __future__ import annotations

import os
from typing import Any

from genesis.failover.config import IMPLEMENTED_PROVIDERS, Rfc2136Settings
from genesis.failover.dns.base import DNSProvider
from genesis.failover.dns.propagation import verify_dns_propagation, wait_for_propagation
from genesis.failover.dns.rfc2136 import RFC2136Provider
from genesis.failover.errors import ConfigError, DNSConflictError
from genesis.failover.models import RecordSwitch


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
        timeout_seconds: float = 5.0,
        dns_provider: DNSProvider | None = None,
    ) -> None:
        self.provider_name = provider
        self.last_switch: RecordSwitch | None = None
        if dns_provider is not None:
            self.provider = dns_provider
            return
        if provider not in IMPLEMENTED_PROVIDERS:
            raise ConfigError(
                f"DNS provider {provider!r} is not available in this release "
                f"(available: {', '.join(sorted(IMPLEMENTED_PROVIDERS))})",
                field="provider",
                value=provider,
            )
        if server is None or zone is None:
            raise ConfigError(
                "the rfc2136 provider needs server= and zone=", field="server", value=server
            )
        settings = Rfc2136Settings(
            server=server,
            zone=zone,
            tsig_key_name=tsig_key_name,
            tsig_algorithm=tsig_algorithm,
            # The secret is passed directly here; the settings only need to know there is one.
            tsig_secret_env="GENESIS_TSIG_SECRET" if tsig_key_name else None,
            timeout_seconds=timeout_seconds,
        )
        self.provider = RFC2136Provider(settings, tsig_secret)

    @classmethod
    def from_settings(cls, dns: Any, environ: Any = os.environ) -> DNSManager:
        from genesis.failover.dns import build_provider

        return cls(provider=dns.provider, dns_provider=build_provider(dns, environ))

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
            self.last_switch = RecordSwitch(
                domain=domain,
                record_type=record_type,
                provider=self.provider.name,
                before=exc.current or [],
                target=to_ip,
                action="refused",
                error=str(exc),
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
        return await wait_for_propagation(
            domain,
            expected_ip,
            nameservers,
            deadline_seconds=wait_seconds,
            record_type=record_type,
        )

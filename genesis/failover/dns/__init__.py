"""DNS providers (read a record, switch it by compare-and-set) and propagation checks.

Plain asyncio and dnspython: no temporalio here; the activities wrap these.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from genesis.failover.config import DnsSettings
from genesis.failover.dns.base import DNSProvider, RecordValues
from genesis.failover.dns.propagation import (
    query_nameserver,
    verify_dns_propagation,
    wait_for_propagation,
)
from genesis.failover.dns.rfc2136 import RFC2136Provider
from genesis.failover.errors import ConfigError

__all__ = [
    "DNSProvider",
    "RFC2136Provider",
    "RecordValues",
    "build_provider",
    "query_nameserver",
    "verify_dns_propagation",
    "wait_for_propagation",
]


def build_provider(dns: DnsSettings, environ: Mapping[str, str] = os.environ) -> DNSProvider:
    """The configured provider, its secrets read from ``environ`` (ConfigError names the var)."""
    provider: DNSProvider
    if dns.provider == "rfc2136":
        if dns.rfc2136 is None:
            raise ConfigError(
                "provider 'rfc2136' needs a [dns.rfc2136] section", field="dns.rfc2136"
            )
        provider = RFC2136Provider.from_settings(dns.rfc2136, environ)
    else:
        raise ConfigError(
            f"DNS provider {dns.provider!r} not available in this release (available: rfc2136)",
            field="dns.provider",
            value=dns.provider,
        )
    provider.default_ttl = dns.ttl
    return provider

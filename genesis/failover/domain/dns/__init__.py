"""DNS providers (read a record, switch it by compare-and-set) and propagation checks.

Plain asyncio, dnspython, httpx and the providers' SDKs: no temporalio here; the activities wrap
these. Provider modules are imported when a config names them (``registry.build_provider``).
"""

from __future__ import annotations

from genesis.failover.domain.dns.base import DNSProvider, RecordValues, TtlChange, parent_zones
from genesis.failover.domain.dns.propagation import (
    PropagationOutcome,
    PropagationProgress,
    check_propagation,
    verify_dns_propagation,
    wait_for_propagation,
    watch_propagation,
)
from genesis.failover.domain.dns.query import query_nameserver
from genesis.failover.domain.dns.registry import DNSProviders, build_provider, build_providers
from genesis.failover.domain.dns.rfc2136 import RFC2136Provider

__all__ = [
    "DNSProvider",
    "DNSProviders",
    "PropagationOutcome",
    "PropagationProgress",
    "RFC2136Provider",
    "RecordValues",
    "TtlChange",
    "build_provider",
    "build_providers",
    "check_propagation",
    "parent_zones",
    "query_nameserver",
    "verify_dns_propagation",
    "wait_for_propagation",
    "watch_propagation",
]

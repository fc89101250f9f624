"""genesis.failover: automatic and manual failover between primary and backup infrastructure.

The seed document's Python API::

    from genesis.failover import FailoverCoordinator, HealthChecker, DNSManager, HealthCheck

Names are imported on first use, so the CLI's `validate` and `check` do not load the Temporal
SDK they never use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "DNSManager": "genesis.failover.dns.manager",
    "FailoverConfig": "genesis.failover.config",
    "FailoverCoordinator": "genesis.failover.coordinator",
    "HealthCheck": "genesis.failover.health",
    "HealthChecker": "genesis.failover.health",
    "load_config": "genesis.failover.config",
    "verify_dns_propagation": "genesis.failover.dns.propagation",
}

__all__ = [
    "DNSManager",
    "FailoverConfig",
    "FailoverCoordinator",
    "HealthCheck",
    "HealthChecker",
    "load_config",
    "verify_dns_propagation",
]

if TYPE_CHECKING:
    from genesis.failover.config import FailoverConfig, load_config
    from genesis.failover.coordinator import FailoverCoordinator
    from genesis.failover.dns.manager import DNSManager
    from genesis.failover.dns.propagation import verify_dns_propagation
    from genesis.failover.health import HealthCheck, HealthChecker


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'genesis.failover' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

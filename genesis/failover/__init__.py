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
    "DNSManager": "genesis.failover.app.dns_manager",
    "FailoverConfig": "genesis.failover.domain.config",
    "FailoverCoordinator": "genesis.failover.app.coordinator",
    "HealthCheck": "genesis.failover.app.health",
    "HealthChecker": "genesis.failover.app.health",
    "load_config": "genesis.failover.domain.config",
    "verify_dns_propagation": "genesis.failover.domain.dns.propagation",
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
    from genesis.failover.app.coordinator import FailoverCoordinator
    from genesis.failover.app.dns_manager import DNSManager
    from genesis.failover.app.health import HealthCheck, HealthChecker
    from genesis.failover.domain.config import FailoverConfig, load_config
    from genesis.failover.domain.dns.propagation import verify_dns_propagation


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'genesis.failover' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

"""genesis.failover: automatic and manual failover between primary and backup infrastructure.

The seed document's Python API::

    from genesis.failover import FailoverCoordinator, HealthChecker, DNSManager, HealthCheck
"""

from genesis.failover.config import FailoverConfig, load_config
from genesis.failover.coordinator import FailoverCoordinator
from genesis.failover.dns.manager import DNSManager
from genesis.failover.dns.propagation import verify_dns_propagation
from genesis.failover.health import HealthCheck, HealthChecker

__all__ = [
    "DNSManager",
    "FailoverConfig",
    "FailoverCoordinator",
    "HealthCheck",
    "HealthChecker",
    "load_config",
    "verify_dns_propagation",
]

"""Thin Temporal activities over the domain in ``genesis.failover``."""

from activities.dns import DnsActivities
from activities.hooks import HookActivities
from activities.probes import ProbeActivities

__all__ = ["DnsActivities", "HookActivities", "ProbeActivities"]

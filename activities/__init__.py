"""Thin Temporal activities over the domain in ``genesis.failover``."""

from activities.dns import DnsActivities
from activities.gates import GateActivities
from activities.hooks import HookActivities
from activities.notify import NotifyActivities
from activities.probes import ProbeActivities

__all__ = [
    "DnsActivities",
    "GateActivities",
    "HookActivities",
    "NotifyActivities",
    "ProbeActivities",
]

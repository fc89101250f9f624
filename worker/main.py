"""Build and run the worker, and make sure the site's monitor workflow is running.

Secrets are read from the environment here, once, into provider clients; workflows only ever see
the non-secret plan.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities import DnsActivities, HookActivities, ProbeActivities
from genesis.failover.config import FailoverConfig
from genesis.failover.dns import DNSProvider, build_provider
from genesis.failover.hooks import HookRegistry
from genesis.failover.plan import MonitorInput, MonitorPlan, build_monitor_plan
from workflows.failover import FailoverWorkflow
from workflows.monitor import MonitorWorkflow

log = logging.getLogger("genesis.failover.worker")

WORKFLOWS: Sequence[type] = (MonitorWorkflow, FailoverWorkflow)


async def connect(address: str, namespace: str) -> Client:
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter
    )


def build_worker(
    client: Client,
    config: FailoverConfig,
    *,
    hooks: HookRegistry,
    provider: DNSProvider | None = None,
    task_queue: str | None = None,
) -> Worker:
    provider = provider or build_provider(config.dns, os.environ)
    probes = ProbeActivities()
    dns = DnsActivities(provider)
    hook_acts = HookActivities(hooks)
    return Worker(
        client,
        task_queue=task_queue or config.temporal.task_queue,
        workflows=list(WORKFLOWS),
        activities=[
            probes.probe_checks,
            dns.switch_dns,
            dns.verify_propagation,
            hook_acts.run_hook,
        ],
        # Sync hooks run in threads inside the async activity (asyncio.to_thread).
        activity_executor=ThreadPoolExecutor(max_workers=8),
    )


async def ensure_monitor(client: Client, plan: MonitorPlan) -> WorkflowHandle:
    """Start the site's monitor unless it already runs; a running one gets the current plan.

    Idempotent: any number of workers may call it at start (USE_EXISTING conflict policy).
    """
    wid = f"failover-monitor-{plan.site}"
    handle = await client.start_workflow(
        MonitorWorkflow.run,
        MonitorInput(plan=plan),
        id=wid,
        task_queue=plan.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        static_summary=f"Monitor {plan.site}: {plan.primary_ip} (primary) / {plan.backup_ip} (backup)",
    )
    await handle.signal(MonitorWorkflow.apply_plan, plan)
    return handle


async def run_worker(
    config: FailoverConfig,
    *,
    client: Client | None = None,
    hooks: HookRegistry | None = None,
    start_monitor: bool = True,
    stop: asyncio.Event | None = None,
    plan: MonitorPlan | None = None,
) -> None:
    """Run until ``stop`` is set (or forever). Hooks from the config are imported here."""
    registry = hooks or HookRegistry()
    if hooks is None:
        registry.add_config(config.hooks)
    client = client or await connect(config.temporal.address, config.temporal.namespace)
    worker = build_worker(client, config, hooks=registry)
    async with worker:
        if start_monitor:
            handle = await ensure_monitor(client, plan or build_monitor_plan(config, registry))
            log.info("monitor %s running on %s", handle.id, config.temporal.task_queue)
        await (stop.wait() if stop else asyncio.Event().wait())

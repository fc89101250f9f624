"""Build and run the worker, and make sure the site's monitor workflow is running.

Secrets are read from the environment here, once, into provider clients; workflows only ever see
the non-secret plan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.worker import Worker

from activities import (
    DnsActivities,
    GateActivities,
    HookActivities,
    NotifyActivities,
    ProbeActivities,
)
from genesis.failover.domain.config import FailoverConfig
from genesis.failover.domain.dns import DNSProvider, DNSProviders, build_providers
from genesis.failover.domain.hooks import HookRegistry
from genesis.failover.domain.notify import Notifiers, build_notifiers
from genesis.failover.domain.plan import MonitorPlan, build_monitor_plan
from genesis.failover.domain.secrets import known_secrets
from genesis.failover.temporal.connection import (
    ConnectionOptions,
    connect_temporal,
    connection_options,
)
from genesis.failover.temporal.converter import data_converter
from genesis.failover.temporal.monitor_client import MonitorClient
from worker.attributes import checked_search_attributes
from worker.metrics import metrics_runtime
from workflows.failover import FailoverWorkflow
from workflows.monitor import MonitorWorkflow

log = logging.getLogger("genesis.failover.worker")

WORKFLOWS: Sequence[type] = (MonitorWorkflow, FailoverWorkflow)


# The SDK's own default is 0: SIGTERM would cancel a DNS switch or a hook mid-way. What is still
# running after the grace is cancelled and retried by Temporal on another worker (or this one,
# restarted): activities are idempotent for exactly this (docs/reliability.md).
DEFAULT_SHUTDOWN_GRACE = timedelta(seconds=30)


def build_worker(
    client: Client,
    *,
    task_queue: str,
    providers: DNSProviders | DNSProvider,
    hooks: HookRegistry,
    notifiers: Notifiers | None = None,
    shutdown_grace: timedelta = DEFAULT_SHUTDOWN_GRACE,
) -> Worker:
    probes = ProbeActivities()
    dns = DnsActivities(providers)
    hook_acts = HookActivities(hooks)
    gates = GateActivities()
    notify = NotifyActivities(notifiers or Notifiers())
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=[
            probes.probe_checks,
            dns.read_record,
            dns.switch_dns,
            dns.set_record_ttl,
            dns.verify_propagation,
            hook_acts.run_hook,
            gates.check_readiness,
            notify.send_notification,
        ],
        # In-flight activities get this long to finish when the worker is asked to stop.
        graceful_shutdown_timeout=shutdown_grace,
    )


async def ensure_monitor(client: Client, plan: MonitorPlan) -> MonitorClient:
    """Start the site's monitor unless it already runs; a running one gets the current plan.

    Idempotent: any number of workers may call it at start (USE_EXISTING conflict policy).
    """
    monitor = MonitorClient(client, plan.site)
    await monitor.ensure_running(plan)
    await _warn_if_plan_differs(monitor, plan)
    await monitor.apply_plan(plan)
    return monitor


def plan_differences(status: Mapping[str, Any], plan: MonitorPlan) -> list[str]:
    """What this worker's plan changes in the running monitor's: the IPs and the checks."""
    changes = [
        f"{key} {status.get(key)} -> {getattr(plan, key)}"
        for key in ("primary_ip", "backup_ip")
        if status.get(key) not in (None, getattr(plan, key))
    ]
    running = set((status.get("health") or {}).get("checks") or {})
    mine = {check.name for check in plan.checks}
    if running and running != mine:
        added, removed = sorted(mine - running), sorted(running - mine)
        changes.append(
            "checks" + (f" +{added}" if added else "") + (f" -{removed}" if removed else "")
        )
    return changes


async def _warn_if_plan_differs(monitor: MonitorClient, plan: MonitorPlan) -> None:
    """Every worker applies its own config's plan at start; the last one started wins. That is
    how a config change rolls out, and also how a worker left behind with an old file would
    silently put back an old backup IP: say so, loudly, in the log of the worker doing it."""
    try:
        status = await monitor.status()
    except Exception:
        return  # a monitor started just now has not run its first task: nothing to compare
    changes = plan_differences(status, plan)
    if changes:
        log.warning(
            "this worker's config changes the running monitor's plan: %s. Every worker of a "
            "site must run the same config; the last one started wins",
            "; ".join(changes),
        )


async def serve(
    client: Client,
    plan: MonitorPlan,
    *,
    providers: DNSProviders | DNSProvider,
    hooks: HookRegistry,
    stop: asyncio.Event,
    notifiers: Notifiers | None = None,
    start_monitor: bool = True,
    started: asyncio.Event | None = None,
    shutdown_grace: timedelta = DEFAULT_SHUTDOWN_GRACE,
) -> None:
    """Run a worker for ``plan`` until ``stop`` is set, then drain it: polling stops at once,
    activities in flight get ``shutdown_grace`` to finish."""
    plan = await checked_search_attributes(client, plan)
    worker = build_worker(
        client,
        task_queue=plan.task_queue,
        providers=providers,
        hooks=hooks,
        notifiers=notifiers,
        shutdown_grace=shutdown_grace,
    )
    async with worker:
        if start_monitor:
            monitor = await ensure_monitor(client, plan)
            log.info("monitor %s running on task queue %s", monitor.workflow_id, plan.task_queue)
        if started is not None:
            started.set()
        await stop.wait()
        log.info(
            "stopping: no new work taken; activities in flight get up to %.0f s to finish",
            shutdown_grace.total_seconds(),
        )
    log.info("stopped: every activity finished or was handed back to Temporal")


@dataclass
class SiteClients:
    """What the worker builds from the config and the environment's secrets, once."""

    hooks: HookRegistry
    notifiers: Notifiers
    providers: DNSProviders
    # The site's data converter: with [temporal.encryption], its keys are read here too.
    converter: DataConverter = pydantic_data_converter
    # TLS files read and checked, the API key read: [temporal.tls], [temporal] api_key_env.
    connection: ConnectionOptions = field(default_factory=lambda: ConnectionOptions(tls=False))

    async def aclose(self) -> None:
        await self.providers.aclose()
        await self.notifiers.aclose()


def build_site_clients(config: FailoverConfig, environ: Mapping[str, str]) -> SiteClients:
    """Hooks (imports, programs, webhook variables), notification channels and DNS providers,
    their secrets read from ``environ``. Everything that can be wrong with the config or the
    environment (a hook program missing, a secret unset) fails here, at start or in
    ``validate``, rather than during the first failover. Providers come last: they are the
    only ones that may hold something to close when a later step fails."""
    converter = data_converter(config.temporal.encryption, environ)
    connection = connection_options(config.temporal, environ)
    hooks = HookRegistry(secrets=known_secrets(config, environ))
    hooks.add_config(config.hooks, environ)
    notifiers = build_notifiers(config.notifications, environ)
    return SiteClients(
        hooks, notifiers, build_providers(config.dns, environ), converter, connection
    )


async def run_worker(
    config: FailoverConfig,
    *,
    stop: asyncio.Event,
    start_monitor: bool = True,
    started: asyncio.Event | None = None,
) -> None:
    """The production path: hooks imported from the config, secrets from the environment."""
    clients = build_site_clients(config, os.environ)
    try:
        client = await _unless_stopped(
            connect_temporal(
                config.temporal,
                clients.connection,
                runtime=metrics_runtime(config.metrics, site=config.site.name),
                converter=clients.converter,
                wait_seconds=config.temporal.connect_wait_seconds,
            ),
            stop,
        )
        if client is None:
            log.info("stopped before Temporal answered: nothing was running")
            return
        await serve(
            client,
            build_monitor_plan(config, clients.hooks),
            providers=clients.providers,
            hooks=clients.hooks,
            notifiers=clients.notifiers,
            stop=stop,
            start_monitor=start_monitor,
            started=started,
            shutdown_grace=timedelta(seconds=config.temporal.shutdown_grace_seconds),
        )
    finally:
        await clients.aclose()


async def _unless_stopped(
    connecting: Coroutine[Any, Any, Client], stop: asyncio.Event
) -> Client | None:
    """The client, or None when ``stop`` is set first: a SIGTERM while the worker waits for a
    server that is down must end the wait, not run into the process manager's SIGKILL."""
    connect = asyncio.ensure_future(connecting)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({connect, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if connect.done():
        return connect.result()
    connect.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await connect
    return None


async def _when_started(
    start: Callable[[asyncio.Event], Coroutine[Any, Any, None]],
) -> asyncio.Task[None]:
    """Run ``start(started)`` as a task and return it once the worker polls; if it dies first
    (no server, bad config), raise its error here instead of leaving a dead task behind."""
    started = asyncio.Event()
    task = asyncio.create_task(start(started))
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()
        raise RuntimeError("the worker stopped before it started")
    return task


async def run_worker_in_background(
    config: FailoverConfig, *, stop: asyncio.Event
) -> asyncio.Task[None]:
    """``run_worker`` as a task, returned once it runs (``dev``, tests, benchmarks)."""
    return await _when_started(lambda started: run_worker(config, stop=stop, started=started))


async def serve_in_background(
    client: Client,
    plan: MonitorPlan,
    *,
    providers: DNSProviders | DNSProvider,
    hooks: HookRegistry,
    stop: asyncio.Event,
    notifiers: Notifiers | None = None,
) -> asyncio.Task[None]:
    """``serve`` as a task, returned once it runs (the Python facade)."""
    return await _when_started(
        lambda started: serve(
            client,
            plan,
            providers=providers,
            hooks=hooks,
            notifiers=notifiers,
            stop=stop,
            started=started,
        )
    )

"""The seed's ``FailoverCoordinator``: the Python API, as a client of the workflows.

    coordinator = FailoverCoordinator(health_checker, dns_manager,
                                      notification_channels=["email", "slack", "pagerduty"],
                                      site="genesis", primary_ip="1.2.3.4", backup_ip="5.6.7.8",
                                      records=["genesis.example.com"], nameservers=[...])
    coordinator.register_pre_failover_hook(stop_trading)
    await coordinator.start_monitoring()         # worker in this process + the monitor workflow
    result = await coordinator.execute_failover(reason="Planned maintenance", dry_run=True)

Constructed without a server; ``start_monitoring`` connects. The registered hooks run in this
process's worker, as activities; the workflow only knows their names.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from genesis.failover.app.dns_manager import DNSManager
from genesis.failover.app.health import HealthChecker
from genesis.failover.domain.config import (
    FailoverConfig,
    GatesSettings,
    NotificationsSettings,
    PolicySettings,
    PropagationSettings,
    config_error_from,
)
from genesis.failover.domain.config.site import EncryptionSettings, TemporalSettings
from genesis.failover.domain.errors import ConfigError, PolicyRefusal
from genesis.failover.domain.hooks import HookFn, HookRegistry
from genesis.failover.domain.models import (
    Direction,
    NotificationRoutes,
    OperationRequest,
    RecordRef,
)
from genesis.failover.domain.notify import build_notifiers
from genesis.failover.domain.plan import MonitorPlan, build_monitor_plan
from genesis.failover.domain.state import SiteState
from genesis.failover.domain.status import build_status
from genesis.failover.temporal.connection import Client, connect_site
from genesis.failover.temporal.monitor_client import MonitorClient
from worker.main import serve_in_background

log = logging.getLogger("genesis.failover")


class FailoverCoordinator:
    def __init__(
        self,
        health_checker: HealthChecker,
        dns_manager: DNSManager,
        notification_channels: list[str] | None = None,
        *,
        site: str = "genesis",
        primary_ip: str | None = None,
        backup_ip: str | None = None,
        records: list[str | RecordRef] | None = None,
        nameservers: list[str] | None = None,
        policy: PolicySettings | dict[str, Any] | None = None,
        temporal_address: str | None = None,
        namespace: str | None = None,
        task_queue: str = "genesis-failover",
        propagation_timeout_seconds: float = 120,
        client: Client | None = None,
        status_refresh_seconds: float = 2.0,
        notifications: NotificationsSettings | dict[str, Any] | None = None,
        gates: GatesSettings | dict[str, Any] | None = None,
        encryption: EncryptionSettings | None = None,
        temporal: TemporalSettings | dict[str, Any] | None = None,
    ) -> None:
        self.health_checker = health_checker
        self.dns_manager = dns_manager
        self.notification_channels = list(notification_channels or [])
        # The seed names the channels; their settings (SMTP server, recipients, which
        # environment variables hold the Slack URL and the PagerDuty key) come from here.
        self.notifications: NotificationsSettings = _settings(
            NotificationsSettings,
            notifications,
            "notifications",
            channels=self.notification_channels,
        )
        self.gates: GatesSettings = _settings(GatesSettings, gates, "gates")
        self.site = site
        self.primary_ip = primary_ip
        self.backup_ip = backup_ip
        self.records = [
            r if isinstance(r, RecordRef) else RecordRef(domain=r) for r in records or []
        ]
        self.nameservers = list(nameservers or [])
        self.policy = (
            policy if isinstance(policy, PolicySettings) else PolicySettings(**(policy or {}))
        )
        self.temporal_address = temporal_address or os.environ.get(
            "TEMPORAL_ADDRESS", "localhost:7233"
        )
        self.namespace = namespace or os.environ.get("TEMPORAL_NAMESPACE", "default")
        # How to reach a real cluster ([temporal.tls], api_key_env, ...); the address and
        # namespace above win over the ones in it.
        self.temporal: TemporalSettings = _settings(
            TemporalSettings,
            temporal,
            "temporal",
            address=self.temporal_address,
            namespace=self.namespace,
            task_queue=task_queue,
        )
        self.task_queue = task_queue
        self.propagation_timeout_seconds = propagation_timeout_seconds
        self.hooks = HookRegistry()
        self._client = client
        # [temporal.encryption]: the facade's client encrypts and decrypts like the worker's.
        self.encryption = encryption
        self._refresh_every = status_refresh_seconds
        self._status: dict[str, Any] | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._plan: MonitorPlan | None = None

    @classmethod
    def from_config(
        cls, config: FailoverConfig, *, client: Client | None = None
    ) -> FailoverCoordinator:
        checker = HealthChecker(list(config.checks))
        coordinator = cls(
            checker,
            DNSManager.from_settings(config.dns),
            list(config.notifications.channels),
            site=config.site.name,
            primary_ip=config.site.primary_ip,
            backup_ip=config.site.backup_ip,
            nameservers=list(config.propagation.nameservers),
            policy=config.policy,
            temporal_address=config.temporal.address,
            namespace=config.temporal.namespace,
            task_queue=config.temporal.task_queue,
            client=client,
            notifications=config.notifications,
            gates=config.gates,
            encryption=config.temporal.encryption,
            temporal=config.temporal,
        )
        coordinator.hooks.add_config(config.hooks)
        coordinator._plan = build_monitor_plan(config)
        return coordinator

    # --- hooks ----------------------------------------------------------------------------------

    def register_pre_failover_hook(self, fn: HookFn, **options: Any) -> None:
        self.hooks.register("pre_failover", fn, **options)

    def register_post_failover_hook(self, fn: HookFn, **options: Any) -> None:
        self.hooks.register("post_failover", fn, **options)

    def register_pre_failback_hook(self, fn: HookFn, **options: Any) -> None:
        self.hooks.register("pre_failback", fn, **options)

    def register_post_failback_hook(self, fn: HookFn, **options: Any) -> None:
        self.hooks.register("post_failback", fn, **options)

    # --- monitoring -----------------------------------------------------------------------------

    def plan(self) -> MonitorPlan:
        specs = [s for phase in self.hooks.specs.values() for s in phase]
        if self._plan is not None:
            return self._plan.model_copy(update={"hooks": specs})
        missing = [
            name
            for name, value in (
                ("primary_ip", self.primary_ip),
                ("backup_ip", self.backup_ip),
                ("records", self.records),
                ("checks", self.health_checker.checks),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                f"FailoverCoordinator needs {', '.join(missing)} before monitoring",
                field=missing[0],
                value=None,
            )
        return MonitorPlan(
            site=self.site,
            primary_ip=str(self.primary_ip),
            backup_ip=str(self.backup_ip),
            policy=self.policy,
            checks=list(self.health_checker.checks),
            provider=self.dns_manager.provider.name,
            records=self.records,
            propagation=PropagationSettings(
                nameservers=self.nameservers, timeout_seconds=self.propagation_timeout_seconds
            ),
            hooks=specs,
            gates=self.gates,
            notifications=NotificationRoutes(
                routes=self.notifications.routes(),
                deadline_seconds=self.notifications.deadline_seconds,
            ),
            task_queue=self.task_queue,
        )

    async def client(self) -> Client:
        if self._client is None:
            temporal = self.temporal
            if self.encryption is not None:
                temporal = temporal.model_copy(update={"encryption": self.encryption})
            self._client = await connect_site(temporal, os.environ)
        return self._client

    async def monitor(self) -> MonitorClient:
        return MonitorClient(await self.client(), self.site)

    async def start_monitoring(self) -> None:
        """Run a worker in this process (probes, DNS, hooks) and make sure the monitor runs."""
        if self._tasks:
            return
        plan = self.plan()
        # A channel whose secret is missing fails here, before monitoring starts.
        notifiers = build_notifiers(self.notifications, os.environ)
        client = await self.client()
        self._stop.clear()
        worker = await serve_in_background(
            client,
            plan,
            providers=self.dns_manager.providers,
            hooks=self.hooks,
            notifiers=notifiers,
            stop=self._stop,
        )
        self._tasks = [worker, asyncio.create_task(self._refresh_loop())]
        await self.refresh_status()

    async def stop_monitoring(self) -> None:
        """Stop this process's worker. The monitor workflow keeps its state for the next one."""
        self._stop.set()
        for task in self._tasks:
            if not task.done() and task is not self._tasks[0]:
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _refresh_loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.refresh_status()
            except Exception as exc:  # status is best effort; the monitor itself is durable
                log.debug("status refresh failed: %s", exc)
            await asyncio.sleep(self._refresh_every)

    # --- operations -----------------------------------------------------------------------------

    async def execute_failover(
        self, reason: str, dry_run: bool = False, *, force: bool = False
    ) -> dict[str, Any]:
        return await self._request(
            "failover", OperationRequest(reason=reason, dry_run=dry_run, force=force)
        )

    async def execute_failback(
        self, dry_run: bool = False, *, force: bool = False, reason: str = "manual failback"
    ) -> dict[str, Any]:
        return await self._request(
            "failback", OperationRequest(reason=reason, dry_run=dry_run, force=force)
        )

    async def _request(self, direction: Direction, req: OperationRequest) -> dict[str, Any]:
        """The result dict; a refusal is a result too (the seed checks ``result["success"]``)."""
        monitor = await self.monitor()
        try:
            result = await monitor.request(direction, req)
        except PolicyRefusal as refused:
            return {
                "success": False,
                "outcome": "refused",
                "reason": refused.reason,
                "error": str(refused),
                "dry_run": req.dry_run,
                "duration_seconds": 0.0,
            }
        finally:
            with contextlib.suppress(Exception):
                await self.refresh_status()
        return result.model_dump(mode="json")

    # --- status ---------------------------------------------------------------------------------

    async def refresh_status(self) -> dict[str, Any]:
        """Ask the monitor workflow; ``get_status`` then returns this answer."""
        status = await (await self.monitor()).status()
        self._status = status
        self.health_checker.update_from_monitor(status["health"])
        return status

    def get_status(self) -> dict[str, Any]:
        """The latest status the facade knows (refreshed every few seconds while monitoring)."""
        if self._status is not None:
            return self._status
        state = SiteState(site=self.site)
        return build_status(
            state,
            self.policy,
            datetime.now(UTC),
            primary_ip=str(self.primary_ip),
            backup_ip=str(self.backup_ip),
        )

    async def get_history(self) -> list[dict[str, Any]]:
        """Past failovers and failbacks, newest last, from the monitor."""
        return await (await self.monitor()).history()


def _settings(model: type[Any], given: Any, name: str, **overrides: Any) -> Any:
    """A settings section given as a model or a dict, validated with the config's own rules;
    ``overrides`` that are set (the seed's ``notification_channels``) win."""
    data = given.model_dump() if isinstance(given, BaseModel) else dict(given or {})
    data.update({k: v for k, v in overrides.items() if v})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise config_error_from(exc, prefix=name) from None

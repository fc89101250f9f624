"""The workflow lab: MonitorWorkflow and FailoverWorkflow on a worker whose activities answer
from memory (a zone that counts writes, scripted probes and gates, a recording channel).

Real workflows, real DNS and hook activities over an in-memory zone (a fake provider, not a
patch); only the probe activity is scripted. ``lab`` runs on the time-skipping test server (10 s
intervals and a 5-minute cooldown pass in seconds of real time), ``real_lab`` on the dev server.
Test packages that use it import the fixtures into their conftest.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.dns import DnsActivities
from activities.hooks import HookActivities
from activities.notify import NotifyActivities
from activities.payloads import (
    ProbeBatchInput,
    ProbeBatchResult,
    ReadinessInput,
    ReadinessResult,
)
from genesis.failover.domain.config import (
    ALL_EVENTS,
    CheckConfig,
    PolicySettings,
    PropagationSettings,
)
from genesis.failover.domain.dns.base import DNSProvider, RecordValues
from genesis.failover.domain.errors import DNSNotFoundError, NotificationError
from genesis.failover.domain.hooks import HookRegistry
from genesis.failover.domain.models import (
    GateResult,
    NotificationEvent,
    NotificationRoutes,
    ProbeResult,
    RecordRef,
)
from genesis.failover.domain.notify import Notifiers
from genesis.failover.domain.plan import MonitorInput, MonitorPlan
from workflows.failover import FailoverWorkflow
from workflows.monitor import MonitorWorkflow

PRIMARY, BACKUP = "192.0.2.10", "192.0.2.20"
DOMAIN = "genesis.example.test"


class MemoryZone(DNSProvider):
    """A zone in memory that counts writes: the provider contract without a server."""

    name = "memory"

    def __init__(self, records: dict[str, str]) -> None:
        super().__init__()
        self.records = dict(records)
        self.writes = 0

    async def read_record(self, domain: str, record_type: str) -> RecordValues:
        if domain not in self.records:
            raise DNSNotFoundError(f"no {record_type} record {domain} in memory zone")
        return RecordValues(values=[self.records[domain]], ttl=60)

    async def _replace(
        self, domain: str, record_type: str, old_values: list[str], new_value: str, ttl: int
    ) -> str | None:
        self.writes += 1
        self.records[domain] = new_value
        return None


class ScriptedProbes:
    """The probe activity, answering from a dict the test flips: {check: healthy}."""

    def __init__(self) -> None:
        self.healthy: dict[str, bool] = {}
        self.calls = 0
        # Each batch: when the monitor scheduled it (workflow time) and the checks in it.
        self.batches: list[tuple[datetime, list[str]]] = []

    @activity.defn(name="probe_checks")
    async def probe_checks(self, inp: ProbeBatchInput) -> ProbeBatchResult:
        self.calls += 1
        scheduled = activity.info().current_attempt_scheduled_time
        self.batches.append((scheduled, [c.name for c in inp.checks]))
        now = datetime.now(UTC)
        return ProbeBatchResult(
            results=[
                ProbeResult(
                    check_name=c.name,
                    healthy=self.healthy.get(c.name, True),
                    latency_ms=1.0,
                    error=None if self.healthy.get(c.name, True) else "connection refused",
                    checked_at=now,
                )
                for c in inp.checks
            ]
        )


class ScriptedGates:
    """The readiness activity, answering from the same dict as the probes: the primary checks
    a failback asks once more are as healthy as the monitor's probes say."""

    def __init__(self, probes: ScriptedProbes) -> None:
        self._probes = probes
        self.calls: list[ReadinessInput] = []
        # A verdict here wins over the probes' (a primary that fails its last look).
        self.verdicts: dict[str, bool] = {}

    @activity.defn(name="check_readiness")
    async def check_readiness(self, inp: ReadinessInput) -> ReadinessResult:
        self.calls.append(inp)
        checks = inp.primary_checks if inp.direction == "failback" else inp.gates.backup_checks
        return ReadinessResult(
            gates=[
                GateResult(
                    name=c.name,
                    kind="primary_check" if inp.direction == "failback" else "backup_check",
                    ok=self.verdicts.get(c.name, self._probes.healthy.get(c.name, True)),
                    detail="scripted",
                )
                for c in checks
            ]
        )


class RecordingNotifier:
    """A notification channel that keeps what it is sent (the Notifier protocol, in memory)."""

    channel = "memo"

    def __init__(self) -> None:
        self.events: list[NotificationEvent] = []
        # Every attempt, in order, failed ones included; events of these kinds fail (retryably).
        self.attempts: list[str] = []
        self.failing: set[str] = set()

    async def send(self, event: NotificationEvent) -> str:
        self.attempts.append(event.kind)
        if event.kind in self.failing:
            raise NotificationError("memo channel is down", retryable=True)
        self.events.append(event)
        return "kept"

    async def aclose(self) -> None:
        return None

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


class Lab:
    def __init__(self, client: Client, task_queue: str, env: WorkflowEnvironment | None = None):
        self.client = client
        self._env = env
        self.task_queue = task_queue
        self.zone = MemoryZone({DOMAIN: PRIMARY})
        self.probes = ScriptedProbes()
        self.hooks = HookRegistry()
        self.hook_calls: list[str] = []
        self.gates = ScriptedGates(self.probes)
        self.notes = RecordingNotifier()

    @property
    def env(self) -> WorkflowEnvironment:
        assert self._env is not None, "this test runs on the real dev server: no time skipping"
        return self._env

    def plan(self, **policy: Any) -> MonitorPlan:
        return MonitorPlan(
            site=f"site-{uuid.uuid4().hex[:6]}",
            primary_ip=PRIMARY,
            backup_ip=BACKUP,
            policy=PolicySettings(**policy),
            checks=[
                CheckConfig(
                    name="api", check_type="tcp", target="127.0.0.1:9", interval_seconds=10
                ),
                CheckConfig(
                    name="cache",
                    check_type="tcp",
                    target="127.0.0.1:9",
                    interval_seconds=10,
                    critical=False,
                ),
            ],
            provider="memory",
            records=[RecordRef(domain=DOMAIN)],
            # The memory zone has no nameservers: its own write is the whole truth.
            propagation=PropagationSettings(query_nameservers=False),
            hooks=[s for specs in self.hooks.specs.values() for s in specs],
            notifications=NotificationRoutes(routes={"memo": list(ALL_EVENTS)}),
            task_queue=self.task_queue,
        )

    def worker(self) -> Worker:
        dns = DnsActivities(self.zone)
        return Worker(
            self.client,
            task_queue=self.task_queue,
            workflows=[MonitorWorkflow, FailoverWorkflow],
            activities=[
                self.probes.probe_checks,
                dns.read_record,
                dns.switch_dns,
                dns.set_record_ttl,
                dns.verify_propagation,
                HookActivities(self.hooks).run_hook,
                self.gates.check_readiness,
                NotifyActivities(Notifiers({"memo": self.notes})).send_notification,
            ],
        )

    async def start(self, plan: MonitorPlan) -> WorkflowHandle[Any, Any]:
        return await self.client.start_workflow(
            MonitorWorkflow.run,
            MonitorInput(plan=plan),
            id=f"failover-monitor-{plan.site}",
            task_queue=self.task_queue,
        )


@pytest.fixture
async def lab(time_skipping_env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[Lab]:
    yield Lab(time_skipping_env.client, task_queue, time_skipping_env)


@pytest.fixture
async def real_lab(dev_client: Client, task_queue: str) -> AsyncIterator[Lab]:
    """The same lab on the real dev server (real time), for tests about Temporal's own rules."""
    yield Lab(dev_client, task_queue)


async def until(
    handle: WorkflowHandle[Any, Any],
    env: WorkflowEnvironment,
    pred: Callable[[dict[str, Any]], bool],
    *,
    step: float = 5,
    limit: float = 900,
) -> dict[str, Any]:
    """Skip time in ``step``-second hops until the status satisfies ``pred``."""
    waited = 0.0
    while True:
        status = await handle.query("status")
        if pred(status):
            return status
        if waited >= limit:
            raise AssertionError(f"condition not met after {limit}s of workflow time: {status}")
        await env.sleep(step)
        waited += step

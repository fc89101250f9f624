"""FailoverWorkflow on its own, on the time-skipping test server: the DNS steps' orchestration.

The zone is a fake provider that keeps records, TTLs and the order of its writes: the provider
contract itself is tested against every real provider in tests/dns/. Here: planned failover
with TTL lowering (an hour-long TTL waited out in skipped time), a record somebody else moved
stopping it before any switch, a provider that never confirms, a proxied record, an API that
stays down past the retry budget.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import DnsActivities, HookActivities
from genesis.failover.domain.config import PropagationSettings
from genesis.failover.domain.dns import DNSProvider, RecordValues
from genesis.failover.domain.errors import DNSNotFoundError, DNSTransientError
from genesis.failover.domain.hooks import HookRegistry
from genesis.failover.domain.models import FailoverInput, FailoverResult, ProgressStep, RecordRef
from workflows.failover import FailoverWorkflow

PRIMARY, BACKUP, OTHER = "192.0.2.10", "192.0.2.20", "203.0.113.77"
WWW, API = "www.example.test", "api.example.test"


@dataclass
class FakeZone(DNSProvider):
    """Records as {name: (value, ttl)}; every write logged as (kind, name, value, ttl)."""

    records: dict[str, tuple[str, int]]
    proxied: bool = False
    change_ids: bool = False
    live: bool = True
    down: bool = False
    writes: list[tuple[str, str, str, int]] = field(default_factory=list)
    name = "fake"

    def __post_init__(self) -> None:
        super().__init__()

    async def read_record(self, domain: str, record_type: str) -> RecordValues:
        if self.down:
            raise DNSTransientError(f"fake API is down (HTTP 503) reading {domain}")
        if domain not in self.records:
            raise DNSNotFoundError(f"no {domain} in the fake zone")
        value, ttl = self.records[domain]
        return RecordValues([value], ttl, proxied=self.proxied)

    async def _replace(
        self, domain: str, record_type: str, old_values: list[str], new_value: str, ttl: int
    ) -> str | None:
        old_value, old_ttl = self.records[domain]
        kind = "ttl" if new_value == old_value else "switch"
        self.writes.append((kind, domain, new_value, ttl))
        self.records[domain] = (new_value, ttl)
        return f"change-{len(self.writes)}" if self.change_ids else None

    async def change_is_live(self, change_id: str) -> bool:
        return self.live


@pytest.fixture
async def env(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[WorkflowEnvironment]:
    yield time_skipping_env


async def run(
    env: WorkflowEnvironment, task_queue: str, zone: FakeZone, **changes: object
) -> FailoverResult:
    result, _ = await run_with_steps(env, task_queue, zone, **changes)
    return result


async def run_with_steps(
    env: WorkflowEnvironment, task_queue: str, zone: FakeZone, **changes: object
) -> tuple[FailoverResult, list[ProgressStep]]:
    """The result, and the steps as the `steps` query reports them once it finished."""
    inp = FailoverInput(
        site="genesis",
        direction="failover",
        trigger="manual",
        reason="test",
        primary_ip=PRIMARY,
        backup_ip=BACKUP,
        provider="fake",
        records=[RecordRef(domain=d, ttl=60) for d in zone.records],
        propagation=PropagationSettings(
            query_nameservers=False, timeout_seconds=1, poll_interval_seconds=0.1
        ),
    ).model_copy(update=changes)
    dns = DnsActivities(zone)
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[FailoverWorkflow],
        activities=[
            dns.switch_dns,
            dns.set_record_ttl,
            dns.verify_propagation,
            HookActivities(HookRegistry()).run_hook,
        ],
    ):
        handle = await env.client.start_workflow(
            FailoverWorkflow.run, inp, id=f"failover-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
        result = await handle.result()
        steps = await handle.query(FailoverWorkflow.steps)
    assert isinstance(result, FailoverResult)
    return result, steps


async def test_planned_failover_waits_out_an_hour_long_ttl_then_restores_it(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    zone = FakeZone({WWW: (PRIMARY, 3600)})
    result = await run(env, task_queue, zone, lower_ttl_seconds=30)
    assert result.outcome == "succeeded", result.error
    assert zone.writes == [
        ("ttl", WWW, PRIMARY, 30),  # lowered first, on the old value
        ("switch", WWW, BACKUP, 30),  # switched once resolvers can only hold 30 s
        ("ttl", WWW, BACKUP, 3600),  # and the old TTL put back
    ]
    assert result.duration_seconds >= 3600, "the old TTL was waited out (skipped time)"
    assert [(c.step, c.ttl_before, c.ttl_after) for c in result.ttl_changes] == [
        ("lower", 3600, 30),
        ("restore", 30, 3600),
    ]


async def test_a_ttl_already_low_is_not_written_nor_waited_for(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    zone = FakeZone({WWW: (PRIMARY, 30)})
    result = await run(env, task_queue, zone, lower_ttl_seconds=30)
    assert result.outcome == "succeeded" and result.duration_seconds < 60
    assert zone.writes == [("switch", WWW, BACKUP, 30)]


async def test_a_record_somebody_moved_stops_a_planned_failover_before_any_switch(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    zone = FakeZone({WWW: (PRIMARY, 600), API: (OTHER, 600)})
    result = await run(env, task_queue, zone, lower_ttl_seconds=30)
    assert result.outcome == "failed" and not result.records
    assert API in (result.error or "") and OTHER in (result.error or "")
    # Nothing switched; the TTL lowered on the good record was put back.
    assert zone.writes == [("ttl", WWW, PRIMARY, 30), ("ttl", WWW, PRIMARY, 600)]


async def test_a_dry_run_planned_failover_writes_nothing_and_waits_for_nothing(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    zone = FakeZone({WWW: (PRIMARY, 3600)})
    result = await run(env, task_queue, zone, lower_ttl_seconds=30, dry_run=True)
    assert result.outcome == "dry_run" and zone.writes == []
    assert result.duration_seconds < 60
    assert [(c.step, c.ttl_before, c.written) for c in result.ttl_changes] == [
        ("lower", 3600, False)
    ]


async def test_a_change_the_provider_never_confirms_ends_degraded_at_the_deadline(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    zone = FakeZone({WWW: (PRIMARY, 60)}, change_ids=True, live=False)
    result = await run(env, task_queue, zone)
    assert result.outcome == "degraded" and not result.success
    assert result.records[0].action == "switched"
    assert result.propagation == {f"{WWW}@fake": False}
    assert WWW in (result.error or "") and "not confirmed" in (result.error or "")


async def test_a_proxied_record_is_not_asked_of_nameservers_that_cannot_know(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    # Nothing listens on 127.0.0.1:9: asking it would leave the failover degraded.
    zone = FakeZone({WWW: (PRIMARY, 60)}, proxied=True)
    propagation = PropagationSettings(nameservers=["127.0.0.1:9"], timeout_seconds=1)
    result = await run(env, task_queue, zone, propagation=propagation)
    assert result.outcome == "succeeded", result.error
    assert result.records[0].proxied and result.propagation == {}


async def test_an_api_down_past_the_retry_budget_fails_the_record_and_says_so(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    zone = FakeZone({WWW: (PRIMARY, 60)}, down=True)
    result = await run(env, task_queue, zone)
    assert result.outcome == "failed"
    (switch,) = result.records
    assert switch.action == "failed" and "503" in (switch.error or "")
    assert zone.writes == []


async def test_each_step_says_whether_it_is_good_or_bad_news(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    # The CLI marks steps with these (a check mark or a cross) instead of guessing from text.
    zone = FakeZone({WWW: (PRIMARY, 60), API: (OTHER, 60)})
    result, steps = await run_with_steps(env, task_queue, zone)
    assert result.outcome == "failed"
    marks = {s.text.split(":")[0].split(" ")[0]: s.ok for s in steps}
    assert marks == {WWW: True, API: False, "failed": False}
    assert [s.text for s in steps] == [
        f"{WWW}: switched ({PRIMARY} -> {BACKUP})",
        f"{API}: refused ({OTHER} -> {BACKUP})",
        steps[2].text,
    ]
    assert steps[2].text.startswith("failed: ")

    zone = FakeZone({WWW: (PRIMARY, 60)}, change_ids=True, live=False)
    result, steps = await run_with_steps(env, task_queue, zone)
    assert result.outcome == "degraded"
    assert [(s.text.split(":")[0], s.ok) for s in steps] == [
        (WWW, True),
        ("propagation", False),
        ("degraded", False),
    ]

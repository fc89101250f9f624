"""A hook's max_attempts counts the hook's own failures, exactly.

The hook activity's Temporal retry policy allows a few more attempts than max_attempts, so an
attempt lost with its worker (tests/reliability/test_worker_crash.py) costs the hook nothing; the
activity itself counts the hook's failures, in its heartbeat details, and stops at
max_attempts. These tests hold it to that on the real dev server (which keeps the last
heartbeat of a failed attempt for the next one).
"""

from __future__ import annotations

import uuid

import pytest

from genesis.failover.domain.models import FailoverResult
from tests.workflows.lab import BACKUP, DOMAIN, PRIMARY, Lab
from workflows.failover import FailoverWorkflow


async def failover(lab: Lab) -> FailoverResult:
    plan = lab.plan()
    async with lab.worker():
        return await lab.client.execute_workflow(
            FailoverWorkflow.run,
            plan.operation_input("failover", "manual", "attempts", dry_run=False, force=False),
            id=f"failover-{plan.site}-{uuid.uuid4().hex[:6]}",
            task_queue=lab.task_queue,
        )


@pytest.mark.parametrize("max_attempts", [1, 2])
async def test_a_failing_pre_hook_runs_exactly_max_attempts_times_then_aborts(
    real_lab: Lab, max_attempts: int
) -> None:
    calls: list[int] = []

    def stop_trading() -> None:
        calls.append(1)
        raise RuntimeError("exchange unreachable")

    real_lab.hooks.register(
        "pre_failover", stop_trading, max_attempts=max_attempts, retry_interval_seconds=0.1
    )
    result = await failover(real_lab)
    assert result.outcome == "aborted" and "exchange unreachable" in (result.error or "")
    assert len(calls) == max_attempts
    assert real_lab.zone.records[DOMAIN] == PRIMARY and real_lab.zone.writes == 0


async def test_a_pre_hook_that_fails_twice_succeeds_on_its_third_attempt(real_lab: Lab) -> None:
    calls: list[int] = []

    def stop_trading() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError(f"not yet ({len(calls)})")
        return "stopped"

    real_lab.hooks.register(
        "pre_failover", stop_trading, max_attempts=3, retry_interval_seconds=0.1
    )
    result = await failover(real_lab)
    assert result.outcome == "succeeded", result.error
    assert len(calls) == 3 and result.hooks[0].output == "stopped"
    assert real_lab.zone.records[DOMAIN] == BACKUP and real_lab.zone.writes == 1

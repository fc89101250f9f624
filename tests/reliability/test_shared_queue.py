"""Two production workers for one site, on one task queue: what sharing it is safe for.

Two REAL worker processes (`genesis-failover -c FILE worker`, the same config file) against the
session dev server, on the crash lab's site (tests/reliability/crash_lab.py): the DigitalOcean
emulator counts DNS writes, command hooks wait for a release file, and a hook's parent process
says which worker runs it.

What makes sharing safe, and what each test shows:
- both workers "ensure" the monitor at start with the USE_EXISTING conflict policy: one monitor
  execution whichever starts first, however close together they start;
- any worker takes any task of the queue: when the one running a failover's hook is SIGKILLed,
  the other (no restart) runs the hook again once the heartbeat timeout has passed
  (at-least-once) and finishes the failover; the DNS switch is compare-and-set, written once;
- one worker stopped with SIGTERM: it drains and exits 0, the monitor's next probes run on the
  other within seconds (no timeout to wait for: a drained worker leaves nothing in flight), and a
  failover afterwards runs there.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import WorkflowExecutionStatus

from genesis.failover.domain.config import monitor_workflow_id
from tests.integration.conftest import wait_status
from tests.reliability.crash_lab import POST, PRE, CrashSite, parent_of
from tests.reliability.worker_process import WorkerProcess
from workflows.retries import HOOK_HEARTBEAT_TIMEOUT

pytestmark = pytest.mark.integration


async def poller_pids(site: CrashSite, task_queue: str, kind: TaskQueueType.ValueType) -> set[int]:
    """The processes polling the site's task queue for ``kind`` tasks, from their identities
    (the SDK's default, "pid@host")."""
    response = await site.client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=site.client.namespace,
            task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
            task_queue_type=kind,
        )
    )
    return {int(p.identity.partition("@")[0]) for p in response.pollers}


def runner_of(site: CrashSite, hook: str, nth: int) -> WorkerProcess:
    """The worker whose child the ``nth`` run (1-based) of ``hook`` is."""
    pid = [p for w, n, p in site.hook_lines() if (w, n) == ("start", hook)][nth - 1]
    parent = parent_of(pid)
    found = [w for w in site.workers if w.running() and w.pid == parent]
    assert found, f"run {nth} of {hook} (pid {pid}) is not a worker's child (parent {parent})"
    return found[0]


async def test_two_workers_started_together_run_one_monitor_and_both_poll(
    site_factory: Callable[..., contextlib.AbstractAsyncContextManager[CrashSite]],
    task_queue: str,
) -> None:
    async with site_factory(workers=2) as site:  # started at the same moment
        both = {w.pid for w in site.workers}
        assert len(both) == 2 and all(w.running() for w in site.workers)
        monitor_id = monitor_workflow_id(site.site)
        runs = [r async for r in site.client.list_workflows(f"WorkflowId = '{monitor_id}'")]
        assert len(runs) == 1, [(r.run_id, r.status) for r in runs]
        assert runs[0].status == WorkflowExecutionStatus.RUNNING
        # Each worker ensured the monitor (its log says so): the same execution for both.
        assert all("monitor " + monitor_id in w.log() for w in site.workers)

        for kind in (
            TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        ):
            assert await poller_pids(site, task_queue, kind) == both, kind


async def test_the_other_worker_finishes_a_failover_whose_worker_was_killed_in_a_hook(
    site_factory: Callable[..., contextlib.AbstractAsyncContextManager[CrashSite]],
) -> None:
    async with site_factory(workers=2) as site:  # started at the same moment
        site.release(POST)
        await site.start_failover()
        await site.until("the pre-hook running", lambda: site.count("start", PRE) == 1)
        doomed = runner_of(site, PRE, 1)
        survivor = next(w for w in site.workers if w is not doomed)
        doomed.kill()
        killed = time.monotonic()

        await site.until(
            "the hook run again on the other worker",
            lambda: site.count("start", PRE) == 2,
            within=HOOK_HEARTBEAT_TIMEOUT.total_seconds() + 15,
        )
        handover = time.monotonic() - killed
        print(f"\nhook handed to the other worker {handover:.1f} s after a SIGKILL")
        assert runner_of(site, PRE, 2) is survivor
        # Nobody tells the server a SIGKILLed worker is gone: the hook's heartbeat timeout
        # (10 s) does, plus the retry interval (1 s).
        assert handover < HOOK_HEARTBEAT_TIMEOUT.total_seconds() + 8
        site.release(PRE)
        result = await site.result()

        await site.check_final_state(result)  # succeeded, one DNS write, one failover run
        await site.wait_hooks_gone()
        assert not doomed.running() and survivor.running()
        assert site.count("done", PRE) == 1, "the dead worker's run was stopped, not finished"
        # Same host: the survivor stopped the run the dead worker had left behind first.
        assert "left running by an attempt whose worker was lost" in survivor.log()
        assert site.count("start", POST) == 1


async def primary_api(site: CrashSite) -> dict[str, Any]:
    health = await site.monitor.query("health")
    check: dict[str, Any] = health["checks"]["primary_api"]
    return check


async def test_with_one_of_two_workers_stopped_the_monitor_probes_on_and_fails_over(
    site_factory: Callable[..., contextlib.AbstractAsyncContextManager[CrashSite]],
) -> None:
    async with site_factory(workers=2) as site:  # started at the same moment
        leaving, staying = site.workers
        code, took = await leaving.terminate()
        assert code == 0, leaving.log()
        stopped = datetime.now(UTC)
        print(f"\none of two workers drained and exited in {took:.1f} s")
        before = await primary_api(site)

        # Probes every second: fresh results after the stop, from the remaining worker.
        status = await wait_status(
            site.monitor,
            lambda s: (
                s["health"]["checks"]["primary_api"]["total_probes"] >= before["total_probes"] + 2
                and datetime.fromisoformat(s["health"]["checks"]["primary_api"]["last_checked"])
                > stopped
            ),
            within=15,
        )
        after = status["health"]["checks"]["primary_api"]
        assert after["is_healthy"] and after["consecutive_failures"] == 0, after
        print(f"probing on: {after['total_probes'] - before['total_probes']} probes since")

        await site.start_failover()
        await site.until("the pre-hook running", lambda: site.count("start", PRE) == 1)
        assert runner_of(site, PRE, 1) is staying
        site.release(PRE)
        site.release(POST)
        result = await site.result(within=30)
        await site.check_final_state(result)
        assert site.count("start", PRE) == 1 and site.count("start", POST) == 1
        assert staying.running()

"""SIGTERM drains the production worker: in-flight activities finish, or are handed back.

The REAL production worker runs as a subprocess (`genesis-failover -c FILE worker`) against the
session dev server, on the crash lab's site (tests/reliability/crash_lab.py): the DigitalOcean
emulator counts DNS writes, command hooks wait for a release file, so the test decides when a
hook's activity ends.

What the worker does on SIGTERM (genesis/failover/app/cli/process.py, worker/main.py): it stops
polling at once; activities in flight get ``[temporal] shutdown_grace_seconds`` to finish; then
the process exits 0. What these tests measured about the rest (temporalio 1.35, server 1.32):
- an activity that finishes within the grace is reported complete before the process exits:
  the next worker does not run it again;
- one still running when the grace ends is cancelled (a command hook's process group is
  killed) and its attempt is reported FAILED at once ("Worker is shutting down and this activity
  did not complete in time"): Temporal schedules the retry after the retry interval, not after
  the heartbeat timeout, and the next worker to poll runs the hook again (at-least-once);
- a second SIGTERM during the drain exits 130 at once; the abandoned attempt is also reported
  failed (cancelled) before the exit, so it too is retried without waiting for a timeout.
Only a worker that dies without a word (SIGKILL, power cut: test_worker_crash.py) leaves its
activity to the heartbeat timeout (10 s for hooks and DNS switches).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable

import pytest
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import WorkflowExecutionStatus

from genesis.failover.domain.config import failover_workflow_id
from genesis.failover.domain.models import FailoverResult
from tests.reliability.crash_lab import POST, PRE, CrashSite, alive
from workflows.retries import HOOK_HEARTBEAT_TIMEOUT

pytestmark = pytest.mark.integration

# What worker/main.py and cli/process.py log at each step of a drain.
DRAINING = "SIGTERM: draining"
STOPPING = "stopping: no new work taken"
STOPPED = "stopped: every activity finished or was handed back"
# What the SDK (core) reports for an activity still running when the grace ends.
GRACE_ENDED = "Worker is shutting down and this activity did not complete in time"
# Time for an idle worker to stop, and for the process to start again (imports, connecting):
# generous, this machine runs other tests at the same time.
STOP_SLACK = 5.0


async def hook_activity(site: CrashSite) -> PendingActivityInfo | None:
    """The failover's pending hook activity as the server sees it (None: none pending)."""
    handle = site.client.get_workflow_handle(failover_workflow_id(site.site))
    described = await handle.describe()
    pending = [
        a
        for a in described.raw_description.pending_activities
        if a.activity_type.name == "run_hook"
    ]
    assert len(pending) <= 1, pending
    return pending[0] if pending else None


async def assert_handed_back_at_once(site: CrashSite, failure: str) -> None:
    """Right after the exit, the server already knows the attempt failed and has scheduled
    attempt 2 (it did not have to wait for the heartbeat timeout to find out)."""
    pending = await hook_activity(site)
    assert pending is not None, "the hook's activity is still to run"
    assert pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED, pending
    assert pending.attempt == 2, pending
    assert pending.last_failure.message == failure, pending.last_failure


async def restart_and_time_the_rerun(site: CrashSite) -> float:
    """Start a worker again; seconds from its start (polling) to the hook's second run."""
    await site.worker.restart()
    polling = time.monotonic()
    await site.until("the hook run again", lambda: site.count("start", PRE) == 2)
    return time.monotonic() - polling


async def rerun_and_complete(site: CrashSite) -> FailoverResult:
    """After a drain that handed the pre-hook back: a new worker reruns it at once (the retry
    interval, 1 s, not the heartbeat timeout, 10 s), and the failover completes, the hook
    started twice and finished once, the record written once."""
    rerun = await restart_and_time_the_rerun(site)
    print(f"hook run again {rerun:.1f} s after a new worker polled")
    assert rerun < HOOK_HEARTBEAT_TIMEOUT.total_seconds() / 2
    site.release(PRE)
    result = await site.result()
    await site.check_final_state(result)
    assert site.count("start", PRE) == 2 and site.count("done", PRE) == 1
    return result


async def test_sigterm_waits_for_a_hook_that_finishes_within_the_grace_then_exits_0(
    site_factory: Callable[..., contextlib.AbstractAsyncContextManager[CrashSite]],
) -> None:
    grace = 15.0
    async with site_factory(temporal={"shutdown_grace_seconds": grace}) as site:
        site.release(POST)
        await site.start_failover()
        await site.until("the pre-hook running", lambda: site.count("start", PRE) == 1)
        site.worker.signal(signal.SIGTERM)
        await site.until("the drain begun", lambda: STOPPING in site.worker.log(), within=5)
        await asyncio.sleep(0.5)
        assert site.worker.running(), "the worker exited with its hook still running"
        site.release(PRE)  # the hook finishes a moment after SIGTERM, well within the grace

        code, took = await site.worker.wait_exit(within=grace + STOP_SLACK)
        print(f"\nSIGTERM -> exit with a hook finishing 0.5 s in: {took:.1f} s")
        assert code == 0, site.worker.log()
        assert 0.5 <= took < grace, "it exited by itself once the hook was done, not before"
        log = site.worker.log()
        assert log.index(DRAINING) < log.index(STOPPING) < log.index(STOPPED)
        assert site.count("done", PRE) == 1
        # Reported complete before the exit: nothing of it is pending, nothing written yet.
        assert await hook_activity(site) is None
        assert site.harness.writes() == 0

        await site.worker.restart()
        result = await site.result()
        await site.check_final_state(result)  # succeeded, one DNS write, failed_over once
        assert site.count("start", PRE) == 1, "the completed hook was not run again"
        assert site.count("start", POST) == 1


async def test_a_hook_longer_than_the_grace_is_handed_back_at_once_and_run_again(
    site_factory: Callable[..., contextlib.AbstractAsyncContextManager[CrashSite]],
) -> None:
    grace = 1.0
    async with site_factory(temporal={"shutdown_grace_seconds": grace}) as site:
        site.release(POST)
        await site.start_failover()
        await site.until("the pre-hook running", lambda: site.count("start", PRE) == 1)
        first_run = site.pid_of("start", PRE)

        code, took = await site.worker.terminate(within=grace + STOP_SLACK)
        print(f"\nSIGTERM -> exit with a hook outliving a {grace:g} s grace: {took:.1f} s")
        assert code == 0, site.worker.log()
        assert grace <= took < grace + STOP_SLACK
        assert STOPPED in site.worker.log()
        # The activity was cancelled: it killed its hook's process group on the way out.
        assert not alive(first_run), "the cancelled hook's process was left running"
        assert site.count("done", PRE) == 0
        await assert_handed_back_at_once(site, GRACE_ENDED)

        result = await rerun_and_complete(site)
        assert site.count("start", POST) == 1
        assert [h.name for h in result.hooks] == [PRE, POST] and all(h.ok for h in result.hooks)


async def test_a_second_sigterm_stops_at_once_with_130_and_the_failover_completes_later(
    site_factory: Callable[..., contextlib.AbstractAsyncContextManager[CrashSite]],
) -> None:
    grace = 30.0  # long: the exit below cannot be the grace running out
    async with site_factory(temporal={"shutdown_grace_seconds": grace}) as site:
        site.release(POST)
        await site.start_failover()
        await site.until("the pre-hook running", lambda: site.count("start", PRE) == 1)
        first_run = site.pid_of("start", PRE)
        site.worker.signal(signal.SIGTERM)
        await site.until("the drain begun", lambda: STOPPING in site.worker.log(), within=5)
        site.worker.signal(signal.SIGTERM)

        code, took = await site.worker.wait_exit(within=STOP_SLACK)
        print(f"\nSIGTERM, SIGTERM -> exit: {took:.1f} s")
        assert code == 130, site.worker.log()
        assert "SIGTERM again: stopping now" in site.worker.log()
        assert STOPPED not in site.worker.log(), "it did not pretend to have drained"
        assert not alive(first_run), "the abandoned hook's process was left running"
        # Abandoned, but reported (as a cancellation, hence no message) before the exit.
        await assert_handed_back_at_once(site, "")

        await rerun_and_complete(site)


async def test_sigterm_with_nothing_in_flight_exits_0_promptly_and_says_it_drained(
    site_factory: Callable[..., contextlib.AbstractAsyncContextManager[CrashSite]],
) -> None:
    grace = 30.0
    async with site_factory(temporal={"shutdown_grace_seconds": grace}) as site:
        code, took = await site.worker.terminate(within=grace + STOP_SLACK)
        print(f"\nSIGTERM -> exit, idle: {took:.1f} s")
        assert code == 0, site.worker.log()
        # A probe batch (milliseconds) may have been in flight; nothing waits for the grace.
        assert took < STOP_SLACK
        log = site.worker.log()
        assert log.index(DRAINING) < log.index(STOPPING) < log.index(STOPPED)
        assert "up to 30 s to finish" in log, "the configured grace is the one used"
        assert "Traceback" not in log and "ERROR" not in log
        # The monitor lives in Temporal, not in the process: it waits for the next worker.
        described = await site.monitor.describe()
        assert described.status == WorkflowExecutionStatus.RUNNING
        assert site.harness.writes() == 0

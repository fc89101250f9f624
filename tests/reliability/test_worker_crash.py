"""The worker SIGKILLed at each step of a failover, then restarted: the failover completes.

The REAL production worker runs as a subprocess (`genesis-failover -c FILE worker`) against the
session dev server, with the DigitalOcean emulator (it counts the writes it accepts) as the DNS
API, command hooks that wait for a release file (tests/reliability/blocking_hook.py), and a fake
nameserver the test makes lag. Each test kills the worker at one step, starts a new one, and
checks: the failover succeeds, every record is at the backup and was written exactly once (the
switch is compare-and-set: a retried switch finds the record already moved), a hook that had
completed is not run again, the hook that was running is run again (at-least-once), and the
monitor says failed_over.

What becomes of the hook that was running: a command hook runs in its own session, so the
worker's death does not kill it. Its process is named in the activity's heartbeat, and the new
worker's attempt stops it (SIGTERM to its group, SIGKILL after 2 s) before running the hook
again from the start: at-least-once, never two runs at a time on one host. Hooks must be
idempotent. (On another host the leftover cannot be reached and runs on to its end.)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from tests.emulators.nameserver import answering
from tests.reliability.crash_lab import (
    BACKUP,
    POST,
    PRE,
    PRIMARY,
    CrashSite,
)


def report(step: str, killed: float) -> float:
    seconds = time.monotonic() - killed
    print(f"\nrecovery after a SIGKILL {step}: {seconds:.1f} s (kill -> failover result)")
    return seconds


async def test_a_worker_killed_in_a_pre_hook_is_replaced_and_the_hook_runs_again_to_success(
    site_factory: Callable[..., contextlib.AbstractAsyncContextManager[CrashSite]],
) -> None:
    async with site_factory() as site:
        site.release(POST)
        await site.start_failover()
        await site.until("the pre-hook running", lambda: site.count("start", PRE) == 1)
        assert site.harness.writes() == 0, "nothing is written while the pre-hook runs"
        # The new worker runs the hook again (at-least-once), having first stopped the one the
        # dead worker left running: the two never overlap.
        killed = await site.kill_during_hook(PRE)
        result = await site.result()
        report("during a pre-hook", killed)

        await site.check_final_state(result)
        await site.wait_hooks_gone()
        assert site.count("done", PRE) == 1, "only the new run got to its end"
        assert site.count("start", POST) == 1 and site.count("done", POST) == 1
        assert "left running by an attempt whose worker was lost" in site.worker.log()
        assert [h.name for h in result.hooks] == [PRE, POST] and all(h.ok for h in result.hooks)


async def test_a_worker_killed_in_a_post_hook_is_replaced_and_completed_steps_are_not_redone(
    site_factory: Callable[..., contextlib.AbstractAsyncContextManager[CrashSite]],
) -> None:
    async with site_factory() as site:
        site.release(PRE)
        await site.start_failover()
        await site.until("the post-hook running", lambda: site.count("start", POST) == 1)
        assert site.harness.writes() == 1
        killed = await site.kill_during_hook(POST)
        result = await site.result()
        report("during a post-hook", killed)

        await site.check_final_state(result)
        await site.wait_hooks_gone()
        assert site.count("start", PRE) == 1, "a completed hook is not run again"
        assert site.count("done", POST) == 1
        assert list(result.propagation.values()) == [True]


async def test_a_worker_killed_between_two_record_switches_leaves_each_record_written_once(
    site_factory: Callable[..., contextlib.AbstractAsyncContextManager[CrashSite]],
) -> None:
    async with site_factory(records=2) as site:
        site.release(PRE)
        site.release(POST)
        emulator = site.harness.emulator
        # The switches run concurrently: b's read is held at the API, so a is written first.
        held = emulator.hold_requests(
            lambda r: r.method == "GET" and r.query.get("name") == "b.example.test"
        )
        await site.start_failover()
        await site.until(
            "a written while b waits", lambda: site.harness.writes() == 1 and held.arrived.is_set()
        )
        site.worker.kill()
        killed = time.monotonic()
        held.release()  # the dead worker's read is answered to nobody
        await site.worker.restart()
        result = await site.result()
        report("between two record switches", killed)

        await site.check_final_state(result)
        assert site.count("start", PRE) == 1 and site.count("start", POST) == 1
        by_domain = {r.domain: r for r in result.records}
        assert by_domain["b.example.test"].after == [BACKUP]


async def test_a_worker_killed_during_propagation_is_replaced_without_a_second_write(
    site_factory: Callable[..., contextlib.AbstractAsyncContextManager[CrashSite]],
) -> None:
    async with site_factory(nameserver_answer=PRIMARY) as site:
        site.release(PRE)
        site.release(POST)
        await site.start_failover()
        # Written, and the nameserver asked at least twice (still answering the old address).
        await site.until(
            "propagation being polled",
            lambda: site.harness.writes() == 1 and site.nameserver.queries >= 2,
        )
        killed = await site.kill_and_restart()
        site.nameserver.answer = answering(BACKUP)  # the nameserver catches up
        result = await site.result()
        report("during propagation", killed)

        await site.check_final_state(result)
        assert list(result.propagation.values()) == [True]
        assert site.count("start", PRE) == 1 and site.count("start", POST) == 1

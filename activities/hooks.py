"""Hook activity: run one registered hook with the failover's context.

A hook's own failures and a lost worker are told apart. The spec's ``max_attempts`` counts the
hook's failures (a script exiting non-zero, a timeout); the count travels between attempts in the
heartbeat details, so an attempt lost with its worker (SIGKILL, a host reboot) is retried without
using one up. The hook that was running when its worker died is run again: at-least-once. A
command hook's process is named in the heartbeat too: the attempt after a lost one stops what is
left of it on this host first, so the two runs never overlap here.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from temporalio import activity

from activities._heartbeat import beating
from activities.payloads import HookInput
from genesis.failover.domain.errors import HookError
from genesis.failover.domain.hooks import HookRegistry, ProcessId, stop_leftover
from genesis.failover.domain.models import HookOutcome
from genesis.failover.temporal.errors import to_application_error


def last_heartbeat(details: Any) -> dict[str, Any]:
    """The details the previous attempt heartbeated last ({} for a first attempt)."""
    last = details[-1] if isinstance(details, list | tuple) and details else None
    return last if isinstance(last, dict) else {}


def failures_so_far(details: dict[str, Any]) -> int:
    count = details.get("failed_attempts")
    return count if isinstance(count, int) and count >= 0 else 0


def process_of(details: dict[str, Any]) -> ProcessId | None:
    try:
        return ProcessId(**details["process"])
    except (KeyError, TypeError):
        return None


class HookActivities:
    def __init__(self, registry: HookRegistry) -> None:
        self._registry = registry

    @activity.defn(name="run_hook")
    async def run_hook(self, inp: HookInput) -> HookOutcome:
        name = inp.spec.name
        before = last_heartbeat(activity.info().heartbeat_details)
        failed = failures_so_far(before)
        leftover = process_of(before)
        if leftover is not None and await stop_leftover(leftover):
            activity.logger.warning(
                "hook %s: stopped process %d, left running by an attempt whose worker was lost",
                name,
                leftover.pid,
            )
        process: ProcessId | None = None

        def started(pid: ProcessId | None) -> None:
            nonlocal process
            process = pid
            activity.heartbeat(beat())

        def beat() -> dict[str, Any]:
            return {
                "hook": name,
                "failed_attempts": failed,
                "process": asdict(process) if process else None,
            }

        try:
            return await beating(
                self._registry.run(inp.spec, inp.context, on_process=started), beat
            )
        except HookError as exc:
            failed += 1
            process = None  # it has exited
            # Sent with the failure: the next attempt reads it (servers >= 1.16 keep it).
            activity.heartbeat(beat())
            if exc.retryable and failed >= inp.spec.max_attempts:
                exc = HookError(str(exc), retryable=False)
            raise to_application_error(exc) from None

"""Hook activity: run one registered hook with the failover's context.

A hook's own failures and a lost worker are told apart. The spec's ``max_attempts`` counts the
hook's failures (a script exiting non-zero, a timeout); the count travels between attempts in the
heartbeat details, so an attempt lost with its worker (SIGKILL, a host reboot) is retried without
using one up. The hook that was running when its worker died is run again: at-least-once.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity

from activities._errors import to_application_error
from activities._heartbeat import beating
from activities.payloads import HookInput
from genesis.failover.errors import HookError
from genesis.failover.hooks import HookRegistry
from genesis.failover.models import HookOutcome


def failures_so_far(details: Any) -> int:
    """The hook failures earlier attempts recorded in their heartbeat details (0 if none)."""
    last = details[-1] if isinstance(details, list | tuple) and details else None
    if isinstance(last, dict):
        count = last.get("failed_attempts")
        if isinstance(count, int) and count >= 0:
            return count
    return 0


class HookActivities:
    def __init__(self, registry: HookRegistry) -> None:
        self._registry = registry

    @activity.defn(name="run_hook")
    async def run_hook(self, inp: HookInput) -> HookOutcome:
        failed = failures_so_far(activity.info().heartbeat_details)
        try:
            return await beating(
                self._registry.run(inp.spec, inp.context),
                lambda: {"hook": inp.spec.name, "failed_attempts": failed},
            )
        except HookError as exc:
            failed += 1
            # Sent with the failure: the next attempt reads it (servers >= 1.16 keep it).
            activity.heartbeat({"hook": inp.spec.name, "failed_attempts": failed})
            if exc.retryable and failed >= inp.spec.max_attempts:
                exc = HookError(str(exc), retryable=False)
            raise to_application_error(exc) from None

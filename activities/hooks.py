"""Hook activity: run one registered hook with the failover's context."""

from __future__ import annotations

from temporalio import activity

from activities._errors import to_application_error
from activities.payloads import HookInput
from genesis.failover.errors import HookError
from genesis.failover.hooks import HookRegistry
from genesis.failover.models import HookOutcome


class HookActivities:
    def __init__(self, registry: HookRegistry) -> None:
        self._registry = registry

    @activity.defn(name="run_hook")
    async def run_hook(self, inp: HookInput) -> HookOutcome:
        try:
            return await self._registry.run(inp.spec, inp.context)
        except HookError as exc:
            raise to_application_error(exc) from None

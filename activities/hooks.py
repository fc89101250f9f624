"""Hook activity: run one registered hook with the failover's context."""

from __future__ import annotations

from temporalio import activity

from activities._errors import to_application_error
from activities.payloads import HookInput
from genesis.failover.errors import HookError
from genesis.failover.hooks import HookContext, HookRegistry
from genesis.failover.models import HookOutcome


class HookActivities:
    def __init__(self, registry: HookRegistry) -> None:
        self._registry = registry

    @activity.defn(name="run_hook")
    async def run_hook(self, inp: HookInput) -> HookOutcome:
        context = HookContext(
            site=inp.site,
            direction=inp.direction,
            trigger=inp.trigger,
            reason=inp.reason,
            from_ip=inp.from_ip,
            to_ip=inp.to_ip,
            failover_id=inp.failover_id,
            dry_run=inp.dry_run,
        )
        try:
            return await self._registry.run(inp.spec, context)
        except HookError as exc:
            raise to_application_error(exc) from None

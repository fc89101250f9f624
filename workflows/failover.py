"""FailoverWorkflow: pre-hooks -> DNS switch -> propagation -> post-hooks -> result.

Deterministic orchestration only. Every step is an activity with its own timeout and retry
policy; what each step did is kept in the result, so a failover that stops half-way says exactly
which records moved. The same path runs for a dry run, with no writes and no side-effecting hooks.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.dns import DnsActivities
    from activities.hooks import HookActivities
    from activities.payloads import HookInput, PropagationInput, PropagationResult, SwitchDnsInput
    from genesis.failover.models import (
        FailoverInput,
        FailoverPlan,
        FailoverResult,
        HookContext,
        HookOutcome,
        HookSpec,
        Outcome,
        RecordRef,
        RecordSwitch,
    )

# A DNS write is a few round trips; the retry policy (not the timeout) rides out a flaky API.
SWITCH_START_TO_CLOSE = timedelta(seconds=30)
SWITCH_SCHEDULE_TO_CLOSE = timedelta(minutes=5)
SWITCH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)
PROPAGATION_HEARTBEAT = timedelta(seconds=10)
PROPAGATION_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
# Beyond a hook's own timeout (enforced in the worker), a margin for the activity round trip.
HOOK_MARGIN = timedelta(seconds=5)


def _cause(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or err)


@workflow.defn(name="FailoverWorkflow")
class FailoverWorkflow:
    def __init__(self) -> None:
        self._steps: list[str] = []

    @workflow.query(name="progress")
    def progress(self) -> list[str]:
        """The steps completed so far, for a CLI that shows a failover as it runs."""
        return list(self._steps)

    def _step(self, text: str) -> None:
        self._steps.append(text)
        workflow.set_current_details("\n".join(f"- {s}" for s in self._steps))

    @workflow.run
    async def run(self, inp: FailoverInput) -> FailoverResult:
        started = workflow.now()
        wid = workflow.info().workflow_id
        hooks: list[HookOutcome] = []
        records: list[RecordSwitch] = []
        propagation: dict[str, bool] = {}
        direction = inp.direction
        ctx = inp.hook_context(wid)

        def finish(outcome: Outcome, success: bool, error: str | None = None) -> FailoverResult:
            plan = None
            if inp.dry_run:
                plan = FailoverPlan(
                    records=records,
                    hooks=[h.name for h in inp.hooks if h.phase.endswith(direction)],
                    skipped_hooks=[h.name for h in hooks if h.skipped],
                    nameservers=inp.nameservers,
                )
            self._step(f"{outcome}" + (f": {error}" if error else ""))
            return inp.result(
                workflow_id=wid,
                outcome=outcome,
                success=success,
                started_at=started,
                finished_at=workflow.now(),
                error=error,
                records=records,
                propagation=propagation,
                hooks=hooks,
                plan=plan,
            )

        if inp.force:
            self._step("forced: policy gates skipped by the operator")

        # 1. Pre-hooks: a failing "abort" hook stops everything before any DNS change.
        for spec in self._hooks(inp, f"pre_{direction}"):
            outcome = await self._run_hook(spec, ctx)
            hooks.append(outcome)
            if not outcome.ok and spec.on_failure == "abort":
                await self._on_failure(inp, ctx, hooks)
                return finish("aborted", False, f"pre-hook {spec.name!r} failed: {outcome.error}")

        # 2. DNS: every record, compare-and-set, concurrently (one slow zone must not hold the
        #    others on the old IP).
        switched = await asyncio.gather(*(self._switch(inp, rec) for rec in inp.records))
        records.extend(switched)
        for rec in switched:
            self._step(
                f"{rec.domain}: {rec.action} ({', '.join(rec.before) or '?'} -> {rec.target})"
            )
        broken = [r for r in switched if r.action in ("refused", "failed")]
        if broken:
            error = "; ".join(f"{r.domain}: {r.error}" for r in broken)
            if inp.dry_run:
                return finish("dry_run", False, error)
            await self._on_failure(inp, ctx, hooks)
            return finish("failed", False, error)

        # 3. Propagation, on every configured nameserver (skipped in a dry run: nothing moved).
        if not inp.dry_run and inp.nameservers:
            results = await asyncio.gather(*(self._verify(inp, rec) for rec in switched))
            incomplete = []
            for rec, res in zip(switched, results, strict=True):
                for ns, ok in res.nameservers.items():
                    key = ns if len(switched) == 1 else f"{rec.domain}@{ns}"
                    propagation[key] = propagation.get(key, True) and ok
                if not res.complete:
                    incomplete.append(rec.domain)
            self._step(
                "propagation: "
                + ", ".join(f"{ns} {'ok' if ok else 'NOT YET'}" for ns, ok in propagation.items())
            )
        else:
            incomplete = []

        # 4. Post-hooks: the switch is done; a failing post-hook degrades, it does not undo.
        post_failed = []
        for spec in self._hooks(inp, f"post_{direction}"):
            outcome = await self._run_hook(spec, ctx)
            hooks.append(outcome)
            if not outcome.ok:
                post_failed.append(spec.name)
                if spec.on_failure == "abort":
                    break

        if inp.dry_run:
            return finish("dry_run", True)
        if incomplete:
            await self._on_failure(inp, ctx, hooks)
            return finish(
                "degraded",
                False,
                f"DNS written but not seen on every nameserver within "
                f"{inp.propagation_timeout_seconds:g}s: {', '.join(incomplete)}",
            )
        if post_failed:
            await self._on_failure(inp, ctx, hooks)
            return finish("degraded", True, f"post-hooks failed: {', '.join(post_failed)}")
        return finish("succeeded", True)

    # --- steps ----------------------------------------------------------------------------------

    @staticmethod
    def _hooks(inp: FailoverInput, phase: str) -> list[HookSpec]:
        return [h for h in inp.hooks if h.phase == phase]

    async def _switch(self, inp: FailoverInput, rec: RecordRef) -> RecordSwitch:
        return await workflow.execute_activity_method(
            DnsActivities.switch_dns,
            SwitchDnsInput(
                record=rec,
                from_ip=inp.from_ip,
                to_ip=inp.to_ip,
                force=inp.force,
                dry_run=inp.dry_run,
            ),
            start_to_close_timeout=SWITCH_START_TO_CLOSE,
            schedule_to_close_timeout=SWITCH_SCHEDULE_TO_CLOSE,
            retry_policy=SWITCH_RETRY,
            summary=f"switch {rec.domain} -> {inp.to_ip}",
        )

    async def _verify(self, inp: FailoverInput, rec: RecordSwitch) -> PropagationResult:
        return await workflow.execute_activity_method(
            DnsActivities.verify_propagation,
            PropagationInput(
                domain=rec.domain,
                record_type=rec.record_type,
                expected_ip=inp.to_ip,
                nameservers=inp.nameservers,
                deadline_seconds=inp.propagation_timeout_seconds,
                poll_seconds=inp.propagation_poll_seconds,
            ),
            start_to_close_timeout=timedelta(seconds=inp.propagation_timeout_seconds + 30),
            heartbeat_timeout=PROPAGATION_HEARTBEAT,
            retry_policy=PROPAGATION_RETRY,
            summary=f"verify {rec.domain} = {inp.to_ip} on {len(inp.nameservers)} nameservers",
        )

    async def _run_hook(self, spec: HookSpec, ctx: HookContext) -> HookOutcome:
        if ctx.dry_run and not spec.dry_run_safe:
            self._step(f"hook {spec.name}: would run ({spec.phase})")
            return HookOutcome(name=spec.name, phase=spec.phase, ok=True, skipped=True)
        try:
            outcome = await workflow.execute_activity_method(
                HookActivities.run_hook,
                HookInput(spec=spec, context=ctx),
                start_to_close_timeout=timedelta(seconds=spec.timeout_seconds) + HOOK_MARGIN,
                retry_policy=RetryPolicy(maximum_attempts=spec.max_attempts),
                summary=f"{spec.phase} hook {spec.name}",
            )
        except ActivityError as err:
            outcome = HookOutcome(name=spec.name, phase=spec.phase, ok=False, error=_cause(err))
        self._step(f"hook {spec.name}: {'ok' if outcome.ok else 'FAILED ' + (outcome.error or '')}")
        return outcome

    async def _on_failure(
        self, inp: FailoverInput, ctx: HookContext, hooks: list[HookOutcome]
    ) -> None:
        """Post-unsuccessful hooks: tell people and systems that a failover did not go well.
        Their own failures are recorded and never mask the original error."""
        for spec in self._hooks(inp, "on_failure"):
            hooks.append(await self._run_hook(spec, ctx))

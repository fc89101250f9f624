"""FailoverWorkflow: readiness gates -> pre-hooks -> [lower TTL, wait] -> DNS switch ->
propagation -> post-hooks -> [restore TTL] -> result, with people told along the way.

Deterministic orchestration only. Every step is an activity with its own timeout and retry
policy; what each step did is kept in the result, so a failover that stops half-way says exactly
which records moved. The same path runs for a dry run, with no writes, no side-effecting hooks
and no notifications.

Gates come first, before the pre-hooks: a backup that is not ready must stop the failover before
anything has been done (trading stopped, TTLs lowered), so that "aborted" means "nothing changed".
Notifications run beside the steps and never hold them; the result waits for them at the end (at
most the notification deadline) so it can say what was sent.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.dns import DnsActivities
    from activities.hooks import HookActivities
    from activities.payloads import (
        HookInput,
        PropagationInput,
        PropagationResult,
        SwitchDnsInput,
    )
    from genesis.failover.domain.models import (
        FailoverInput,
        FailoverPlan,
        FailoverResult,
        GateResult,
        HookContext,
        HookOutcome,
        HookSpec,
        Outcome,
        ProgressStep,
        RecordRef,
        RecordSwitch,
        TtlOutcome,
    )
    from genesis.failover.domain.notify import events

from workflows import attributes, gating, ttl
from workflows.notifying import Notifications
from workflows.retries import (
    HOOK_HEARTBEAT_TIMEOUT,
    SWITCH_HEARTBEAT_TIMEOUT,
    SWITCH_RETRY,
    SWITCH_SCHEDULE_TO_CLOSE,
    SWITCH_START_TO_CLOSE,
    cause,
    hook_retry,
)

PROPAGATION_HEARTBEAT = timedelta(seconds=10)
PROPAGATION_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
# Beyond a hook's own timeout (enforced in the worker), a margin for the activity round trip.
HOOK_MARGIN = timedelta(seconds=5)


@workflow.defn(name="FailoverWorkflow")
class FailoverWorkflow:
    def __init__(self) -> None:
        self._steps: list[ProgressStep] = []

    @workflow.query(name="progress")
    def progress(self) -> list[str]:
        """The steps completed so far, as text (`temporal workflow query --name progress`)."""
        return [s.text for s in self._steps]

    @workflow.query(name="steps")
    def steps(self) -> list[ProgressStep]:
        """The steps completed so far, each marked good or bad news, for the CLI's display."""
        return list(self._steps)

    def _step(self, text: str, ok: bool | None = None) -> None:
        """Record a step; ``ok`` None is neither good nor bad news (a dry run's "would run")."""
        self._steps.append(ProgressStep(text=text, ok=ok))
        workflow.set_current_details("\n".join(f"- {s.text}" for s in self._steps))

    @workflow.run
    async def run(self, inp: FailoverInput) -> FailoverResult:
        started = workflow.now()
        wid = workflow.info().workflow_id
        run_id = workflow.info().run_id
        # A dry run tells nobody: it changes nothing, and a drill must not page the on-call.
        notes = Notifications(inp.notifications)
        if not inp.dry_run:
            notes.send(events.operation_started(inp, workflow_id=wid, run_id=run_id, now=started))
        gates: list[GateResult] = []
        hooks: list[HookOutcome] = []
        records: list[RecordSwitch] = []
        propagation: dict[str, bool] = {}
        ttl_changes: list[TtlOutcome] = []
        direction = inp.direction
        ctx = inp.hook_context(wid)

        async def finish(
            outcome: Outcome, success: bool, error: str | None = None
        ) -> FailoverResult:
            # A planned failover puts the TTLs it lowered back, whatever happened since.
            restore_errors = await ttl.restore(inp, ttl_changes, self._step)
            if restore_errors:
                error = "; ".join([*([error] if error else []), *restore_errors])
                if outcome == "succeeded":
                    outcome = "degraded"
            plan = None
            if inp.dry_run:
                plan = FailoverPlan(
                    records=records,
                    hooks=[h.name for h in inp.hooks if h.phase.endswith(direction)],
                    skipped_hooks=[h.name for h in hooks if h.skipped],
                    nameservers=inp.propagation.nameservers,
                )
            good = outcome == "succeeded" or (outcome == "dry_run" and success)
            self._step(f"{outcome}" + (f": {error}" if error else ""), good)
            result = inp.result(
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
                ttl_changes=ttl_changes,
                gates=gates,
            )
            self._index_outcome(outcome)
            if not inp.dry_run:
                notes.send(events.operation_finished(result, run_id=run_id))
            sent = await notes.wait()
            failed = [n for n in sent if not n.ok]
            if sent:
                self._step(
                    f"notified: {len(sent) - len(failed)} of {len(sent)}"
                    + "".join(f"; {n.channel} {n.event} FAILED: {n.error}" for n in failed),
                    not failed,
                )
            return result.model_copy(update={"notifications": sent})

        # 0. Readiness gates, before anything with a side effect.
        would_abort: str | None = None
        if inp.force:
            gates.extend(gating.skipped(inp))
            # In the history itself (a memo event), not only in the result. Patched: a forced
            # failover recorded before gates existed replays without the memo it never wrote.
            if workflow.patched("gates-skipped-memo"):
                workflow.upsert_memo({"gates": gating.FORCED})
            workflow.logger.warning("%s: readiness gates skipped (forced by the operator)", wid)
            self._step("forced: policy and readiness gates skipped by the operator")
        else:
            gates.extend(await gating.ask(inp))
            for g in gates:
                self._step(f"gate {g.name}: {'ok' if g.ok else 'FAILED'} ({g.detail})", g.ok)
            gate_error = gating.describe_failed(gates)
            if gate_error and inp.dry_run:
                would_abort = f"would abort: {gate_error}"  # the dry run still shows the rest
            elif gate_error:
                await self._on_failure(inp, ctx, hooks)
                return await finish("aborted", False, gate_error)

        # 1. Pre-hooks: a failing "abort" hook stops everything before any DNS change.
        for spec in self._hooks(inp, f"pre_{direction}"):
            outcome = await self._run_hook(spec, ctx)
            hooks.append(outcome)
            if not outcome.ok and spec.on_failure == "abort":
                await self._on_failure(inp, ctx, hooks)
                return await finish(
                    "aborted", False, f"pre-hook {spec.name!r} failed: {outcome.error}"
                )

        # 1b. Planned failover: lower the TTLs and wait out the old ones, so that resolvers
        #     hold the old address for seconds, not the old TTL, once the switch is made.
        if inp.lower_ttl_seconds is not None:
            lowered = await ttl.lower(inp, ttl_changes, self._step)
            if isinstance(lowered, str):
                await self._on_failure(inp, ctx, hooks)
                return await finish("dry_run" if inp.dry_run else "failed", False, lowered)

        # 2. DNS: every record, compare-and-set, concurrently (one slow zone must not hold the
        #    others on the old IP).
        switched = await asyncio.gather(*(self._switch(inp, rec) for rec in inp.records))
        records.extend(switched)
        for rec in switched:
            self._step(
                f"{rec.domain}: {rec.action} ({', '.join(rec.before) or '?'} -> {rec.target})",
                rec.action not in ("refused", "failed"),
            )
        broken = [r for r in switched if r.action in ("refused", "failed")]
        if broken:
            error = "; ".join(f"{r.domain}: {r.error}" for r in broken)
            if inp.dry_run:
                return await finish("dry_run", False, error)
            await self._on_failure(inp, ctx, hooks)
            return await finish("failed", False, error)

        # 3. Propagation: the provider's word where it has one (Route53 INSYNC), and the
        #    nameservers asked directly (skipped in a dry run: nothing moved).
        incomplete: list[str] = []
        if not inp.dry_run:
            checks: list[tuple[RecordSwitch, PropagationInput]] = []
            for ref, rec in zip(inp.records, switched, strict=True):  # gather keeps the order
                check = self._verification(inp, ref, rec)
                if check is not None:
                    checks.append((rec, check))
            results = await asyncio.gather(*(self._verify(check) for _, check in checks))
            for (rec, _), res in zip(checks, results, strict=True):
                for ns, ok in res.nameservers.items():
                    key = ns if len(switched) == 1 else f"{rec.domain}@{ns}"
                    propagation[key] = propagation.get(key, True) and ok
                if res.provider_live is not None:
                    propagation[f"{rec.domain}@{rec.provider}"] = res.provider_live
                if not res.complete:
                    incomplete.append(rec.domain + (f" ({res.error})" if res.error else ""))
            if propagation:
                self._step(
                    "propagation: "
                    + ", ".join(
                        f"{k} {'ok' if ok else 'NOT YET'}" for k, ok in propagation.items()
                    ),
                    all(propagation.values()),
                )

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
            return await finish("dry_run", would_abort is None, would_abort)
        if incomplete:
            await self._on_failure(inp, ctx, hooks)
            return await finish(
                "degraded",
                False,
                f"DNS written but not confirmed everywhere within "
                f"{inp.propagation.timeout_seconds:g}s: {', '.join(incomplete)}",
            )
        if post_failed:
            await self._on_failure(inp, ctx, hooks)
            return await finish("degraded", True, f"post-hooks failed: {', '.join(post_failed)}")
        return await finish("succeeded", True)

    @staticmethod
    def _index_outcome(outcome: Outcome) -> None:
        """`FailoverOutcome='failed'` finds it. Only when the monitor started it indexed: the
        namespace then has the attributes (an unknown one would fail every workflow task)."""
        indexed = workflow.info().typed_search_attributes.get(attributes.SITE) is not None
        if indexed and workflow.patched(attributes.PATCH):
            workflow.upsert_search_attributes([attributes.OUTCOME.value_set(outcome)])

    # --- steps ----------------------------------------------------------------------------------

    @staticmethod
    def _hooks(inp: FailoverInput, phase: str) -> list[HookSpec]:
        return [h for h in inp.hooks if h.phase == phase]

    async def _switch(self, inp: FailoverInput, rec: RecordRef) -> RecordSwitch:
        if inp.lower_ttl_seconds is not None:
            # The new value goes out with the low TTL too: until the TTL is restored, a
            # failback (if the backup disappoints) reaches resolvers just as fast.
            rec = rec.model_copy(update={"ttl": inp.lower_ttl_seconds})
        try:
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
                heartbeat_timeout=SWITCH_HEARTBEAT_TIMEOUT,
                retry_policy=SWITCH_RETRY,
                summary=f"switch {rec.domain} -> {inp.to_ip}",
            )
        except ActivityError as err:
            # Retries ran out (an API down for minutes, a rate limit that never lifts). The
            # last write may or may not have landed: "failed" with no "after" says exactly that,
            # and the other records' results still stand.
            return RecordSwitch(
                domain=rec.domain,
                record_type=rec.record_type,
                provider=rec.provider,
                target=inp.to_ip,
                action="failed",
                error=cause(err),
            )

    def _verification(
        self, inp: FailoverInput, ref: RecordRef, rec: RecordSwitch
    ) -> PropagationInput | None:
        """How ``rec``'s change is confirmed, or None when nothing can confirm it."""
        nameservers, query = inp.verification_for(ref)
        if rec.proxied and query:
            # Nameservers answer a proxied record with the proxy's addresses: they cannot
            # confirm the origin moved. The provider's own read-back (the switch) is the proof.
            self._step(f"{rec.domain}: proxied by {rec.provider}; not asking nameservers")
            query = False
        if not query and rec.change_id is None:
            return None
        return PropagationInput(
            domain=rec.domain,
            record_type=rec.record_type,
            expected_ip=inp.to_ip,
            nameservers=nameservers,
            query_nameservers=query,
            resolver=inp.propagation.resolver,
            nameserver_port=inp.propagation.nameserver_port,
            provider=ref.provider,
            change_id=rec.change_id,
            deadline_seconds=inp.propagation.timeout_seconds,
            poll_seconds=inp.propagation.poll_interval_seconds,
        )

    async def _verify(self, check: PropagationInput) -> PropagationResult:
        where = []
        if check.change_id:
            where.append(f"{check.provider or 'provider'} change")
        if check.query_nameservers:
            where.append(
                f"{len(check.nameservers)} nameservers"
                if check.nameservers
                else "the zone's nameservers"
            )
        try:
            return await workflow.execute_activity_method(
                DnsActivities.verify_propagation,
                check,
                start_to_close_timeout=timedelta(seconds=check.deadline_seconds + 30),
                heartbeat_timeout=PROPAGATION_HEARTBEAT,
                retry_policy=PROPAGATION_RETRY,
                summary=f"verify {check.domain} = {check.expected_ip} on {' and '.join(where)}",
            )
        except ActivityError as err:
            return PropagationResult(complete=False, polls=0, error=cause(err))

    async def _run_hook(self, spec: HookSpec, ctx: HookContext) -> HookOutcome:
        if ctx.dry_run and not spec.dry_run_safe:
            self._step(f"hook {spec.name}: would run ({spec.phase})")
            return HookOutcome(name=spec.name, phase=spec.phase, ok=True, skipped=True)
        try:
            outcome = await workflow.execute_activity_method(
                HookActivities.run_hook,
                HookInput(spec=spec, context=ctx),
                start_to_close_timeout=timedelta(seconds=spec.timeout_seconds) + HOOK_MARGIN,
                # A lost worker is noticed by the heartbeat, well before the timeout above.
                heartbeat_timeout=HOOK_HEARTBEAT_TIMEOUT,
                retry_policy=hook_retry(spec.max_attempts, spec.retry_interval_seconds),
                summary=f"{spec.phase} hook {spec.name} ({spec.kind})",
            )
        except ActivityError as err:
            outcome = HookOutcome(name=spec.name, phase=spec.phase, ok=False, error=cause(err))
        self._step(
            f"hook {spec.name}: {'ok' if outcome.ok else 'FAILED ' + (outcome.error or '')}",
            outcome.ok,
        )
        return outcome

    async def _on_failure(
        self, inp: FailoverInput, ctx: HookContext, hooks: list[HookOutcome]
    ) -> None:
        """Post-unsuccessful hooks: tell people and systems that a failover did not go well.
        Their own failures are recorded and never mask the original error."""
        for spec in self._hooks(inp, "on_failure"):
            hooks.append(await self._run_hook(spec, ctx))

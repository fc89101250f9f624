"""FailoverWorkflow: readiness gates -> pre-hooks -> [lower TTL, wait] -> DNS switch ->
propagation -> post-hooks -> [restore TTL] -> result, with people told along the way.

Deterministic orchestration only. Every step is an activity with its own timeout and retry
policy; what each step found goes into one run state (``OperationRun``), and whether the run goes
on, and how it ended, are decided from it by pure domain functions (``domain/outcome.py``). The
same path runs for a dry run, with no writes, no side-effecting hooks and no notifications.

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
    from activities.payloads import HookInput, PropagationInput, PropagationResult, SwitchDnsInput
    from genesis.failover.domain.models import (
        Confirmation,
        FailoverInput,
        FailoverPlan,
        FailoverResult,
        HookOutcome,
        HookSpec,
        ProgressStep,
        RecordRef,
        RecordSwitch,
        StepKind,
    )
    from genesis.failover.domain.notify import events
    from genesis.failover.domain.outcome import OperationRun, Verdict, decide_outcome
    from genesis.failover.temporal import names

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


@workflow.defn(name=names.FAILOVER_WORKFLOW)
class FailoverWorkflow:
    @workflow.init
    def __init__(self, inp: FailoverInput) -> None:
        self._inp = inp
        self._run = OperationRun(
            dry_run=inp.dry_run,
            direction=inp.direction,
            propagation_timeout_seconds=inp.propagation.timeout_seconds,
        )
        self._steps: list[ProgressStep] = []
        self._started = workflow.now()
        self._ctx = inp.hook_context(workflow.info().workflow_id)
        # A dry run tells nobody: it changes nothing, and a drill must not page the on-call.
        self._notes = Notifications(inp.notifications)

    @workflow.query(name=names.PROGRESS_QUERY)
    def progress(self) -> list[str]:
        """The steps completed so far, as text (`temporal workflow query --name progress`)."""
        return [s.text for s in self._steps]

    @workflow.query(name=names.STEPS_QUERY)
    def steps(self) -> list[ProgressStep]:
        """The steps completed so far, each with its kind and facts, for the CLI's display."""
        return list(self._steps)

    @workflow.run
    async def run(self, inp: FailoverInput) -> FailoverResult:
        info = workflow.info()
        if not inp.dry_run:
            self._notes.send(
                events.operation_started(
                    inp, workflow_id=info.workflow_id, run_id=info.run_id, now=self._started
                )
            )
        for step in (
            self._ask_gates,
            self._pre_hooks,
            self._lower_ttls,
            self._switch_records,
            self._verify_propagation,
            self._post_hooks,
        ):
            await step()
            if self._run.stopped:
                break
        if decide_outcome(self._run).on_failure_hooks:
            await self._run_hooks("on_failure")
        # A planned failover puts the TTLs it lowered back, whatever happened since.
        await ttl.restore(inp, self._run.ttl_changes, self._ttl_step)
        return await self._finish(decide_outcome(self._run))

    # --- the steps, in order --------------------------------------------------------------------

    async def _ask_gates(self) -> None:
        """Readiness gates, before anything with a side effect (a forced run asks none)."""
        inp = self._inp
        if inp.force:
            self._run.gates.extend(gating.skipped(inp))
            # In the history itself (a memo event), not only in the result.
            workflow.upsert_memo({"gates": gating.FORCED})
            workflow.logger.warning(
                "%s: readiness gates skipped (forced by the operator)", workflow.info().workflow_id
            )
            self._step("forced", "forced: policy and readiness gates skipped by the operator")
            return
        self._run.gates.extend(await gating.ask(inp))
        for g in self._run.gates:
            self._step("gate", f"gate {g.name}: {'ok' if g.ok else 'FAILED'} ({g.detail})", g.ok)

    async def _pre_hooks(self) -> None:
        """A failing "abort" hook stops everything before any DNS change."""
        for spec in self._inp.hooks_of(f"pre_{self._inp.direction}"):
            if not (await self._run_hook(spec)).ok and spec.on_failure == "abort":
                self._run.aborted_by = spec.name
                return

    async def _lower_ttls(self) -> None:
        """Planned failover: lower the TTLs and wait out the old ones, so that resolvers hold
        the old address for seconds, not the old TTL, once the switch is made."""
        if self._inp.lower_ttl_seconds is not None:
            await ttl.lower(self._inp, self._run.ttl_changes, self._ttl_step)

    async def _switch_records(self) -> None:
        """Every record, compare-and-set, concurrently: one slow zone must not hold the others
        on the old IP."""
        switched = await asyncio.gather(*(self._switch(rec) for rec in self._inp.records))
        self._run.records.extend(switched)
        for rec in switched:
            before = ", ".join(rec.before) or "?"
            text = f"{rec.domain}: {rec.action} ({before} -> {rec.target})"
            self._step("record", text, not rec.broken)

    async def _verify_propagation(self) -> None:
        """The provider's word where it has one (Route53 INSYNC) and the nameservers asked
        directly; skipped in a dry run (nothing moved)."""
        if self._inp.dry_run:
            return
        checks = [
            (rec, check)
            for ref, rec in zip(self._inp.records, self._run.records, strict=True)
            if (check := self._verification(ref, rec)) is not None
        ]
        results = await asyncio.gather(*(self._verify(check) for _, check in checks))
        confirmations: list[Confirmation] = []
        for (rec, check), res in zip(checks, results, strict=True):
            confirmations += _confirmations(check, res, provider=rec.provider)
            if not res.complete:
                self._run.unconfirmed.append(rec.domain + (f" ({res.error})" if res.error else ""))
        propagation = self._run.propagation
        several = len(self._run.records) > 1
        for c in confirmations:
            key = f"{c.domain}@{c.source}" if several or c.by_provider else c.source
            propagation[key] = propagation.get(key, True) and c.ok
        if propagation:
            said = ", ".join(f"{k} {'ok' if ok else 'NOT YET'}" for k, ok in propagation.items())
            self._step(
                "propagation",
                f"propagation: {said}",
                all(propagation.values()),
                confirmations=confirmations,
            )

    async def _post_hooks(self) -> None:
        """The switch is done: a failing post-hook degrades, it does not undo."""
        for spec in self._inp.hooks_of(f"post_{self._inp.direction}"):
            if not (await self._run_hook(spec)).ok and spec.on_failure == "abort":
                return

    async def _run_hooks(self, phase: str) -> None:
        """The on_failure hooks: their own failures are recorded, never mask the first error."""
        for spec in self._inp.hooks_of(phase):
            await self._run_hook(spec)

    async def _finish(self, verdict: Verdict) -> FailoverResult:
        inp, run = self._inp, self._run
        good = verdict.outcome == "succeeded" or (verdict.outcome == "dry_run" and verdict.success)
        error = f": {verdict.error}" if verdict.error else ""
        self._step("outcome", f"{verdict.outcome}{error}", good)
        plan = None
        if inp.dry_run:
            plan = FailoverPlan(
                records=run.records,
                hooks=[h.name for h in inp.hooks if h.phase.endswith(inp.direction)],
                skipped_hooks=[h.name for h in run.hooks if h.skipped],
                nameservers=inp.propagation.nameservers,
            )
        info = workflow.info()
        result = inp.result(
            workflow_id=info.workflow_id,
            outcome=verdict.outcome,
            success=verdict.success,
            started_at=self._started,
            finished_at=workflow.now(),
            error=verdict.error,
            records=run.records,
            propagation=run.propagation,
            hooks=run.hooks,
            plan=plan,
            ttl_changes=run.ttl_changes,
            gates=run.gates,
        )
        self._index_outcome(verdict)
        if not inp.dry_run:
            self._notes.send(events.operation_finished(result, run_id=info.run_id))
        sent = await self._notes.wait()
        failed = [n for n in sent if not n.ok]
        if sent:
            self._step(
                "notified",
                f"notified: {len(sent) - len(failed)} of {len(sent)}"
                + "".join(f"; {n.channel} {n.event} FAILED: {n.error}" for n in failed),
                not failed,
            )
        return result.model_copy(update={"notifications": sent})

    # --- progress and indexing ------------------------------------------------------------------

    def _step(
        self,
        kind: StepKind,
        text: str,
        ok: bool | None = None,
        *,
        confirmations: list[Confirmation] | None = None,
    ) -> None:
        """Record a step; ``ok`` None is neither good nor bad news (a dry run's "would run")."""
        self._steps.append(
            ProgressStep(kind=kind, text=text, ok=ok, confirmations=confirmations or [])
        )
        workflow.set_current_details("\n".join(f"- {s.text}" for s in self._steps))

    def _ttl_step(self, text: str, ok: bool | None) -> None:
        self._step("ttl", text, ok)

    @staticmethod
    def _index_outcome(verdict: Verdict) -> None:
        """`FailoverOutcome='failed'` finds it. Only when the monitor started it indexed: the
        namespace then has the attributes (an unknown one would fail every workflow task)."""
        if workflow.info().typed_search_attributes.get(attributes.SITE) is not None:
            workflow.upsert_search_attributes([attributes.OUTCOME.value_set(verdict.outcome)])

    # --- one activity each ----------------------------------------------------------------------

    async def _switch(self, rec: RecordRef) -> RecordSwitch:
        inp = self._inp
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

    def _verification(self, ref: RecordRef, rec: RecordSwitch) -> PropagationInput | None:
        """How ``rec``'s change is confirmed, or None when nothing can confirm it."""
        inp = self._inp
        nameservers, query = inp.verification_for(ref)
        if rec.proxied and query:
            # Nameservers answer a proxied record with the proxy's addresses: they cannot
            # confirm the origin moved. The provider's own read-back (the switch) is the proof.
            self._step(
                "proxied", f"{rec.domain}: proxied by {rec.provider}; not asking nameservers"
            )
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
            asked = check.nameservers
            where.append(f"{len(asked)} nameservers" if asked else "the zone's nameservers")
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

    async def _run_hook(self, spec: HookSpec) -> HookOutcome:
        if self._ctx.dry_run and not spec.dry_run_safe:
            self._step("hook", f"hook {spec.name}: would run ({spec.phase})")
            outcome = HookOutcome(name=spec.name, phase=spec.phase, ok=True, skipped=True)
            self._run.hooks.append(outcome)
            return outcome
        try:
            outcome = await workflow.execute_activity_method(
                HookActivities.run_hook,
                HookInput(spec=spec, context=self._ctx),
                start_to_close_timeout=timedelta(seconds=spec.timeout_seconds) + HOOK_MARGIN,
                # A lost worker is noticed by the heartbeat, well before the timeout above.
                heartbeat_timeout=HOOK_HEARTBEAT_TIMEOUT,
                retry_policy=hook_retry(spec.max_attempts, spec.retry_interval_seconds),
                summary=f"{spec.phase} hook {spec.name} ({spec.kind})",
            )
        except ActivityError as err:
            outcome = HookOutcome(name=spec.name, phase=spec.phase, ok=False, error=cause(err))
        said = "ok" if outcome.ok else "FAILED " + (outcome.error or "")
        self._step("hook", f"hook {spec.name}: {said}", outcome.ok)
        self._run.hooks.append(outcome)
        return outcome


def _confirmations(
    check: PropagationInput, res: PropagationResult, *, provider: str
) -> list[Confirmation]:
    """Where ``check``'s record was (or was not) confirmed: each nameserver, then the provider."""
    found = [
        Confirmation(domain=check.domain, expected_ip=check.expected_ip, source=ns, ok=ok)
        for ns, ok in res.nameservers.items()
    ]
    if res.provider_live is not None:
        found.append(
            Confirmation(
                domain=check.domain,
                expected_ip=check.expected_ip,
                source=provider,
                by_provider=True,
                ok=res.provider_live,
            )
        )
    return found

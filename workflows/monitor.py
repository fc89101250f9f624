"""MonitorWorkflow (``failover-monitor-<site>``): probe, count, decide, fail over.

One long-running workflow per site with one state object (``SiteState``), in three parts:
- the loop: probes the checks as the probe schedule (``domain/schedule.py``) says they are due,
  counts their results, asks the policy (``domain/policy.py``) and starts what it allows;
- operations: a failover or failback is a child FailoverWorkflow (``workflows/operations.py``);
  its life is recorded by the state's own methods (claimed, started, finished);
- the handlers: operators' signals and updates, the worker's plan, the queries.
Every decision is a pure domain function; this class only schedules, records and reacts.
Continue-as-new carries the whole state once history grows past the plan's limit.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.dns import DnsActivities
    from activities.payloads import ProbeBatchInput, ReadRecordInput
    from activities.probes import ProbeActivities
    from genesis.failover.domain import policy
    from genesis.failover.domain.config import config_error_from
    from genesis.failover.domain.errors import PolicyRefusal
    from genesis.failover.domain.models import (
        Direction,
        FailoverResult,
        NotificationOutcome,
        OperationRequest,
    )
    from genesis.failover.domain.notify import events
    from genesis.failover.domain.plan import MonitorInput, MonitorPlan
    from genesis.failover.domain.probes import batch_seconds
    from genesis.failover.domain.schedule import Batch, ProbeSchedule
    from genesis.failover.domain.state import Decision, SiteState, record_key
    from genesis.failover.domain.status import (
        build_health,
        build_status,
        details_markdown,
        operation_summary,
        probe_summary,
    )
    from genesis.failover.temporal import names
    from genesis.failover.temporal.errors import to_application_error

from workflows import attributes, metrics
from workflows.notifying import Notifications
from workflows.operations import Operations, Refused


@workflow.defn(name=names.MONITOR_WORKFLOW)
class MonitorWorkflow:
    @workflow.init
    def __init__(self, inp: MonitorInput) -> None:
        self._plan: MonitorPlan = inp.plan
        self._state: SiteState = inp.state or SiteState(site=inp.plan.site)
        self._state.sync_checks(self._plan.checks)
        self._schedule = ProbeSchedule()
        # The loop's timer and when it fires (see _sleep_until_due).
        self._timer: asyncio.Task[None] | None = None
        self._timer_deadline: datetime | None = None
        self._wake = False
        self._bug: Exception | None = None
        self._reading = False
        self._indexed_state: str | None = None
        # Check and refusal events; failovers send their own from FailoverWorkflow.
        self._notes = Notifications(self._plan.notifications, on_outcome=self._notified)
        self._operations = Operations(self._state, on_change=self._changed)

    # --- the loop -------------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: MonitorInput) -> None:
        workflow.logger.info(
            "monitoring site %s (%d checks)", self._plan.site, len(self._plan.checks)
        )
        metrics.start_counters()
        if not self._state.records:
            # A new monitor (or one re-created on an empty server) asks DNS where traffic goes
            # instead of assuming "normal": a site already on its backup must not look healthy
            # to the policy, nor be "failed over" a second time.
            self._reading = True
            asyncio.create_task(self._read_records())
        while True:
            now = workflow.now()
            # Continue-as-new waits for a quiet moment: no operation running (the site keeps
            # being probed all through a failover), no probe or read in flight, no handler busy.
            draining = self._should_continue_as_new() and self._state.current is None
            if draining and self._idle():
                break
            if not draining and (batch := self._schedule.take_due(self._plan.checks, now)):
                asyncio.create_task(self._probe(batch))
            self._evaluate(now)
            self._show()
            self._wake = False
            if draining:
                # Nothing is due while draining: wait for the in-flight work, not a timer.
                await workflow.wait_condition(lambda: self._wake or self._idle())
            else:
                await self._sleep_until_due(now)
            if self._bug is not None:
                # A bug in a background task fails the workflow task (Temporal retries it and
                # the UI shows it) instead of silently wedging the monitor.
                raise self._bug
        self._state.runs += 1
        workflow.continue_as_new(MonitorInput(plan=self._plan, state=self._state))

    def _show(self) -> None:
        """What the Web UI shows of the site: current details, the FailoverState attribute (so
        `FailoverState='failed_over'` finds every site on its backup) and the metrics."""
        now = workflow.now()
        workflow.set_current_details(details_markdown(self._state, self._plan, now))
        if self._plan.search_attributes and self._indexed_state != self._state.state:
            workflow.upsert_search_attributes(
                [
                    attributes.SITE.value_set(self._plan.site),
                    attributes.STATE.value_set(self._state.state),
                ]
            )
            self._indexed_state = self._state.state
        metrics.observe_site(self._state, now, self._plan.policy)

    def _changed(self) -> None:
        """An operation moved the state: show it, and let the loop look again."""
        self._show()
        self._wake = True

    def _idle(self) -> bool:
        return (
            not self._schedule.probing
            and not self._reading
            and not self._notes.pending
            and self._state.current is None
            and workflow.all_handlers_finished()
        )

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._plan.max_history_events
        )

    async def _sleep_until_due(self, now: datetime) -> None:
        """Until the next check is due, or something wakes the loop (a probe's result, a
        signal). The timer outlives a wake-up while the next due time stays the same: every
        probe result would otherwise cancel it and start the same one again, two history
        events of the thirteen each probe batch costs."""
        timer, deadline = self._timer, self._schedule.next_deadline(now)
        if deadline is None:
            # Every check is being probed: its result wakes the loop, no timer needed.
            if timer is not None and not timer.done():
                timer.cancel()
            self._timer = None
            await workflow.wait_condition(lambda: self._wake)
            return
        if timer is None or timer.done() or deadline != self._timer_deadline:
            if timer is not None and not timer.done():
                timer.cancel()
            timer = asyncio.create_task(asyncio.sleep((deadline - now).total_seconds()))
            self._timer, self._timer_deadline = timer, deadline
        await workflow.wait_condition(lambda: self._wake or timer.done())

    # --- probes and reads -----------------------------------------------------------------------

    async def _probe(self, batch: Batch) -> None:
        checks = batch.checks
        try:
            result = await workflow.execute_activity_method(
                ProbeActivities.probe_checks,
                ProbeBatchInput(checks=checks, due_at=batch.due_at),
                # Probes bound themselves; the margin covers the activity round trip.
                start_to_close_timeout=timedelta(seconds=batch_seconds(checks) + 5),
                # A probe that waited longer than an interval for a worker is stale: drop it.
                schedule_to_start_timeout=timedelta(
                    seconds=max(min(c.interval_seconds for c in checks), 5)
                ),
                # A failed probe is data, not an error: nothing to retry.
                retry_policy=RetryPolicy(maximum_attempts=1),
                summary=probe_summary(checks),
            )
            now = workflow.now()
            for health in policy.count_probes(self._state, checks, result.results, now):
                state = "healthy" if health.is_healthy else "UNHEALTHY"
                workflow.logger.info("check %s is now %s", health.name, state)
                self._notes.send(events.check_changed(self._plan.site, health, now))
        except ActivityError as err:
            policy.count_lost(self._state, checks)
            workflow.logger.warning("probe batch lost: %s", err.cause or err)
        finally:
            self._schedule.done(checks)
            self._wake = True

    async def _read_records(self) -> None:
        plan = self._plan
        try:
            readings = await asyncio.gather(
                *(
                    workflow.execute_activity_method(
                        DnsActivities.read_record,
                        ReadRecordInput(record=rec),
                        start_to_close_timeout=timedelta(seconds=15),
                        schedule_to_close_timeout=timedelta(minutes=2),
                        summary=f"read {rec.domain} {rec.record_type} at {rec.provider}",
                    )
                    for rec in plan.records
                )
            )
            if self._state.current is None and not self._state.history:
                # An operation that started meanwhile knows better than this first read.
                seen = {
                    record_key(r.domain, r.record_type): None if r.error else r.values
                    for r in readings
                }
                self._state.learn_records(seen, plan.primary_ip, plan.backup_ip)
        except ActivityError as err:
            workflow.logger.warning("could not read the records at start: %s", err.cause or err)
        finally:
            self._reading = False
            self._wake = True

    # --- decisions ------------------------------------------------------------------------------

    def _evaluate(self, now: datetime) -> None:
        policy.prune_recent(self._state, now)
        if self._state.current is not None:
            return
        decision = policy.decide_automatic_failover(self._state, self._plan.policy, now)
        self._note(decision)
        if decision.allowed:
            self._start_automatic("failover", decision.message)
            return
        back = policy.decide_automatic_failback(self._state, self._plan.policy, now)
        if back.allowed:
            self._note(back)
            self._start_automatic("failback", "primary recovered")

    def _start_automatic(self, direction: Direction, reason: str) -> None:
        task = self._operations.begin(self._plan, direction, "automatic", reason)

        async def guarded() -> None:
            try:
                await task
            except Refused as refused:
                self._note(refused.decision)
            except Exception as bug:  # surfaced by the main loop as a workflow-task failure
                self._bug = bug

        asyncio.create_task(guarded())

    def _note(self, decision: Decision) -> None:
        if self._state.note_decision(decision):
            workflow.logger.warning("automatic failover refused: %s", decision.message)
            if decision.reason in events.NOTIFIED_REFUSALS:
                # Once per streak: the site is down and nothing will move by itself.
                self._notes.send(events.failover_refused(self._plan.site, decision))

    # --- operators' requests --------------------------------------------------------------------

    # Operator messages arrive raw (``object``) and are parsed here: with a typed parameter the
    # SDK drops a signal whose payload does not decode before any handler runs, so an operator's
    # typo would vanish without a trace. Parsed here, it is refused where it can be read: in
    # status (``last_refusal``, reason ``bad_payload``) and as the update's error.

    def _decide(
        self, direction: Direction, payload: object
    ) -> tuple[OperationRequest | None, Decision]:
        now = workflow.now()
        return policy.decide_request(self._state, self._plan.policy, now, direction, payload)

    async def _manual(self, direction: Direction, payload: object) -> FailoverResult:
        req, decision = self._decide(direction, payload)
        if req is None or not decision.allowed:
            raise Refused(decision)
        reason = req.reason if direction == "failover" else (req.reason or "manual failback")
        return await self._operations.begin(
            self._plan,
            direction,
            "drill" if req.drill else "manual",
            reason,
            dry_run=req.dry_run,
            force=req.force,
            lower_ttl_seconds=req.lower_ttl_seconds,
        )

    async def _manual_from_signal(self, direction: Direction, payload: object) -> None:
        # A signal cannot be answered: a refusal is kept in status for the operator to read.
        try:
            await self._manual(direction, payload)
        except Refused as refused:
            self._state.last_refusal = refused.decision
            workflow.logger.warning("manual %s refused: %s", direction, refused.decision.message)

    async def _manual_update(self, direction: Direction, payload: object) -> FailoverResult:
        try:
            return await self._manual(direction, payload)
        except Refused as refused:
            # Lost a race with another operation between validation and start.
            raise _rejection(refused.decision) from None

    def _reject_unless_allowed(self, direction: Direction, payload: object) -> None:
        _, decision = self._decide(direction, payload)
        if not decision.allowed:
            raise _rejection(decision)

    # The parameters are typed ``object`` (an OperationRequest, or its JSON) on purpose: see
    # above.

    @workflow.signal(name=names.MANUAL_FAILOVER_SIGNAL)
    async def manual_failover(self, req: object) -> None:
        await self._manual_from_signal("failover", req)

    @workflow.signal(name=names.MANUAL_FAILBACK_SIGNAL)
    async def manual_failback(self, req: object) -> None:
        await self._manual_from_signal("failback", req)

    @workflow.update(name=names.REQUEST_FAILOVER_UPDATE)
    async def request_failover(self, req: object) -> FailoverResult:
        return await self._manual_update("failover", req)

    @request_failover.validator
    def _validate_failover(self, req: object) -> None:
        self._reject_unless_allowed("failover", req)

    @workflow.update(name=names.REQUEST_FAILBACK_UPDATE)
    async def request_failback(self, req: object) -> FailoverResult:
        return await self._manual_update("failback", req)

    @request_failback.validator
    def _validate_failback(self, req: object) -> None:
        self._reject_unless_allowed("failback", req)

    @workflow.signal(name=names.APPLY_PLAN_SIGNAL)
    def apply_plan(self, payload: object) -> None:
        """A worker started with a changed config: take its plan, keep every check's counters.
        Raw for the same reason as the operator messages: a plan that does not parse is
        refused in status (``bad_plan``), not dropped unseen."""
        try:
            plan = (
                payload if isinstance(payload, MonitorPlan) else MonitorPlan.model_validate(payload)
            )
        except ValidationError as exc:
            self._refuse_plan(str(config_error_from(exc, subject="plan", root="plan")))
            return
        if plan.site != self._plan.site:
            self._refuse_plan(
                f"plan for site {plan.site!r} ignored: this monitor watches {self._plan.site!r}"
            )
            return
        self._plan = plan
        self._notes.reroute(plan.notifications)
        self._state.sync_checks(plan.checks)
        self._schedule.keep_only(self._state.checks)
        self._wake = True

    def _refuse_plan(self, message: str) -> None:
        workflow.logger.error("apply_plan refused: %s", message)
        self._state.last_refusal = Decision(
            allowed=False, reason="bad_plan", message=message[:600], at=workflow.now()
        )

    # --- queries --------------------------------------------------------------------------------

    @workflow.query(name=names.STATUS_QUERY)
    def status(self) -> dict[str, Any]:
        return build_status(
            self._state,
            self._plan.policy,
            workflow.now(),
            primary_ip=self._plan.primary_ip,
            backup_ip=self._plan.backup_ip,
        )

    @workflow.query(name=names.HEALTH_QUERY)
    def health(self) -> dict[str, Any]:
        return build_health(self._state)

    @workflow.query(name=names.HISTORY_QUERY)
    def history(self) -> list[dict[str, Any]]:
        return [operation_summary(op) for op in self._state.history]

    def _notified(self, outcome: NotificationOutcome) -> None:
        self._state.notifications.record(outcome)
        self._notes.forget_finished()
        self._wake = True


def _rejection(decision: Decision) -> Exception:
    """A refused update: its reason is the error's detail, its words the message."""
    message = f"refused ({decision.reason}): {decision.message}"
    return to_application_error(PolicyRefusal(message, reason=decision.reason))

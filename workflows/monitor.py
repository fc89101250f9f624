"""MonitorWorkflow (``failover-monitor-<site>``): probe, count, decide, fail over.

One long-running workflow per site with one state object (``SiteState``). Each check runs on its
own interval; checks that fall due together share one probe activity. Every decision is a pure
function in ``genesis.failover.domain.policy``; this class only schedules, records and reacts.
Continue-as-new carries the whole state once history grows past the plan's limit.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    WorkflowAlreadyStartedError,
)

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.dns import DnsActivities
    from activities.payloads import ProbeBatchInput, SwitchDnsInput
    from activities.probes import ProbeActivities
    from genesis.failover.domain import policy
    from genesis.failover.domain.config import CheckConfig, config_error_from, failover_workflow_id
    from genesis.failover.domain.errors import ConfigError
    from genesis.failover.domain.models import (
        Direction,
        FailoverResult,
        NotificationOutcome,
        OperationRequest,
        Trigger,
        operation_request,
    )
    from genesis.failover.domain.notify import events
    from genesis.failover.domain.plan import MonitorInput, MonitorPlan
    from genesis.failover.domain.probes import PROBES_PER_BATCH, batch_seconds, first_due_offset
    from genesis.failover.domain.state import (
        Decision,
        OperationRecord,
        SiteState,
        record_key,
    )
    from genesis.failover.domain.status import (
        build_health,
        build_status,
        details_markdown,
        operation_details,
        operation_summary,
    )
    from workflows.failover import FailoverWorkflow

from workflows import attributes, metrics
from workflows.notifying import Notifications

# Checks due within this window of each other share one probe activity.
BATCH_WINDOW = timedelta(milliseconds=50)
# Issue 6: a failed probe below the threshold restarts the failback window (policy.apply_probe).
BLIP_RESTARTS_WINDOW = "failback-window-restarts-on-any-failure"
# Issue 6: a record that could not be read is "unknown" in the map, never left out of it.
UNREAD_IS_UNKNOWN = "unread-record-is-unknown"
# Issue 7: a site with more checks than one batch spreads them over the interval.
SPREAD_LARGE_SITES = "spread-large-sites-over-the-interval"
# Issue 7: the loop keeps its timer across wake-ups while the next due time stays the same.
ONE_TIMER_PER_DEADLINE = "one-timer-per-deadline"


class _Refused(Exception):
    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.message)
        self.decision = decision


@workflow.defn(name="MonitorWorkflow")
class MonitorWorkflow:
    @workflow.init
    def __init__(self, inp: MonitorInput) -> None:
        self._plan: MonitorPlan = inp.plan
        self._state: SiteState = inp.state or SiteState(site=inp.plan.site)
        self._state.sync_checks(self._plan.checks)
        self._next_due: dict[str, datetime] = {}
        # The loop's timer and when it fires (see _sleep_until_due).
        self._timer: asyncio.Task[None] | None = None
        self._timer_deadline: datetime | None = None
        self._in_flight: set[str] = set()
        self._wake = False
        self._bug: Exception | None = None
        self._reading = False
        self._indexed_state: str | None = None
        # Check and refusal events; failovers send their own from FailoverWorkflow.
        self._notes = Notifications(self._plan.notifications, on_outcome=self._notified)

    # --- main loop ------------------------------------------------------------------------------

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
            asyncio.create_task(self._learn_records())
        while True:
            now = workflow.now()
            # Continue-as-new waits for a quiet moment: no operation running (the site keeps
            # being probed all through a failover), no probe or read in flight, no handler busy.
            draining = self._should_continue_as_new() and self._state.current is None
            if draining and self._idle():
                break
            if not draining:
                self._launch_due_probes(now)
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
        if self._indexing() and self._indexed_state != self._state.state:
            workflow.upsert_search_attributes(
                [
                    attributes.SITE.value_set(self._plan.site),
                    attributes.STATE.value_set(self._state.state),
                ]
            )
            self._indexed_state = self._state.state
        metrics.observe_site(self._state, now, self._plan.policy)

    def _indexing(self) -> bool:
        return self._plan.search_attributes and workflow.patched(attributes.PATCH)

    def _idle(self) -> bool:
        return (
            not self._in_flight
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
        signal). The timer outlives a wake-up when the next due time has not moved: every
        probe result used to cancel it and start the same one again, two history events of
        the thirteen each probe batch costs."""
        if not workflow.patched(ONE_TIMER_PER_DEADLINE):
            try:
                await workflow.wait_condition(lambda: self._wake, timeout=self._sleep_for(now))
            except TimeoutError:
                pass
            return
        timer = self._timer
        pending = self._pending_due()
        if not pending:
            # Every check is being probed: its result wakes the loop, no timer needed (the old
            # loop started a 60 s one here and cancelled it a moment later, every tick).
            if timer is not None and not timer.done():
                timer.cancel()
            self._timer = None
            await workflow.wait_condition(lambda: self._wake)
            return
        # As _sleep_for's, from the same list: at least a millisecond from now.
        deadline = max(min(pending), now + timedelta(milliseconds=1))
        if timer is None or timer.done() or deadline != self._timer_deadline:
            if timer is not None and not timer.done():
                timer.cancel()
            timer = asyncio.create_task(asyncio.sleep((deadline - now).total_seconds()))
            self._timer, self._timer_deadline = timer, deadline
        await workflow.wait_condition(lambda: self._wake or timer.done())

    def _pending_due(self) -> list[datetime]:
        return [t for name, t in self._next_due.items() if name not in self._in_flight]

    def _sleep_for(self, now: datetime) -> float:
        pending = self._pending_due()
        if not pending:
            return 60.0
        return max(0.001, (min(pending) - now).total_seconds())

    # --- probing --------------------------------------------------------------------------------

    def _launch_due_probes(self, now: datetime) -> None:
        due: list[CheckConfig] = []
        due_at: datetime | None = None
        for index, check in enumerate(self._plan.checks):
            if check.name in self._in_flight:
                continue
            when = self._next_due.get(check.name)
            if when is None:
                when = self._next_due[check.name] = self._first_due(index, check, now)
            if when <= now + BATCH_WINDOW:
                due.append(check)
                due_at = when if due_at is None else min(due_at, when)
                # Keep the cadence (no drift), but never try to catch up on missed ticks.
                nxt = when + timedelta(seconds=check.interval_seconds)
                self._next_due[check.name] = (
                    nxt if nxt > now else now + timedelta(seconds=check.interval_seconds)
                )
        if due:
            self._in_flight.update(c.name for c in due)
            asyncio.create_task(self._probe(due, due_at))

    def _first_due(self, index: int, check: CheckConfig, now: datetime) -> datetime:
        """Now, unless the site has more checks than one batch: then spread over the interval.
        Patched: a large site's monitor that started every check at once replays that way."""
        count = len(self._plan.checks)
        if count <= PROBES_PER_BATCH or not workflow.patched(SPREAD_LARGE_SITES):
            return now
        offset = first_due_offset(index, count, check.interval_seconds)
        return now + timedelta(seconds=offset)

    async def _probe(self, checks: list[CheckConfig], due_at: datetime | None = None) -> None:
        longest = batch_seconds(checks)
        shortest_interval = min(c.interval_seconds for c in checks)
        try:
            batch = await workflow.execute_activity_method(
                ProbeActivities.probe_checks,
                ProbeBatchInput(checks=checks, due_at=due_at),
                # Probes bound themselves; the margin covers the activity round trip.
                start_to_close_timeout=timedelta(seconds=longest + 5),
                # A probe that waited longer than an interval for a worker is stale: drop it.
                schedule_to_start_timeout=timedelta(seconds=max(shortest_interval, 5)),
                # A failed probe is data, not an error: nothing to retry.
                retry_policy=RetryPolicy(maximum_attempts=1),
                summary=_probe_summary(checks),
            )
            by_name = {c.name: c for c in checks}
            for result in batch.results:
                check = by_name.get(result.check_name)
                health = self._state.checks.get(result.check_name)
                if check is None or health is None:
                    continue  # the plan changed while the probe ran
                before = health.is_healthy
                after = policy.apply_probe(
                    health,
                    check,
                    result,
                    now=workflow.now(),
                    # A monitor that decided under the old rule (a blip kept the failback
                    # window) replays under it: otherwise a failback it started would vanish.
                    blip_restarts_window=workflow.patched(BLIP_RESTARTS_WINDOW),
                )
                self._state.checks[check.name] = after
                if before != after.is_healthy:
                    workflow.logger.info(
                        "check %s is now %s",
                        check.name,
                        "healthy" if after.is_healthy else "UNHEALTHY",
                    )
                    self._notes.send(events.check_changed(self._plan.site, after, workflow.now()))
        except ActivityError as err:
            # Our own trouble (no worker, lost task) is counted as neither success nor failure:
            # a dead worker must never fail a healthy site over.
            for c in checks:
                if c.name in self._state.checks:
                    self._state.checks[c.name].probes_lost += 1
            workflow.logger.warning("probe batch lost: %s", err.cause or err)
        finally:
            self._in_flight.difference_update(c.name for c in checks)
            self._wake = True

    async def _learn_records(self) -> None:
        try:
            reads = await asyncio.gather(
                *(
                    workflow.execute_activity_method(
                        DnsActivities.switch_dns,
                        SwitchDnsInput(
                            record=rec,
                            from_ip=self._plan.primary_ip,
                            to_ip=self._plan.backup_ip,
                            dry_run=True,
                        ),
                        start_to_close_timeout=timedelta(seconds=15),
                        schedule_to_close_timeout=timedelta(minutes=2),
                        summary=f"read {rec.domain} {rec.record_type} at {rec.provider}",
                    )
                    for rec in self._plan.records
                )
            )
            if self._state.current is None and not self._state.history:
                # An operation that started meanwhile knows better than this first read.
                self._state.learn_records(
                    list(reads),
                    self._plan.primary_ip,
                    self._plan.backup_ip,
                    unread_is_unknown=workflow.patched(UNREAD_IS_UNKNOWN),
                )
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
        self._record_decision(decision)
        if decision.allowed:
            self._start_automatic("failover", decision.message)
            return
        back = policy.decide_automatic_failback(self._state, self._plan.policy, now)
        if back.allowed:
            self._record_decision(back)
            self._start_automatic("failback", "primary recovered")

    def _start_automatic(self, direction: Direction, reason: str) -> None:
        task = self._begin(direction, "automatic", reason, dry_run=False, force=False)

        async def guarded() -> None:
            try:
                await task
            except _Refused as refused:
                self._record_decision(refused.decision)
            except Exception as bug:  # surfaced by the main loop as a workflow-task failure
                self._bug = bug

        asyncio.create_task(guarded())

    def _record_decision(self, decision: Decision) -> None:
        last = self._state.last_decision
        self._state.last_decision = decision
        if not decision.allowed and decision.reason not in ("healthy", "in_progress"):
            if last is None or last.reason != decision.reason:
                workflow.logger.warning("automatic failover refused: %s", decision.message)
                if decision.reason in events.NOTIFIED_REFUSALS:
                    # Once per streak: the site is down and nothing will move by itself.
                    self._notes.send(events.failover_refused(self._plan.site, decision))
            self._state.last_refusal = decision

    def _begin(
        self,
        direction: Direction,
        trigger: Trigger,
        reason: str,
        *,
        dry_run: bool,
        force: bool,
        lower_ttl_seconds: int | None = None,
    ) -> asyncio.Task[FailoverResult]:
        """Claim the site synchronously (no await before the claim), then run the child."""
        op = OperationRecord(
            workflow_id=failover_workflow_id(self._plan.site),
            direction=direction,
            trigger=trigger,
            reason=reason,
            dry_run=dry_run,
            started_at=workflow.now(),
        )
        self._state.current = op
        return asyncio.create_task(self._run_operation(op, force, lower_ttl_seconds))

    async def _run_operation(
        self, op: OperationRecord, force: bool, lower_ttl_seconds: int | None
    ) -> FailoverResult:
        # Failback's healthy window, from the monitor's own record (the workflow reports it with
        # its other gates; a forced failback reports it as skipped).
        prechecked = (
            [policy.healthy_window_gate(self._state, self._plan.policy, workflow.now())]
            if op.direction == "failback"
            else []
        )
        inp = self._plan.operation_input(
            op.direction,
            op.trigger,
            op.reason,
            dry_run=op.dry_run,
            force=force,
            lower_ttl_seconds=lower_ttl_seconds,
            prechecked_gates=prechecked,
        )
        counts = policy.operation_counts_toward_limits(op.trigger, op.dry_run)
        try:
            handle = await workflow.start_child_workflow(
                FailoverWorkflow.run,
                inp,
                id=op.workflow_id,
                task_queue=self._plan.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                # A failover already under way finishes even if the monitor is terminated:
                # half a DNS switch is worse than a finished one nobody is waiting for.
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                static_summary=(
                    f"{op.direction.capitalize()} {self._plan.site}: {inp.from_ip} -> {inp.to_ip}"
                    f" ({op.reason})"
                )[:400],
                static_details=operation_details(inp),
                search_attributes=(
                    attributes.for_operation(self._plan.site, op.direction, op.trigger)
                    if self._indexing()
                    else None
                ),
            )
        except WorkflowAlreadyStartedError:
            self._state.current = None
            raise _Refused(
                Decision(
                    allowed=False,
                    reason="in_progress",
                    message=f"another operation holds {op.workflow_id}",
                    at=workflow.now(),
                )
            ) from None
        op.run_id = handle.first_execution_run_id
        now = workflow.now()
        if counts:
            self._state.state = "failing_over" if op.direction == "failover" else "failing_back"
            if op.direction == "failover":
                self._state.recent_failovers.append(now)
                self._state.failover_count += 1
                self._state.last_failover = now
        self._show()
        try:
            result: FailoverResult = await handle
        except ChildWorkflowError as err:
            # The child died without a result (terminated, timed out): nobody knows which
            # records moved, and status must say so rather than guess.
            result = self._plan.lost_result(op, workflow.now(), str(err.cause or err))
            for rec in self._plan.records:
                self._state.records[record_key(rec.domain, rec.record_type)] = "unknown"
        self._finish(op, result, counts)
        return result

    def _finish(self, op: OperationRecord, result: FailoverResult, counts: bool) -> None:
        now = workflow.now()
        op.finished_at = now
        op.outcome = result.outcome
        op.success = result.success
        op.duration_seconds = result.duration_seconds
        op.records = result.records
        op.error = result.error
        # Reads done by a dry run are as true as a real run's: they update where records point.
        self._state.apply_result(result, unread_is_unknown=workflow.patched(UNREAD_IS_UNKNOWN))
        for note in result.notifications:
            self._state.notifications.record(note)
        if counts:
            self._state.last_change_at = now
        self._state.current = None
        self._state.remember(op)
        metrics.observe_operation(op, result)
        self._show()
        workflow.logger.info(
            "%s %s: %s%s",
            op.direction,
            op.workflow_id,
            result.outcome,
            f" ({result.error})" if result.error else "",
        )
        self._wake = True

    # --- operator messages ----------------------------------------------------------------------

    # Operator messages arrive raw (``object``) and are parsed here: with a typed parameter the
    # SDK drops a signal whose payload does not decode before any handler runs, so an operator's
    # typo would vanish without a trace. Parsed here, it is refused where it can be read: in
    # status (``last_refusal``, reason ``bad_payload``) and as the update's error.

    def _request(self, direction: Direction, payload: object) -> OperationRequest | Decision:
        try:
            return operation_request(payload, direction)
        except ConfigError as bad:
            return Decision(
                allowed=False, reason="bad_payload", message=str(bad), at=workflow.now()
            )

    def _decide_manual(self, direction: Direction, payload: object) -> Decision:
        req = self._request(direction, payload)
        if isinstance(req, Decision):
            return req
        return policy.decide_manual(
            self._state,
            self._plan.policy,
            workflow.now(),
            direction=direction,
            dry_run=req.dry_run,
            force=req.force,
        )

    async def _manual(self, direction: Direction, payload: object) -> FailoverResult:
        decision = self._decide_manual(direction, payload)
        if not decision.allowed:
            raise _Refused(decision)
        req = operation_request(payload, direction)
        reason = req.reason if direction == "failover" else (req.reason or "manual failback")
        return await self._begin(
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
        except _Refused as refused:
            self._state.last_refusal = refused.decision
            workflow.logger.warning("manual %s refused: %s", direction, refused.decision.message)

    # The parameters are typed ``object`` (an OperationRequest, or its JSON) on purpose: see
    # ``_request``.

    @workflow.signal(name="manual_failover")
    async def manual_failover(self, req: object) -> None:
        await self._manual_from_signal("failover", req)

    @workflow.signal(name="manual_failback")
    async def manual_failback(self, req: object) -> None:
        await self._manual_from_signal("failback", req)

    @workflow.update(name="request_failover")
    async def request_failover(self, req: object) -> FailoverResult:
        return await self._manual_update("failover", req)

    @request_failover.validator
    def _validate_failover(self, req: object) -> None:
        self._reject_unless_allowed("failover", req)

    @workflow.update(name="request_failback")
    async def request_failback(self, req: object) -> FailoverResult:
        return await self._manual_update("failback", req)

    @request_failback.validator
    def _validate_failback(self, req: object) -> None:
        self._reject_unless_allowed("failback", req)

    def _reject_unless_allowed(self, direction: Direction, payload: object) -> None:
        decision = self._decide_manual(direction, payload)
        if not decision.allowed:
            raise _rejection(decision)

    async def _manual_update(self, direction: Direction, payload: object) -> FailoverResult:
        try:
            return await self._manual(direction, payload)
        except _Refused as refused:
            # Lost a race with another operation between validation and start.
            raise _rejection(refused.decision) from None

    @workflow.signal(name="apply_plan")
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
        self._next_due = {k: v for k, v in self._next_due.items() if k in self._state.checks}
        self._wake = True

    def _refuse_plan(self, message: str) -> None:
        workflow.logger.error("apply_plan refused: %s", message)
        self._state.last_refusal = Decision(
            allowed=False, reason="bad_plan", message=message[:600], at=workflow.now()
        )

    @workflow.query(name="status")
    def status(self) -> dict[str, Any]:
        return build_status(
            self._state,
            self._plan.policy,
            workflow.now(),
            primary_ip=self._plan.primary_ip,
            backup_ip=self._plan.backup_ip,
        )

    @workflow.query(name="health")
    def health(self) -> dict[str, Any]:
        return build_health(self._state)

    @workflow.query(name="history")
    def history(self) -> list[dict[str, Any]]:
        return [operation_summary(op) for op in self._state.history]

    # --- helpers --------------------------------------------------------------------------------

    def _notified(self, outcome: NotificationOutcome) -> None:
        self._state.notifications.record(outcome)
        self._notes.forget_finished()
        self._wake = True


def _probe_summary(checks: list[CheckConfig]) -> str:
    """ "probe primary_api (http https://...)": which check, against what (a batch names its
    checks only: a hundred targets would not fit a line)."""
    if len(checks) == 1:
        c = checks[0]
        return f"probe {c.name} ({c.check_type} {c.target})"[:200]
    return f"probe {len(checks)} checks: {', '.join(c.name for c in checks)}"[:200]


def _rejection(decision: Decision) -> ApplicationError:
    return ApplicationError(
        f"refused ({decision.reason}): {decision.message}",
        decision.reason,
        type="PolicyRefusal",
        non_retryable=True,
    )

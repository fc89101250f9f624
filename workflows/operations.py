"""The monitor's failovers and failbacks: each a child FailoverWorkflow, one at a time per site.

The site is claimed synchronously, before anything awaits, so two requests handled in the same
workflow task cannot both start one; Temporal's workflow id (``failover-<site>-switch``) refuses
a second start even from outside the monitor. What each operation did is recorded by the state's
own methods (``SiteState.claim``, ``started``, ``finished``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ChildWorkflowError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from genesis.failover.domain import policy
    from genesis.failover.domain.config import failover_workflow_id
    from genesis.failover.domain.models import Direction, FailoverResult, Trigger
    from genesis.failover.domain.plan import MonitorPlan
    from genesis.failover.domain.state import Decision, OperationRecord, SiteState, record_key
    from genesis.failover.domain.status import operation_details
    from workflows.failover import FailoverWorkflow

from workflows import attributes, metrics


class Refused(Exception):
    """The operation did not start; ``decision`` says why (for status, or an update's error)."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.message)
        self.decision = decision


class Operations:
    """Starts a site's operations and records their life in its state. ``on_change`` is called
    whenever the state moved (started, finished), for the monitor to show it."""

    def __init__(self, state: SiteState, *, on_change: Callable[[], None]) -> None:
        self._state = state
        self._on_change = on_change

    def begin(
        self,
        plan: MonitorPlan,
        direction: Direction,
        trigger: Trigger,
        reason: str,
        *,
        dry_run: bool = False,
        force: bool = False,
        lower_ttl_seconds: int | None = None,
    ) -> asyncio.Task[FailoverResult]:
        """Claim the site now (no await before the claim), then run the child as a task."""
        op = OperationRecord(
            workflow_id=failover_workflow_id(plan.site),
            direction=direction,
            trigger=trigger,
            reason=reason,
            dry_run=dry_run,
            started_at=workflow.now(),
        )
        self._state.claim(op)
        return asyncio.create_task(self._run(plan, op, force, lower_ttl_seconds))

    async def _run(
        self, plan: MonitorPlan, op: OperationRecord, force: bool, lower_ttl_seconds: int | None
    ) -> FailoverResult:
        # Failback's healthy window, from the monitor's own record (the workflow reports it with
        # its other gates; a forced failback reports it as skipped).
        now = workflow.now()
        inp = plan.operation_input(
            op.direction,
            op.trigger,
            op.reason,
            dry_run=op.dry_run,
            force=force,
            lower_ttl_seconds=lower_ttl_seconds,
            prechecked_gates=(
                [policy.healthy_window_gate(self._state, plan.policy, now)]
                if op.direction == "failback"
                else []
            ),
        )
        try:
            handle = await workflow.start_child_workflow(
                FailoverWorkflow.run,
                inp,
                id=op.workflow_id,
                task_queue=plan.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                # A failover already under way finishes even if the monitor is terminated:
                # half a DNS switch is worse than a finished one nobody is waiting for.
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                static_summary=(
                    f"{op.direction.capitalize()} {plan.site}: {inp.from_ip} -> {inp.to_ip}"
                    f" ({op.reason})"
                )[:400],
                static_details=operation_details(inp),
                search_attributes=(
                    attributes.for_operation(plan.site, op.direction, op.trigger)
                    if plan.search_attributes
                    else None
                ),
            )
        except WorkflowAlreadyStartedError:
            self._state.release()
            raise Refused(
                Decision(
                    allowed=False,
                    reason="in_progress",
                    message=f"another operation holds {op.workflow_id}",
                    at=workflow.now(),
                )
            ) from None
        self._state.started(op, handle.first_execution_run_id, workflow.now())
        self._on_change()
        try:
            result: FailoverResult = await handle
        except ChildWorkflowError as err:
            # The child died without a result (terminated, timed out): nobody knows which
            # records moved, and status must say so rather than guess.
            result = plan.lost_result(op, workflow.now(), str(err.cause or err))
            self._state.records_unknown(record_key(r.domain, r.record_type) for r in plan.records)
        self._state.finished(op, result, workflow.now())
        metrics.observe_operation(op, result)
        workflow.logger.info(
            "%s %s: %s%s",
            op.direction,
            op.workflow_id,
            result.outcome,
            f" ({result.error})" if result.error else "",
        )
        self._on_change()
        return result

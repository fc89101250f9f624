"""The one client of a site's monitor workflow: its queries, updates and signals as methods.

The CLI, the Python facade and the worker talk to the monitor only through this class, so each
message is named once (``names``) and each failure is translated once:
- a refused update comes back as the domain's ``PolicyRefusal`` (its reason and words);
- a monitor that does not answer (never started, no worker on its task queue) as
  ``MonitorUnavailable``, which says what to start.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateHandle,
    WorkflowUpdateStage,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from genesis.failover.domain.config import monitor_workflow_id
from genesis.failover.domain.errors import MonitorUnavailable
from genesis.failover.domain.models import Direction, FailoverResult, OperationRequest
from genesis.failover.domain.plan import MonitorInput, MonitorPlan
from genesis.failover.domain.status import plan_details
from genesis.failover.temporal import names
from genesis.failover.temporal.errors import refusal_from

T = TypeVar("T")

UPDATES: dict[Direction, str] = {
    "failover": names.REQUEST_FAILOVER_UPDATE,
    "failback": names.REQUEST_FAILBACK_UPDATE,
}
SIGNALS: dict[Direction, str] = {
    "failover": names.MANUAL_FAILOVER_SIGNAL,
    "failback": names.MANUAL_FAILBACK_SIGNAL,
}


class MonitorClient:
    def __init__(self, client: Client, site: str) -> None:
        self.client = client
        self.site = site
        self.workflow_id = monitor_workflow_id(site)

    @property
    def handle(self) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(self.workflow_id)

    # --- queries --------------------------------------------------------------------------------

    async def status(self, *, rpc_timeout: timedelta | None = None) -> dict[str, Any]:
        """The seed's coordinator status plus health (``domain/status.py`` builds it)."""
        return await self._answer(self.handle.query(names.STATUS_QUERY, rpc_timeout=rpc_timeout))

    async def health(self) -> dict[str, Any]:
        return await self._answer(self.handle.query(names.HEALTH_QUERY))

    async def history(self) -> list[dict[str, Any]]:
        """Past failovers and failbacks, oldest first."""
        return await self._answer(self.handle.query(names.HISTORY_QUERY))

    # --- operations -----------------------------------------------------------------------------

    async def request(self, direction: Direction, req: OperationRequest) -> FailoverResult:
        """Run a failover or failback through the monitor; its result, or ``PolicyRefusal``."""
        return await self.result(await self.start_request(direction, req))

    async def start_request(
        self, direction: Direction, req: OperationRequest
    ) -> WorkflowUpdateHandle[FailoverResult]:
        """The update, once the monitor accepted it (a refusal raises ``PolicyRefusal`` here),
        for a caller that watches its progress before it asks for the ``result``."""
        try:
            return await self.handle.start_update(
                UPDATES[direction],
                req,
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                result_type=FailoverResult,
            )
        except WorkflowUpdateFailedError as exc:
            raise refusal_from(exc.cause) from None
        except RPCError as exc:
            raise self._unavailable(exc) from None

    async def send_request(self, direction: Direction, req: OperationRequest) -> None:
        """The signal form (`temporal workflow signal --name manual_failover`): nothing comes
        back; a refusal is kept in the monitor's status (``last_refusal``)."""
        await self._answer(self.handle.signal(SIGNALS[direction], req))

    async def result(self, update: WorkflowUpdateHandle[FailoverResult]) -> FailoverResult:
        try:
            return await update.result()
        except WorkflowUpdateFailedError as exc:
            # Lost a race with another operation between the validator and the start.
            raise refusal_from(exc.cause) from None
        except RPCError as exc:
            raise self._unavailable(exc) from None

    # --- the worker's side ----------------------------------------------------------------------

    async def ensure_running(self, plan: MonitorPlan) -> None:
        """Start the monitor unless it already runs (any number of workers may call this at
        once: USE_EXISTING), then hand it ``plan``: a running one takes the worker's config."""
        await self.client.start_workflow(
            names.MONITOR_WORKFLOW,
            MonitorInput(plan=plan),
            id=self.workflow_id,
            task_queue=plan.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            static_summary=(
                f"Monitor {plan.site}: primary {plan.primary_ip}, backup {plan.backup_ip}"
            ),
            static_details=plan_details(plan),
        )

    async def apply_plan(self, plan: MonitorPlan) -> None:
        await self._answer(self.handle.signal(names.APPLY_PLAN_SIGNAL, plan))

    # --- one translation of "the monitor did not answer" ----------------------------------------

    async def _answer(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except RPCError as exc:
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: RPCError) -> MonitorUnavailable:
        return MonitorUnavailable(
            f"cannot reach {self.workflow_id}: {exc.message} "
            "(is `genesis-failover worker` running?)"
        )

"""Watching failovers from the operator's side: a running operation's steps as they complete and
its nameservers as they confirm, the steps of the one running now, the run ids of past ones.

Client-facing (it talks to Temporal as a client only, like the CLI it serves). Where each piece
comes from:

- steps: the FailoverWorkflow's ``progress`` query, the list of step strings so far;
- nameservers while they are asked: the running ``verify_propagation`` activity's heartbeat
  details (``{"provider_live": bool | None, "<nameserver>": bool, ...}``), read from the
  workflow's ``describe()`` pending activities;
- nameservers once asked: that activity's result in the workflow's history. Heartbeats are
  throttled (one every 80% of the heartbeat timeout) and a fast propagation finishes between two
  polls, so the result is the last word and the heartbeats only bring the news earlier.

Every failover and failback of a site shares one workflow id (Temporal then allows one at a
time); a watch tells its own run from the previous one by run id.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateStage,
)
from temporalio.service import RPCError, RPCStatusCode

from genesis.failover.domain.config import failover_workflow_id, monitor_workflow_id
from genesis.failover.domain.models import Direction, FailoverResult, OperationRequest, ProgressStep

POLL_SECONDS = 0.3
# One slow answer must not freeze the display; the update's own result is what counts.
RPC_TIMEOUT = timedelta(seconds=5)
PROPAGATION_ACTIVITY = "verify_propagation"
# The FailoverWorkflow's step that sums up propagation; its nameservers are shown one by one.
PROPAGATION_STEP = "propagation: "
# A key of its own for the provider's word (Route53 INSYNC) beside the nameservers'.
PROVIDER = "@provider"


@dataclass(frozen=True)
class ProgressLine:
    """One thing that happened, ``seconds`` after the watch began. ``ok`` None: neutral."""

    seconds: float
    text: str
    ok: bool | None = None


Emit = Callable[[ProgressLine], None]


class OperationWatch:
    """Follows the latest run of a site's failover workflow id, once it is not ``previous_run``."""

    def __init__(
        self, client: Client, workflow_id: str, emit: Emit, *, began: float | None = None
    ) -> None:
        self._client = client
        self._workflow_id = workflow_id
        self._emit = emit
        # time.monotonic() when the command began: a drill's two operations share one clock.
        self._began = time.monotonic() if began is None else began
        self._previous_run: str | None = None
        self.run_id: str | None = None
        self._steps_seen = 0
        self._history_length = -1
        # verify_propagation activity id -> its input (domain, expected_ip, provider).
        self._propagation_inputs: dict[str, dict[str, Any]] = {}
        # (domain, nameserver) -> what was shown: a "yes" is never shown twice.
        self._shown: dict[tuple[str, str], bool] = {}

    async def begin(self) -> None:
        """Note the run that exists before the operation is asked for (if any)."""
        described = await self._describe_latest()
        self._previous_run = described.run_id if described else None

    async def poll(self) -> None:
        described = await self._describe_latest()
        if described is None or described.run_id == self._previous_run:
            return  # our run has not started yet
        self.run_id = described.run_id
        length = described.raw_description.workflow_execution_info.history_length
        if length != self._history_length:
            # Steps are only added by workflow tasks, and each of those grows the history.
            await self._new_steps()
            self._history_length = length
        for pending in described.raw_description.pending_activities:
            if pending.activity_type.name == PROPAGATION_ACTIVITY and pending.HasField(
                "heartbeat_details"
            ):
                await self._heartbeat(pending.activity_id, pending.heartbeat_details.payloads)

    async def finish(self) -> None:
        """The operation returned: show the steps it took since the last poll. Best effort:
        the result that follows says everything, this only keeps the story in order."""
        with contextlib.suppress(RPCError, TimeoutError):
            if self.run_id is None:
                described = await self._describe_latest()
                if described is not None and described.run_id != self._previous_run:
                    self.run_id = described.run_id
            if self.run_id is not None:
                await self._new_steps()

    # --- what is shown ---------------------------------------------------------------------------

    def _show(self, text: str, ok: bool | None = None) -> None:
        self._emit(ProgressLine(round(time.monotonic() - self._began, 2), text, ok))

    def _show_nameserver(
        self, inp: dict[str, Any], nameserver: str, ok: bool, *, final: bool
    ) -> None:
        domain = inp.get("domain", "?")
        key = (domain, nameserver)
        before = self._shown.get(key)
        # A "yes" is news once; a "no" only when it is the final answer.
        if before is True or before == ok or (not ok and not final):
            return
        self._shown[key] = ok
        expected = inp.get("expected_ip", "the new address")
        if nameserver == PROVIDER:
            provider = inp.get("provider") or "provider"
            text = (
                f"{provider} reports the {domain} change live"
                if ok
                else f"{provider} does NOT report the {domain} change live"
            )
        elif ok:
            text = f"nameserver {nameserver} answers {expected} for {domain}"
        else:
            text = f"nameserver {nameserver} does NOT answer {expected} for {domain}"
        self._show(text, ok)

    # --- where it comes from ---------------------------------------------------------------------

    def _handle(self, run_id: str | None = None) -> WorkflowHandle[Any, Any]:
        return self._client.get_workflow_handle(self._workflow_id, run_id=run_id)

    async def _describe_latest(self) -> WorkflowExecutionDescription | None:
        try:
            return await self._handle().describe(rpc_timeout=RPC_TIMEOUT)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None  # this site never failed over
            raise

    async def _new_steps(self) -> None:
        steps = await self._steps()
        for step in steps[self._steps_seen :]:
            if step.text.startswith(PROPAGATION_STEP) and await self._propagation_results():
                continue  # shown nameserver by nameserver instead
            self._show(step.text, step.ok)
        self._steps_seen = len(steps)

    async def _steps(self) -> list[ProgressStep]:
        handle = self._handle(self.run_id)
        try:
            return await handle.query(
                "steps", result_type=list[ProgressStep], rpc_timeout=RPC_TIMEOUT
            )
        except WorkflowQueryFailedError:
            # A failover started by a worker from before the `steps` query: text, unmarked.
            texts: list[str] = await handle.query("progress", rpc_timeout=RPC_TIMEOUT)
            return [ProgressStep(text=t) for t in texts]

    async def _heartbeat(self, activity_id: str, payloads: Any) -> None:
        decoded = await self._client.data_converter.decode(list(payloads))
        details = decoded[-1] if decoded else None
        if not isinstance(details, dict):
            return
        if activity_id not in self._propagation_inputs:
            await self._read_propagation_history()
        inp = self._propagation_inputs.get(activity_id, {})
        for nameserver, ok in details.items():
            if nameserver == "provider_live":
                if ok:
                    self._show_nameserver(inp, PROVIDER, True, final=False)
            elif ok:
                self._show_nameserver(inp, nameserver, True, final=False)

    async def _propagation_results(self) -> bool:
        """Show every finished propagation check's answers; False if none could be read."""
        try:
            results = await self._read_propagation_history()
        except RPCError:
            return False
        for activity_id, result in results:
            inp = self._propagation_inputs.get(activity_id, {})
            for nameserver, ok in (result.get("nameservers") or {}).items():
                self._show_nameserver(inp, nameserver, bool(ok), final=True)
            if result.get("provider_live") is not None:
                self._show_nameserver(inp, PROVIDER, bool(result["provider_live"]), final=True)
        return bool(results)

    async def _read_propagation_history(self) -> list[tuple[str, dict[str, Any]]]:
        """Learn each verify_propagation activity's input; return the results of those done."""
        scheduled: dict[int, str] = {}
        done: list[tuple[str, dict[str, Any]]] = []
        convert = self._client.data_converter
        async for event in self._handle(self.run_id).fetch_history_events(rpc_timeout=RPC_TIMEOUT):
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                attrs = event.activity_task_scheduled_event_attributes
                if attrs.activity_type.name != PROPAGATION_ACTIVITY:
                    continue
                scheduled[event.event_id] = attrs.activity_id
                if attrs.activity_id not in self._propagation_inputs:
                    args = await convert.decode(list(attrs.input.payloads))
                    first = args[0] if args else None
                    self._propagation_inputs[attrs.activity_id] = (
                        first if isinstance(first, dict) else {}
                    )
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                completed = event.activity_task_completed_event_attributes
                activity_id = scheduled.get(completed.scheduled_event_id)
                if activity_id is None:
                    continue
                values = await convert.decode(list(completed.result.payloads))
                if values and isinstance(values[0], dict):
                    done.append((activity_id, values[0]))
        return done


async def run_operation(
    client: Client,
    site: str,
    direction: Direction,
    request: OperationRequest,
    emit: Emit,
    *,
    poll_seconds: float = POLL_SECONDS,
    began: float | None = None,
) -> FailoverResult:
    """Ask the site's monitor for a failover or failback (its ``request_<direction>`` update) and
    report its progress through ``emit`` until the update returns. Raises what the update
    raises (``WorkflowUpdateFailedError`` when refused, ``RPCError``)."""
    monitor = client.get_workflow_handle(monitor_workflow_id(site))
    watch = OperationWatch(client, failover_workflow_id(site), emit, began=began)
    await watch.begin()
    update = await monitor.start_update(
        f"request_{direction}",
        request,
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        result_type=FailoverResult,
    )
    outcome = asyncio.ensure_future(update.result())
    try:
        while not outcome.done():
            # Watching is best effort: a query that fails now may answer on the next poll,
            # and the update's result is what decides the exit code.
            with contextlib.suppress(RPCError, TimeoutError):
                await watch.poll()
            await asyncio.wait({outcome}, timeout=poll_seconds)
    finally:
        if not outcome.done():
            outcome.cancel()
    result = outcome.result()
    await watch.finish()
    assert isinstance(result, FailoverResult)
    return result


async def current_steps(client: Client, workflow_id: str) -> list[str] | None:
    """The steps so far of the latest run of ``workflow_id`` (the running operation)."""
    try:
        steps: list[str] = await client.get_workflow_handle(workflow_id).query(
            "progress", rpc_timeout=RPC_TIMEOUT
        )
    except (RPCError, TimeoutError):
        return None
    return steps


async def run_ids(client: Client, workflow_id: str) -> list[tuple[datetime, str]]:
    """(start time, run id) of every run of ``workflow_id`` still kept by the server."""
    runs = []
    query = f"WorkflowId = '{workflow_id}'"
    async for execution in client.list_workflows(query, rpc_timeout=RPC_TIMEOUT):
        runs.append((execution.start_time, execution.run_id))
    return sorted(runs)


def match_runs(
    items: list[dict[str, Any]], runs: list[tuple[datetime, str]], *, within: float = 30
) -> None:
    """Give each history item (``operation_summary``) the run id of the run that started first
    at or after it (the monitor records an operation, then starts its run). Operations of a site
    never overlap, so each run matches one item at most."""
    free = list(runs)
    for item in items:
        if item.get("run_id"):
            continue
        started = item.get("started_at")
        if not started:
            continue
        at = datetime.fromisoformat(started)
        candidates = [(t, r) for t, r in free if -1 <= (t - at).total_seconds() <= within]
        if candidates:
            chosen = min(candidates)
            item["run_id"] = chosen[1]
            free.remove(chosen)

"""Watching failovers from the operator's side: a running operation's steps as they complete and
its nameservers as they confirm, the steps of the one running now, the run ids of past ones.

Where each piece comes from, all of it typed (nothing here parses a message):
- steps: the FailoverWorkflow's ``steps`` query, ``ProgressStep`` each with its kind; a
  propagation step carries every nameserver's (and the provider's) answer as ``Confirmation``s;
- nameservers while they are asked: the running ``verify_propagation`` activity's heartbeat, a
  ``PropagationProgress``, read from the workflow's ``describe()`` pending activities. Heartbeats
  are throttled (one every 80% of the heartbeat timeout) and a fast propagation finishes between
  two polls, so the step is the last word and the heartbeats only bring the news earlier.

Every failover and failback of a site shares one workflow id (Temporal then allows one at a
time); a watch tells its own run from the previous one by run id.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowExecutionDescription, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from genesis.failover.domain.config import failover_workflow_id
from genesis.failover.domain.dns.propagation import PropagationProgress
from genesis.failover.domain.models import (
    Confirmation,
    Direction,
    FailoverResult,
    OperationRequest,
    ProgressStep,
)
from genesis.failover.temporal import names
from genesis.failover.temporal.monitor_client import MonitorClient

POLL_SECONDS = 0.3
# One slow answer must not freeze the display; the update's own result is what counts.
RPC_TIMEOUT = timedelta(seconds=5)


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
        # (domain, source) -> what was shown: a "yes" is never shown twice.
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
            if pending.activity_type.name == names.VERIFY_PROPAGATION_ACTIVITY and (
                pending.HasField("heartbeat_details")
            ):
                await self._heartbeat(pending.heartbeat_details.payloads)

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

    def _show_confirmation(self, c: Confirmation, *, final: bool) -> None:
        key = (c.domain, f"@{c.source}" if c.by_provider else c.source)
        before = self._shown.get(key)
        # A "yes" is news once; a "no" only when it is the final answer.
        if before is True or before == c.ok or (not c.ok and not final):
            return
        self._shown[key] = c.ok
        if c.by_provider:
            provider = c.source or "provider"
            live = "reports" if c.ok else "does NOT report"
            text = f"{provider} {live} the {c.domain} change live"
        else:
            answers = "answers" if c.ok else "does NOT answer"
            text = f"nameserver {c.source} {answers} {c.expected_ip} for {c.domain}"
        self._show(text, c.ok)

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
        steps: list[ProgressStep] = await self._handle(self.run_id).query(
            names.STEPS_QUERY, result_type=list[ProgressStep], rpc_timeout=RPC_TIMEOUT
        )
        for step in steps[self._steps_seen :]:
            if step.kind == "propagation" and step.confirmations:
                # Shown nameserver by nameserver instead of the summary line.
                for c in step.confirmations:
                    self._show_confirmation(c, final=True)
            else:
                self._show(step.text, step.ok)
        self._steps_seen = len(steps)

    async def _heartbeat(self, payloads: Any) -> None:
        decoded = await self._client.data_converter.decode(
            list(payloads), [PropagationProgress] * len(payloads)
        )
        beat = decoded[-1] if decoded else None
        if not isinstance(beat, PropagationProgress):
            return
        said = [(ns, False, ok) for ns, ok in beat.nameservers.items()]
        if beat.provider_live:
            said.append((beat.provider, True, True))
        for source, by_provider, ok in said:
            if ok:
                confirmation = Confirmation(
                    domain=beat.domain,
                    expected_ip=beat.expected_ip,
                    source=source,
                    by_provider=by_provider,
                    ok=True,
                )
                self._show_confirmation(confirmation, final=False)


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
    """Ask the site's monitor for a failover or failback and report its progress through
    ``emit`` until it returns. Raises what ``MonitorClient`` raises (``PolicyRefusal`` when
    refused, ``MonitorUnavailable`` when the monitor does not answer)."""
    monitor = MonitorClient(client, site)
    watch = OperationWatch(client, failover_workflow_id(site), emit, began=began)
    await watch.begin()
    update = await monitor.start_request(direction, request)
    outcome = asyncio.ensure_future(monitor.result(update))
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
    return result


async def current_steps(client: Client, workflow_id: str) -> list[str] | None:
    """The steps so far of the latest run of ``workflow_id`` (the running operation)."""
    try:
        steps: list[str] = await client.get_workflow_handle(workflow_id).query(
            names.PROGRESS_QUERY, rpc_timeout=RPC_TIMEOUT
        )
    except (RPCError, TimeoutError):
        return None
    return steps

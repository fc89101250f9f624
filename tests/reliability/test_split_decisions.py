"""Split decisions: two operations asked for at the same moment. Exactly one runs; each other
one is refused with a reason that names the running operation.

On the real dev server (``real_lab``): updates whose failover waits on timers can hang on the
time-skipping server, and races are Temporal's own rules at work (one workflow task at a time,
update validators, the ``failover-<site>-switch`` id). A held pre-hook keeps the first operation
running, so the second is decided while the first is under way, not after it finished.

``tests/workflows/test_monitor_workflow.py::test_one_operation_at_a_time`` has one update
refused while another runs (time-skipping); these add the races, the signals, the automatic
trigger and the reasons, and count the failover runs Temporal actually started.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)

from activities.payloads import ProbeBatchInput, ProbeBatchResult
from genesis.failover.domain.models import FailoverResult, OperationRequest
from genesis.failover.domain.plan import MonitorPlan
from tests.integration.conftest import wait_status
from tests.workflows.lab import BACKUP, DOMAIN, PRIMARY, Lab, ScriptedGates, ScriptedProbes
from workflows.monitor import MonitorWorkflow

pytestmark = pytest.mark.integration


class Hold:
    """A hook that holds its operation until the test lets it go, counting its runs."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.runs = 0

    async def hook(self) -> None:
        self.runs += 1
        await self.gate.wait()


@contextlib.asynccontextmanager
async def holding(lab: Lab, phase: str) -> AsyncIterator[Hold]:
    """A held hook in ``phase``, let go whatever happens (a worker waits for its activities)."""
    hold = Hold()
    lab.hooks.register(phase, hold.hook, name=f"hold_{phase}", timeout_seconds=120)
    try:
        yield hold
    finally:
        hold.gate.set()


def fast(plan: MonitorPlan) -> MonitorPlan:
    """Probes every second: three failures (the threshold) take seconds of real time."""
    return plan.model_copy(
        update={"checks": [c.model_copy(update={"interval_seconds": 1}) for c in plan.checks]}
    )


def switch_id(plan: MonitorPlan) -> str:
    return f"failover-{plan.site}-switch"


async def switch_runs(client: Client, plan: MonitorPlan, *, finished: int) -> list[Any]:
    """Every run of the site's failover id that Temporal knows, once ``finished`` of them are
    visible as completed (visibility lags the history a little)."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        runs = [w async for w in client.list_workflows(f'WorkflowId = "{switch_id(plan)}"')]
        done = [w for w in runs if w.status == WorkflowExecutionStatus.COMPLETED]
        if len(done) >= finished or asyncio.get_running_loop().time() > deadline:
            return runs
        await asyncio.sleep(0.2)


async def child_starts(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The children the monitor asked Temporal to start, from its own history."""
    history = await handle.fetch_history()
    return [
        e.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for e in history.events
        if e.HasField("start_child_workflow_execution_initiated_event_attributes")
    ]


async def exactly_one_ran(lab: Lab, handle: WorkflowHandle[Any, Any], plan: MonitorPlan) -> None:
    assert await child_starts(handle) == [switch_id(plan)]
    runs = await switch_runs(lab.client, plan, finished=1)
    assert [w.status for w in runs] == [WorkflowExecutionStatus.COMPLETED]


def refusal_of(answer: BaseException | FailoverResult) -> str:
    assert isinstance(answer, WorkflowUpdateFailedError), answer
    return str(answer.cause)


def names_running(refusal: str, plan: MonitorPlan, direction: str) -> bool:
    return (
        "in_progress" in refusal
        and f"a {direction} ({switch_id(plan)}) is already running" in refusal
    )


async def failover(handle: WorkflowHandle[Any, Any], reason: str, **opts: Any) -> FailoverResult:
    return await handle.execute_update(
        MonitorWorkflow.request_failover, OperationRequest(reason=reason, **opts)
    )


async def outcome(fut: asyncio.Future[Any]) -> Any:
    """What ``fut`` ended with, its exception included."""
    done, _ = await asyncio.wait([fut], timeout=30)
    assert done, "no answer in 30 s"
    return fut.exception() or fut.result()


async def test_two_operators_failing_over_at_the_same_moment_start_one_failover_and_the_other_is_told_why(  # noqa: E501
    real_lab: Lab,
) -> None:
    """The story: two on-call engineers see the outage and both run `failover` at once. Two
    DNS writers racing would be the worst outcome; one failover runs, the other engineer is
    answered at once with the operation that is already running."""
    async with holding(real_lab, "pre_failover") as hold:
        plan = real_lab.plan()
        async with real_lab.worker():
            handle = await real_lab.start(plan)
            both = asyncio.gather(
                failover(handle, "alice"), failover(handle, "bob"), return_exceptions=True
            )
            # The loser is answered while the winner is held in its pre-hook.
            status = await wait_status(handle, lambda s: s["current_operation"] is not None)
            winner = status["current_operation"]["reason"]
            await wait_status(handle, lambda s: hold.runs == 1)
            loser = {"alice": "bob", "bob": "alice"}[winner]
            hold.gate.set()
            results = dict(zip(("alice", "bob"), await both, strict=True))
            won = results[winner]
            assert isinstance(won, FailoverResult) and won.success and won.reason == winner
            assert names_running(refusal_of(results[loser]), plan, "failover")
            await exactly_one_ran(real_lab, handle, plan)
            assert real_lab.zone.writes == 1 and real_lab.zone.records[DOMAIN] == BACKUP
            assert hold.runs == 1
            assert [h["reason"] for h in await handle.query("history")] == [winner]
            await handle.terminate()


async def test_two_failover_signals_at_the_same_moment_start_one_failover_and_status_shows_the_refusal(  # noqa: E501
    real_lab: Lab,
) -> None:
    """The same race by `temporal workflow signal`: a signal cannot be answered, so the refusal
    of the second is kept in status, naming the failover that runs."""
    async with holding(real_lab, "pre_failover") as hold:
        plan = real_lab.plan()
        async with real_lab.worker():
            handle = await real_lab.start(plan)
            await asyncio.gather(
                handle.signal(MonitorWorkflow.manual_failover, OperationRequest(reason="alice")),
                handle.signal(MonitorWorkflow.manual_failover, OperationRequest(reason="bob")),
            )
            status = await wait_status(
                handle,
                lambda s: s["current_operation"] is not None and s["last_refusal"] is not None,
            )
            refusal = status["last_refusal"]
            assert refusal["reason"] == "in_progress"
            assert f"a failover ({switch_id(plan)}) is already running" in refusal["message"]
            winner = status["current_operation"]["reason"]
            hold.gate.set()
            status = await wait_status(
                handle, lambda s: s["state"] == "failed_over" and s["current_operation"] is None
            )
            assert status["last_operation"]["reason"] == winner
            assert status["last_operation"]["success"] is True
            await exactly_one_ran(real_lab, handle, plan)
            assert real_lab.zone.writes == 1 and hold.runs == 1
            await handle.terminate()


class RacingProbes(ScriptedProbes):
    """The primary dies; the probe that brings the third failure (the threshold) also sends an
    operator's failover, so the automatic and the manual decision meet.

    ``when`` is "manual_first" (the manual update is accepted before the probe returns),
    "same_moment" (sent as the probe returns: whichever the monitor sees first wins) or
    "automatic_first" (sent by the test once the automatic failover has claimed the site).
    Here "same_moment" has gone to the manual request every time (the update reaches the server
    before the probe's completion does); the test takes either winner."""

    def __init__(self, when: str) -> None:
        super().__init__()
        self.when = when
        self.handle: WorkflowHandle[Any, Any] | None = None
        self.failures = 0
        self.manual: asyncio.Future[Any] | None = None

    @activity.defn(name="probe_checks")
    async def probe_checks(self, inp: ProbeBatchInput) -> ProbeBatchResult:
        if self.handle is not None and any(c.name == "api" for c in inp.checks):
            self.healthy["api"] = False
            self.failures += 1
            if self.failures == 3 and self.when != "automatic_first":
                request = OperationRequest(reason="operator")
                if self.when == "manual_first":
                    update = await self.handle.start_update(
                        MonitorWorkflow.request_failover,
                        request,
                        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                    )
                    self.manual = asyncio.ensure_future(update.result())
                else:
                    self.manual = asyncio.ensure_future(
                        self.handle.execute_update(MonitorWorkflow.request_failover, request)
                    )
        return await super().probe_checks(inp)


@pytest.mark.parametrize("when", ["manual_first", "same_moment", "automatic_first"])
async def test_a_manual_failover_racing_the_automatic_one_starts_exactly_one(
    real_lab: Lab, when: str
) -> None:
    """The story: the primary's third failed probe trips the threshold just as an engineer
    runs `failover`. Whichever the monitor sees first runs; the other is refused with a reason
    (the operator is told a failover is already running; the monitor, once it is done, that the
    site is already failed over), and the DNS is written once."""
    probes = RacingProbes(when)
    real_lab.probes = probes
    real_lab.gates = ScriptedGates(probes)
    async with holding(real_lab, "pre_failover") as hold:
        plan = fast(real_lab.plan())
        async with real_lab.worker():
            handle = await real_lab.start(plan)
            probes.handle = handle
            status = await wait_status(handle, lambda s: s["current_operation"] is not None)
            trigger = status["current_operation"]["trigger"]
            if when == "automatic_first":
                assert trigger == "automatic"
                probes.manual = asyncio.ensure_future(failover(handle, "operator"))
            elif when == "manual_first":
                assert trigger == "manual"
            assert probes.manual is not None
            if trigger == "automatic":
                # The operator is answered while the automatic failover is still held.
                refused = await outcome(probes.manual)
                assert (await handle.query("status"))["current_operation"] is not None
                assert names_running(refusal_of(refused), plan, "failover")
            hold.gate.set()
            status = await wait_status(
                handle,
                lambda s: (
                    s["state"] == "failed_over"
                    and s["current_operation"] is None
                    and (s["last_refusal"] or {}).get("reason") == "already_failed_over"
                ),
            )
            (op,) = await handle.query("history")
            assert op["trigger"] == trigger and op["success"] is True
            if trigger == "manual":
                result = await probes.manual
                assert isinstance(result, FailoverResult) and result.success
                # The automatic decision, taken after the manual failover, says why it did not run.
                assert (
                    "every record already points at the backup"
                    in (status["last_refusal"]["message"])
                )
            await exactly_one_ran(real_lab, handle, plan)
            assert real_lab.zone.writes == 1 and hold.runs == 1
            assert status["failover_count"] == 1
            await handle.terminate()


async def test_a_failback_asked_for_during_a_failover_is_refused_and_the_failover_finishes_untouched(  # noqa: E501
    real_lab: Lab,
) -> None:
    """The story: the monitor is failing the site over (held in its pre-hook) when the primary
    answers again and an engineer asks for a failback, forced even, by update and by signal.
    Each is refused because an operation runs; the failover ends as if nobody had asked."""
    async with holding(real_lab, "pre_failover") as hold:
        plan = fast(real_lab.plan(failback_healthy_seconds=0))
        async with real_lab.worker():
            handle = await real_lab.start(plan)
            real_lab.probes.healthy["api"] = False
            await wait_status(handle, lambda s: s["current_operation"] is not None)
            await wait_status(handle, lambda s: hold.runs == 1)
            real_lab.probes.healthy["api"] = True
            await wait_status(handle, lambda s: s["health"]["checks"]["api"]["is_healthy"])

            for opts in ({}, {"force": True}):
                with pytest.raises(WorkflowUpdateFailedError) as info:
                    await handle.execute_update(
                        MonitorWorkflow.request_failback, OperationRequest(**opts)
                    )
                assert names_running(str(info.value.cause), plan, "failover")
            await handle.signal(MonitorWorkflow.manual_failback, OperationRequest(force=True))
            status = await wait_status(handle, lambda s: s["last_refusal"] is not None)
            assert status["last_refusal"]["reason"] == "in_progress"
            assert switch_id(plan) in status["last_refusal"]["message"]
            assert status["current_operation"]["direction"] == "failover"

            hold.gate.set()
            status = await wait_status(
                handle, lambda s: s["state"] == "failed_over" and s["current_operation"] is None
            )
            (op,) = await handle.query("history")
            assert (op["direction"], op["trigger"], op["outcome"]) == (
                "failover",
                "automatic",
                "succeeded",
            )
            await exactly_one_ran(real_lab, handle, plan)
            assert real_lab.zone.records[DOMAIN] == BACKUP and real_lab.zone.writes == 1
            assert hold.runs == 1
            await handle.terminate()


async def test_a_failover_asked_for_during_a_failback_is_refused_and_the_failback_finishes_untouched(  # noqa: E501
    real_lab: Lab,
) -> None:
    """The opposite: the site is going back to its primary (held in the failback's pre-hook)
    and an engineer asks for a failover, forced even, by update and by signal. Each is refused
    because the failback runs; the failback ends with traffic on the primary."""
    async with holding(real_lab, "pre_failback") as hold:
        plan = real_lab.plan(failback_healthy_seconds=0)
        async with real_lab.worker():
            handle = await real_lab.start(plan)
            assert (await failover(handle, "maintenance")).success
            assert real_lab.zone.records[DOMAIN] == BACKUP
            await wait_status(handle, lambda s: s["health"]["checks"]["api"]["total_probes"] >= 1)
            back = asyncio.ensure_future(
                handle.execute_update(
                    MonitorWorkflow.request_failback, OperationRequest(reason="done")
                )
            )
            await wait_status(handle, lambda s: hold.runs == 1)

            for opts in ({}, {"force": True}):
                with pytest.raises(WorkflowUpdateFailedError) as info:
                    await failover(handle, "again", **opts)
                assert names_running(str(info.value.cause), plan, "failback")
            await handle.signal(
                MonitorWorkflow.manual_failover, OperationRequest(reason="again", force=True)
            )
            status = await wait_status(handle, lambda s: s["last_refusal"] is not None)
            assert status["last_refusal"]["reason"] == "in_progress"
            assert f"a failback ({switch_id(plan)})" in status["last_refusal"]["message"]

            hold.gate.set()
            result = await back
            assert result.success and result.direction == "failback"
            status = await wait_status(handle, lambda s: s["current_operation"] is None)
            assert status["state"] == "normal"
            history = await handle.query("history")
            assert [(h["direction"], h["success"]) for h in history] == [
                ("failover", True),
                ("failback", True),
            ]
            assert await child_starts(handle) == [switch_id(plan)] * 2
            runs = await switch_runs(real_lab.client, plan, finished=2)
            assert [w.status for w in runs] == [WorkflowExecutionStatus.COMPLETED] * 2
            assert real_lab.zone.records[DOMAIN] == PRIMARY and real_lab.zone.writes == 2
            assert hold.runs == 1
            await handle.terminate()

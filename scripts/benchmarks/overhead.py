"""Orchestration overhead: a real failover against a bare workflow doing the same activities.

One BenchStack (tuned dev server, BIND9 primary and two secondaries). The production worker
(``worker.main.build_worker`` over ``build_site_clients``) runs FailoverWorkflow with an instant
Python hook before and after the switch and the RFC 2136 provider, one record, propagation
confirmed on the primary and both secondaries. Each run is started by the client with the
``FailoverInput`` the monitor builds; runs alternate failover and failback, so every one writes
DNS. Beside it, a bare workflow runs no-op activities in the shape the failover's own history
shows (activities scheduled by one workflow task run concurrently, the batches one after
another), counted from that history rather than written down here. All are warmed up, then
interleaved; the ratio of the median wall times is the engine's overhead.

The bare workflow is measured twice: sandboxed, as the SDK runs every workflow by default and as
FailoverWorkflow runs (the ratio), and unsandboxed (context: the sandbox's own share). It lives
in a module of its own, written to the work directory, because the sandbox re-imports a
workflow's module, parents included, on every run: defined here it would re-import the lab.

Bytecode is cached for the measurement (in the work directory). An installed package has its
``.pyc``; a source checkout under ``PYTHONDONTWRITEBYTECODE=1`` (this repository's shell) has
none, and the sandbox then compiles ``workflows/*.py`` from source on every failover (~5 ms).
"""

from __future__ import annotations

import importlib
import os
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import ModuleType

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory
from temporalio.common import WorkflowIDReusePolicy
from temporalio.worker import Worker

from genesis.failover.domain.config import FailoverConfig, failover_workflow_id, parse_config
from genesis.failover.domain.models import Direction, FailoverInput, FailoverResult, GateResult
from genesis.failover.domain.plan import MonitorPlan, build_monitor_plan
from scripts.benchmarks.report import BenchmarkBroken, Row
from scripts.benchmarks.stack import BenchStack
from worker.main import build_site_clients, build_worker
from workflows import attributes
from workflows.failover import FailoverWorkflow

TARGET = 1.3
HOOK = f"{__name__}:instant_hook"
FULL_RUNS, QUICK_RUNS = 30, 3  # of each kind, after the warm-up
WARMUP = 2  # of each kind (a failover and a failback)
NOOP = "bench_noop"

# The bare workflow, as small as a workflow module gets: the SDK imports nothing else for it.
BARE_MODULE = "genesis_bench_bare"
BARE_SOURCE = f'''"""Written by {__name__}: no-op activities in batches, each batch concurrently."""

import asyncio
from datetime import timedelta

from temporalio import workflow


async def _batches(shape: list[int]) -> None:
    for size in shape:
        await asyncio.gather(
            *(
                workflow.execute_activity({NOOP!r}, start_to_close_timeout=timedelta(seconds=30))
                for _ in range(size)
            )
        )


@workflow.defn(name="BenchBareWorkflow")
class BareWorkflow:
    @workflow.run
    async def run(self, shape: list[int]) -> None:
        await _batches(shape)


@workflow.defn(name="BenchBareUnsandboxedWorkflow", sandboxed=False)
class BareUnsandboxedWorkflow:
    @workflow.run
    async def run(self, shape: list[int]) -> None:
        await _batches(shape)
'''


async def instant_hook() -> None:
    """A hook that does nothing: the benchmark measures the engine, not the hook."""


@activity.defn(name=NOOP)
async def noop() -> None:
    return None


@contextmanager
def bytecode_cached(where: Path) -> Iterator[None]:
    """Let imports write and use ``.pyc`` files under ``where`` (see the module docstring)."""
    saved = sys.dont_write_bytecode, sys.pycache_prefix
    sys.dont_write_bytecode, sys.pycache_prefix = False, str(where)
    try:
        yield
    finally:
        sys.dont_write_bytecode, sys.pycache_prefix = saved


@contextmanager
def bare_module(where: Path) -> Iterator[ModuleType]:
    where.mkdir(parents=True, exist_ok=True)
    (where / f"{BARE_MODULE}.py").write_text(BARE_SOURCE)
    sys.path.insert(0, str(where))
    try:
        sys.modules.pop(BARE_MODULE, None)
        yield importlib.import_module(BARE_MODULE)
    finally:
        sys.path.remove(str(where))
        sys.modules.pop(BARE_MODULE, None)


# --- the failover side ------------------------------------------------------------------------


def site_config(stack: BenchStack, task_queue: str, site: str) -> FailoverConfig:
    hooks = {
        phase: [{"name": f"{phase}_noop", "python": HOOK}]
        for phase in ("pre_failover", "post_failover", "pre_failback", "post_failback")
    }
    # Reporting only: a critical check would make failback probe the primary first (a
    # readiness gate, a real HTTP probe), and the two directions would differ.
    check = {
        "name": "api",
        "type": "http",
        "target": "http://127.0.0.1:9/health",
        "critical": False,
    }
    return parse_config({**stack.site(site, task_queue, [check]), "hooks": hooks})


def operation_input(plan: MonitorPlan, direction: Direction) -> FailoverInput:
    """What the monitor hands FailoverWorkflow for a manual operation."""
    prechecked = []
    if direction == "failback":  # the monitor's own healthy window, decided before it starts
        window = plan.policy.failback_healthy_seconds
        prechecked.append(
            GateResult(
                name="primary_healthy_window",
                kind="healthy_window",
                ok=True,
                detail=f"primary healthy for {window:g}s (benchmark)",
                value=window,
                limit=window,
            )
        )
    return plan.operation_input(
        direction,
        "manual",
        "overhead benchmark",
        dry_run=False,
        force=False,
        prechecked_gates=prechecked,
    )


async def run_failover(
    client: Client, plan: MonitorPlan, direction: Direction
) -> tuple[float, WorkflowHistory]:
    inp = operation_input(plan, direction)
    t0 = time.perf_counter()
    handle = await client.start_workflow(
        FailoverWorkflow.run,
        inp,
        id=failover_workflow_id(plan.site),
        task_queue=plan.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        search_attributes=attributes.for_operation(plan.site, direction, "manual"),
    )
    result: FailoverResult = await handle.result()
    elapsed = time.perf_counter() - t0
    if result.outcome != "succeeded" or [r.action for r in result.records] != ["switched"]:
        raise BenchmarkBroken(
            f"{direction} did not switch the record: {result.outcome} {result.error or ''} "
            f"{[r.action for r in result.records]}"
        )
    return elapsed, await handle.fetch_history()


async def run_bare(
    client: Client, workflow: str, task_queue: str, shape: list[int]
) -> tuple[float, WorkflowHistory]:
    t0 = time.perf_counter()
    handle = await client.start_workflow(
        workflow, shape, id=f"bench-bare-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    await handle.result()
    elapsed = time.perf_counter() - t0
    return elapsed, await handle.fetch_history()


# --- what the history says --------------------------------------------------------------------


def _seconds(event: HistoryEvent) -> float:
    return event.event_time.ToNanoseconds() / 1e9


def activity_shape(history: WorkflowHistory) -> list[int]:
    """Activities per batch: those scheduled by one workflow task form a batch."""
    batches: dict[int, int] = {}
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            wft = e.activity_task_scheduled_event_attributes.workflow_task_completed_event_id
            batches[wft] = batches.get(wft, 0) + 1
    return list(batches.values())


def activity_spans(history: WorkflowHistory) -> list[tuple[str, float, float]]:
    """(activity type, scheduled at, completed at) of every completed activity."""
    scheduled: dict[int, tuple[str, float]] = {}
    spans = []
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = e.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[e.event_id] = (name, _seconds(e))
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            name, at = scheduled[e.activity_task_completed_event_attributes.scheduled_event_id]
            spans.append((name, at, _seconds(e)))
    return spans


def history_seconds(history: WorkflowHistory) -> float:
    """Started -> closed, as the server recorded it."""
    return _seconds(history.events[-1]) - _seconds(history.events[0])


def outside_activities(history: WorkflowHistory) -> float:
    """Seconds of the run when no activity was scheduled or running: workflow tasks, their
    dispatch, the start and the close."""
    busy, end = 0.0, float("-inf")
    for _, start, stop in sorted(activity_spans(history), key=lambda s: s[1]):
        if stop > end:
            busy += stop - max(start, end)
            end = stop
    return history_seconds(history) - busy


def p90(values: Sequence[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


# --- the measurement --------------------------------------------------------------------------


class Runs:
    """Wall times and histories of one kind of run, warm-up excluded."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.histories: list[WorkflowHistory] = []

    def add(self, got: tuple[float, WorkflowHistory]) -> None:
        self.wall.append(got[0])
        self.histories.append(got[1])

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    def spread(self) -> str:
        return f"median of {len(self.wall)}, p90 {ms(p90(self.wall))}, min {ms(min(self.wall))}"


async def measure(*, quick: bool, workdir: Path) -> list[Row]:
    runs = QUICK_RUNS if quick else FULL_RUNS
    site = f"ovh-{uuid.uuid4().hex[:6]}"
    queue, bare_queue = f"bench-{site}", f"bench-bare-{site}"
    with bytecode_cached(workdir / "pycache"), bare_module(workdir / "bare") as bare:
        async with BenchStack(workdir, fast=True) as stack:
            config = site_config(stack, queue, site)
            clients = build_site_clients(config, os.environ)
            try:
                plan = build_monitor_plan(config, clients.hooks)
                production = build_worker(
                    stack.client,
                    task_queue=queue,
                    providers=clients.providers,
                    hooks=clients.hooks,
                    notifiers=clients.notifiers,
                )
                bare_worker = Worker(
                    stack.client,
                    task_queue=bare_queue,
                    workflows=[bare.BareWorkflow, bare.BareUnsandboxedWorkflow],
                    activities=[noop],
                )
                async with production, bare_worker:
                    rows = await _interleaved(stack.client, plan, bare_queue, runs)
            finally:
                await clients.aclose()
    # Quick mode proves the benchmark works; a verdict from three runs would mean nothing.
    return [replace(r, met=None) for r in rows] if quick else rows


async def _interleaved(client: Client, plan: MonitorPlan, bare_queue: str, runs: int) -> list[Row]:
    directions: list[Direction] = ["failover", "failback"]
    shapes: dict[str, list[int]] = {}
    failover, bare, unsandboxed = Runs(), Runs(), Runs()

    async def one_failover(i: int) -> tuple[float, WorkflowHistory]:
        direction = directions[i % 2]
        got = await run_failover(client, plan, direction)
        shape = activity_shape(got[1])
        if shapes.setdefault(direction, shape) != shape:
            raise BenchmarkBroken(f"{direction} ran activities {shape}, before {shapes[direction]}")
        return got

    def bare_run(workflow: str) -> Callable[[int], Awaitable[tuple[float, WorkflowHistory]]]:
        async def one(i: int) -> tuple[float, WorkflowHistory]:
            return await run_bare(client, workflow, bare_queue, shapes[directions[i % 2]])

        return one

    kinds = [
        (failover, one_failover),
        (bare, bare_run("BenchBareWorkflow")),
        (unsandboxed, bare_run("BenchBareUnsandboxedWorkflow")),
    ]
    for i in range(WARMUP):
        for _, run in kinds:
            await run(i)
    for i in range(runs):
        # Rotate which kind goes first, so none always follows another's leftovers.
        for kept, run in kinds[i % 3 :] + kinds[: i % 3]:
            kept.add(await run(i))

    ratio = failover.median / bare.median
    ratio_unsandboxed = failover.median / unsandboxed.median
    count = sum(shapes["failover"])
    batches = " then ".join(str(n) for n in shapes["failover"])
    return [
        Row(
            "overhead",
            "failover wall time (instant hooks, RFC 2136 on BIND9, 1 record, 3 nameservers)",
            ms(failover.median),
            note=f"{failover.spread()}; failover and failback alternating, each a real "
            "DNS write; client start -> result",
        ),
        Row(
            "overhead",
            f"bare workflow wall time ({count} no-op activities)",
            ms(bare.median),
            note=f"{bare.spread()}; batches {batches}, counted from the failover's history; "
            "sandboxed (the SDK's default, as FailoverWorkflow); interleaved with it",
        ),
        Row(
            "overhead",
            "ratio of medians, failover / bare",
            f"{ratio:.2f}",
            target=f"<= {TARGET}",
            met=ratio <= TARGET,
            note=f"against the same bare workflow unsandboxed ({ms(unsandboxed.median)}): "
            f"{ratio_unsandboxed:.2f}; tuned dev server; bytecode cached (an installed worker's "
            "case)",
        ),
        breakdown(failover, bare),
    ]


def breakdown(failover: Runs, bare: Runs) -> Row:
    """Where a failover's time goes, against the bare workflow's: each activity type's median
    from scheduled to completed, and the time outside activities (workflow tasks)."""
    spans: dict[str, list[float]] = defaultdict(list)
    for h in failover.histories:
        for name, start, stop in activity_spans(h):
            spans[name].append(stop - start)
    noop_spans = [stop - start for h in bare.histories for _, start, stop in activity_spans(h)]
    per_run = len(failover.histories)
    parts = [
        f"{name}{f' x{len(got) // per_run}' if len(got) > per_run else ''} "
        f"{ms(statistics.median(got))}"
        for name, got in spans.items()
    ]
    parts.append(f"(a no-op activity {ms(statistics.median(noop_spans))})")
    outside = statistics.median(outside_activities(h) for h in failover.histories)
    outside_bare = statistics.median(outside_activities(h) for h in bare.histories)
    parts.append(f"workflow tasks and their dispatch {ms(outside)} (bare {ms(outside_bare)})")
    in_history = statistics.median(history_seconds(h) for h in failover.histories)
    parts.append(f"client start and result {ms(failover.median - in_history)}")
    return Row(
        "overhead",
        "failover time by step (median; activities scheduled -> completed)",
        ms(in_history),
        note="; ".join(parts) + "; started -> closed in the server's history",
    )

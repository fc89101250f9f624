"""Probe scale: one worker watching 100, 1,000 and 5,000 HTTP checks at a 10 s interval.

The worker is the real ``genesis-failover worker`` process, so its CPU and memory are its own;
the HTTP target is a process of its own too (``http_sink``), which records when each probe
arrived. Lateness is measured from outside: the monitor's first loop of each run (the
WorkflowTaskStarted before its first probe, which is exactly its ``workflow.now()``) fixes the
cadence of that run, every check is due at that time plus a whole number of intervals, and a
probe's lateness is its arrival at the target minus the latest due time before it.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from genesis.failover.domain.config import CheckConfig, monitor_workflow_id
from genesis.failover.domain.config.loader import MAX_CHECKS_PER_SITE
from genesis.failover.domain.probes import MAX_PROBES_IN_FLIGHT, first_due_offset, run_probes
from genesis.lab.ports import free_port
from scripts.benchmarks.http_sink import read_arrivals
from scripts.benchmarks.procstat import CpuWindow, Usage
from scripts.benchmarks.report import BenchmarkBroken, Row
from scripts.benchmarks.stack import BACKUP, DOMAIN, PRIMARY, BenchStack

# The targets, for 1,000 checks.
TARGET_CHECKS = 1000
MAX_P99_LATENESS = 1.0
MAX_WORKER_CORES = 0.5
MAX_WORKER_MIB = 300.0


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    interval: float
    warmup: float  # after the first probe, before the window opens
    window: float


FULL = Plan(sizes=(100, 1000, 5000), interval=10.0, warmup=25.0, window=60.0)
QUICK = Plan(sizes=(20, 1001), interval=2.0, warmup=3.0, window=8.0)


@dataclass
class Outcome:
    checks: int
    probes: int
    window: float
    lateness: list[float]
    worker: Usage
    server: Usage
    events: int
    event_bytes: int
    runs: int

    @property
    def probes_per_second(self) -> float:
        return self.probes / self.window

    def quantile(self, q: float) -> float:
        ordered = sorted(self.lateness)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def http_checks(count: int, plan: Plan, port: int) -> list[dict[str, Any]]:
    """``count`` HTTP checks at ``plan.interval``, each on its own path of the sink."""
    return [
        {
            "name": f"c{i}",
            "check_type": "http",
            "target": f"http://127.0.0.1:{port}/c{i}",
            "interval_seconds": plan.interval,
            "timeout_seconds": 5,
            "failure_threshold": 3,
        }
        for i in range(count)
    ]


def _cli() -> str:
    return str(Path(sys.executable).parent / "genesis-failover")


def _start_sink(port: int, arrivals_file: Path) -> subprocess.Popen[str]:
    sink = subprocess.Popen(
        [sys.executable, "-m", "scripts.benchmarks.http_sink", str(port), str(arrivals_file)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout is not None
    if sink.stdout.readline().strip() != "ready":
        sink.kill()
        raise BenchmarkBroken("the HTTP sink did not start")
    return sink


def _start_worker(config: Path, log_file: Path) -> subprocess.Popen[bytes]:
    """The production worker, as operators run it."""
    with open(log_file, "wb") as log:
        return subprocess.Popen(
            [_cli(), "-c", str(config), "worker"], stdout=log, stderr=subprocess.STDOUT
        )


async def _wait_for_probes(client: Client, workflow_id: str, within: float) -> None:
    handle = client.get_workflow_handle(workflow_id)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            status = await handle.query("status")
            if any(c["total_probes"] > 0 for c in status["health"]["checks"].values()):
                return
        except Exception:
            pass  # not started yet, or its first task not run yet
        await asyncio.sleep(0.5)
    raise BenchmarkBroken(f"{workflow_id}: no probe finished within {within:.0f} s")


async def _history_in_window(
    client: Client, workflow_id: str, w0: float, w1: float
) -> tuple[list[float], int, int, int]:
    """(first-loop time of every run, events in the window, their bytes, runs)."""
    starts: list[float] = []
    events = size = runs = 0
    async for execution in client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        runs += 1
        handle = client.get_workflow_handle(workflow_id, run_id=execution.run_id)
        last_task_started: float | None = None
        first_loop: float | None = None
        async for event in handle.fetch_history_events():
            when = event.event_time.ToDatetime().timestamp() if event.event_time else 0.0
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                last_task_started = when
            elif (
                first_loop is None
                and event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                and event.activity_task_scheduled_event_attributes.activity_type.name
                == "probe_checks"
            ):
                first_loop = last_task_started
            if w0 <= when <= w1:
                events += 1
                size += event.ByteSize()
        if first_loop is not None:
            starts.append(first_loop)
    return sorted(starts), events, size, runs


def _lateness(
    arrivals: list[tuple[str, float]], starts: list[float], checks: int, interval: float
) -> list[float]:
    """Each arrival minus the latest time its check was due (the monitor's own schedule:
    ``first_due_offset`` after the run's first loop, then every interval)."""
    late = []
    for path, when in arrivals:
        run_start = max((s for s in starts if s <= when), default=None)
        if run_start is None:
            continue
        first = run_start + first_due_offset(int(path.removeprefix("/c")), checks, interval)
        if when < first:
            continue  # the previous run's probe, answered after this run began
        ticks = int((when - first) // interval)
        late.append(when - (first + ticks * interval))
    return late


async def one_size(checks: int, plan: Plan, workdir: Path) -> Outcome:
    workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - before anything runs
    async with BenchStack(workdir, fast=True) as stack:
        port = free_port()
        arrivals_file = workdir / "arrivals.txt"
        sink = _start_sink(port, arrivals_file)
        worker: subprocess.Popen[bytes] | None = None
        try:
            name = f"scale{checks}"
            config = workdir / "site.toml"
            site = stack.site(name, f"scale-{checks}", http_checks(checks, plan, port))
            config.write_text(tomli_w.dumps(site))
            worker = _start_worker(config, workdir / "worker.log")
            workflow_id = monitor_workflow_id(name)
            await _wait_for_probes(stack.client, workflow_id, within=60)
            await asyncio.sleep(plan.warmup)
            worker_cpu = CpuWindow(worker.pid).start()
            assert stack.server.proc is not None
            server_cpu = CpuWindow(stack.server.proc.pid).start()
            w0 = time.time()
            await asyncio.sleep(plan.window)
            w1 = time.time()
            worker_usage, server_usage = worker_cpu.stop(), server_cpu.stop()
            if worker.poll() is not None:
                raise BenchmarkBroken(f"the worker exited ({worker.returncode}); see worker.log")
            starts, events, size, runs = await _history_in_window(stack.client, workflow_id, w0, w1)
            await stack.client.get_workflow_handle(workflow_id).terminate("benchmark done")
        finally:
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(30)
            sink.send_signal(signal.SIGTERM)
            sink.wait(30)
        arrivals = [(p, t) for p, t in read_arrivals(arrivals_file) if w0 <= t <= w1]
    if not arrivals or not starts:
        raise BenchmarkBroken(f"{checks} checks: no probe reached the target in the window")
    return Outcome(
        checks=checks,
        probes=len(arrivals),
        window=w1 - w0,
        lateness=_lateness(arrivals, starts, checks, plan.interval),
        worker=worker_usage,
        server=server_usage,
        events=events,
        event_bytes=size,
        runs=runs,
    )


def rows_for(o: Outcome, plan: Plan) -> list[Row]:
    graded = o.checks == TARGET_CHECKS
    nominal = o.checks / plan.interval
    p99 = o.quantile(0.99)
    per_hour = 3600 / o.window
    where = f"{o.checks} checks"
    return [
        Row(
            "scale",
            f"{where}: probes per second",
            f"{o.probes_per_second:.1f}/s",
            note=f"nominal {nominal:g}/s; {o.probes} probes in {o.window:.0f} s",
        ),
        Row(
            "scale",
            f"{where}: p99 lateness",
            f"{p99 * 1000:.0f} ms",
            target=f"< {MAX_P99_LATENESS:g} s" if graded else "",
            met=p99 < MAX_P99_LATENESS if graded else None,
            note=f"p50 {o.quantile(0.5) * 1000:.0f} ms, max {max(o.lateness) * 1000:.0f} ms",
        ),
        Row(
            "scale",
            f"{where}: worker CPU",
            f"{o.worker.cores:.2f} cores",
            target=f"< {MAX_WORKER_CORES:g} core" if graded else "",
            met=o.worker.cores < MAX_WORKER_CORES if graded else None,
        ),
        Row(
            "scale",
            f"{where}: worker RSS",
            f"{o.worker.peak_rss_mib:.0f} MiB",
            target=f"< {MAX_WORKER_MIB:g} MB" if graded else "",
            met=o.worker.peak_rss_mib < MAX_WORKER_MIB if graded else None,
            note=f"peak; {o.worker.rss_mib:.0f} MiB at the end",
        ),
        Row("scale", f"{where}: server CPU", f"{o.server.cores:.2f} cores"),
        Row(
            "scale",
            f"{where}: history per hour per site",
            f"{o.events * per_hour:,.0f} events, {o.event_bytes * per_hour / 2**20:,.0f} MiB",
            note=f"{o.runs} run(s) of the monitor so far (continue-as-new)",
        ),
    ]


def refusal(checks: int, plan: Plan, workdir: Path) -> Row:
    """A site over MAX_CHECKS_PER_SITE: what `validate` says of it (the real command)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "site.toml"
    # Port 9 (discard): `validate` refuses the site before anything is contacted.
    site = {
        "site": {"name": "oversized", "primary_ip": PRIMARY, "backup_ip": BACKUP},
        "checks": http_checks(checks, plan, port=9),
        "dns": {"provider": "rfc2136", "records": [{"domain": DOMAIN}]},
    }
    config.write_text(tomli_w.dumps(site))
    done = subprocess.run(
        [_cli(), "-c", str(config), "validate"], capture_output=True, text=True, check=False
    )
    said = " ".join((done.stdout + done.stderr).split())
    if done.returncode == 0 or f"at most {MAX_CHECKS_PER_SITE}" not in said:
        raise BenchmarkBroken(f"{checks} checks: validate did not refuse the site: {said[:300]}")
    return Row(
        "scale",
        f"{checks} checks on one site",
        "refused by validate",
        note=f"at most {MAX_CHECKS_PER_SITE} checks per site: the monitor's state must fit one "
        "Temporal payload (2 MB)",
    )


async def engine_alone(checks: int, workdir: Path) -> Row:
    """The probe code without Temporal: ``run_probes`` over ``checks`` HTTP checks in this
    process, CPU and wall time of one batch. What a worker would need for that many probes."""
    workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - before anything runs
    port = free_port()
    sink = _start_sink(port, workdir / "arrivals.txt")
    try:
        batch = [
            CheckConfig(name=f"c{i}", check_type="http", target=f"http://127.0.0.1:{port}/c{i}")
            for i in range(checks)
        ]
        await run_probes(batch[:10])  # warm: imports, the CA bundle
        cpu0, wall0 = time.process_time(), time.perf_counter()
        results = await run_probes(batch)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait(30)
    healthy = sum(r.healthy for r in results)
    if healthy == 0:
        raise BenchmarkBroken(f"probe engine: none of {checks} probes reached the target")
    return Row(
        "scale",
        f"probe engine alone: {checks:,} HTTP probes in one batch",
        f"{cpu:.1f} s CPU",
        note=f"{wall:.1f} s wall, {healthy:,} of {checks:,} healthy, at most "
        f"{MAX_PROBES_IN_FLIGHT} in flight; run_probes in the benchmark's process, no Temporal: "
        f"every {FULL.interval:g} s that is {cpu / FULL.interval:.2f} of a core",
    )


async def measure(*, quick: bool, workdir: Path) -> list[Row]:
    plan = QUICK if quick else FULL
    rows: list[Row] = []
    for checks in plan.sizes:
        if checks > MAX_CHECKS_PER_SITE:
            rows.append(refusal(checks, plan, workdir / f"n{checks}"))
            rows.append(await engine_alone(checks, workdir / f"engine{checks}"))
            continue
        outcome = await one_size(checks, plan, workdir / f"n{checks}")
        print(
            f"   {checks} checks: {outcome.probes_per_second:.1f} probes/s, "
            f"p99 {outcome.quantile(0.99) * 1000:.0f} ms, worker {outcome.worker.cores:.2f} cores",
            file=sys.stderr,
            flush=True,
        )
        rows += rows_for(outcome, plan)
    return rows

"""Outage to verified switch: an HTTP primary stops; how long until every nameserver answers the
backup address.

Per run, on one BenchStack: the record back at the primary on all three nameservers, a loopback
HTTP service up, the production worker (``run_worker_in_background``: the monitor with one check,
interval 1 s, threshold 3) probing it. The service is stopped at a point of the probe interval
that moves from run to run (spread evenly over it), and the clock runs until the BIND9 primary and
both secondaries answer the backup IP. The floor is about 2 s plus the wait for the next probe:
three failed probes one interval apart. The engine's share is the part after the failover workflow
started: switch and propagation.

Measured on a tuned dev server (``history.transferProcessorMaxPollRPS=1000``, what ``dev`` runs)
and on one with the defaults, each its own stack; and, to show the tuned setting is safe for
``dev``, the dev server's CPU while idle with a one-check monitor under each.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle

from genesis.failover.domain.config import (
    FailoverConfig,
    failover_workflow_id,
    monitor_workflow_id,
    parse_config,
)
from genesis.failover.domain.dns import query_nameserver
from genesis.lab.http_target import DemoService
from scripts.benchmarks.procstat import CpuWindow, Usage
from scripts.benchmarks.report import BenchmarkBroken, Row
from scripts.benchmarks.stack import BACKUP, DOMAIN, PRIMARY, BenchStack
from worker.main import run_worker_in_background
from workflows.failover import FailoverWorkflow

TARGET_SECONDS = 3.5
INTERVAL, THRESHOLD = 1.0, 3
FULL_RUNS, QUICK_RUNS = 9, 1
FULL_IDLE_SECONDS, QUICK_IDLE_SECONDS = 20.0, 3.0
# A run that has not switched by then is broken, not slow.
SWITCH_DEADLINE = 30.0


def site_config(stack: BenchStack, url: str) -> FailoverConfig:
    site = f"out-{uuid.uuid4().hex[:8]}"
    return parse_config(
        stack.site(
            site,
            f"bench-{site}",
            [
                {
                    "name": "api",
                    "type": "http",
                    "target": url,
                    "interval": INTERVAL,
                    "timeout": 0.5,
                    "threshold": THRESHOLD,
                }
            ],
        )
    )


async def all_answer(stack: BenchStack, ip: str) -> bool:
    got = await asyncio.gather(
        *(query_nameserver(ns, DOMAIN, timeout=0.5) for ns in stack.dns.servers),
        return_exceptions=True,
    )
    return all(g == [ip] for g in got)


async def until(
    check: Callable[[], Awaitable[bool]], what: str, *, deadline: float = SWITCH_DEADLINE
) -> None:
    """Poll ``check`` until it is true; BenchmarkBroken after ``deadline`` seconds."""
    give_up = time.monotonic() + deadline
    while not await check():
        if time.monotonic() > give_up:
            raise BenchmarkBroken(f"{what}: not within {deadline:g}s")
        await asyncio.sleep(0.01)


class Monitored:
    """A loopback HTTP service watched by the production worker's monitor (one check)."""

    def __init__(self, stack: BenchStack) -> None:
        self.stack = stack
        self.service = DemoService().start()
        self.config = site_config(stack, self.service.url)
        self._stop = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._monitor_stopped = False
        self.handle: WorkflowHandle[Any, Any] = stack.client.get_workflow_handle(
            monitor_workflow_id(self.config.site.name)
        )

    async def __aenter__(self) -> Monitored:
        self._worker = await run_worker_in_background(self.config, stop=self._stop)
        await until(self._probed, "the monitor's first two probes")
        return self

    async def _probed(self) -> bool:
        status = await self.status()
        return bool(status["health"]["checks"]["api"]["total_probes"] >= 2)

    async def status(self) -> dict[str, Any]:
        got = await self.handle.query("status")
        if not isinstance(got, dict):
            raise BenchmarkBroken(f"status query answered {got!r}")
        return got

    async def stop_monitor(self) -> None:
        if not self._monitor_stopped:
            self._monitor_stopped = True
            await self.handle.terminate("benchmark done")

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.stop_monitor()
        finally:
            self._stop.set()
            if self._worker is not None:
                await self._worker
            self.service.stop()


@dataclass(frozen=True)
class Outage:
    seconds: float  # outage -> all three nameservers answer the backup
    engine: float  # the part of it after the failover workflow started: switch, propagation
    workflow: float  # the failover workflow, start to close (post-steps and result included)


async def one_outage(stack: BenchStack, offset: float) -> Outage:
    stack.dns.set_record(DOMAIN + ".", PRIMARY)
    await until(lambda: all_answer(stack, PRIMARY), "the record back at the primary")
    async with Monitored(stack) as site:
        await asyncio.sleep(offset)  # the outage lands at this point of the probe interval
        t0, wall0 = time.perf_counter(), time.time()
        site.service.stop()
        await until(lambda: all_answer(stack, BACKUP), "all three nameservers on the backup")
        elapsed = time.perf_counter() - t0
        # The monitor has done its part; stopped now, it cannot go on refusing a second
        # failover (the primary is still down). The failover itself runs on to its result.
        await site.stop_monitor()
        failover = stack.client.get_workflow_handle_for(
            FailoverWorkflow.run, failover_workflow_id(site.config.site.name)
        )
        result = await failover.result()
        if not result.success:
            raise BenchmarkBroken(f"the failover failed: {result.outcome} {result.error}")
        described = await failover.describe()
    started, closed = described.start_time, described.close_time
    if closed is None:
        raise BenchmarkBroken("the failover has a result but no close time")
    return Outage(
        seconds=elapsed,
        engine=elapsed - (started.timestamp() - wall0),
        workflow=(closed - started).total_seconds(),
    )


async def idle_cpu(stack: BenchStack, seconds: float) -> Usage:
    """The dev server's CPU while a one-check monitor probes a healthy service."""
    if stack.server.proc is None:
        raise BenchmarkBroken("the dev server is not running")
    async with Monitored(stack):
        window = CpuWindow(stack.server.proc.pid).start()
        await asyncio.sleep(seconds)
        return window.stop()


def setting(fast: bool) -> str:
    return "tuned dev server" if fast else "default dev server"


async def measure_server(
    *, fast: bool, runs: int, idle: float, workdir: Path, judge: bool = True
) -> list[Row]:
    async with BenchStack(workdir, fast=fast) as stack:
        usage = await idle_cpu(stack, idle)
        # The outage lands at evenly spread points of the probe interval (its median: mid-way).
        times = [await one_outage(stack, INTERVAL * (k + 0.5) / runs) for k in range(runs)]
    total = [t.seconds for t in times]
    engine = [t.engine for t in times]
    workflow = statistics.median(t.workflow for t in times)
    median = statistics.median(total)
    name = setting(fast)
    knob = "transferProcessorMaxPollRPS=1000" if fast else "transferProcessorMaxPollRPS=20"
    return [
        Row(
            "outage",
            f"HTTP primary stopped -> primary and 2 secondaries answer the backup ({name})",
            f"{median:.2f} s",
            target=f"<= {TARGET_SECONDS:g} s",
            met=(median <= TARGET_SECONDS) if judge else None,
            note=f"median of {len(total)}, min {min(total):.2f} s, max {max(total):.2f} s; "
            f"interval {INTERVAL:g} s, threshold {THRESHOLD} (floor ~2 s + the wait for the next "
            f"probe); {knob}",
        ),
        Row(
            "outage",
            f"of which failover start -> all 3 answer ({name})",
            f"{statistics.median(engine) * 1000:.0f} ms",
            note=f"median, max {max(engine) * 1000:.0f} ms: switch and propagation, from the "
            f"failover workflow's start; the whole workflow, to its result: {workflow * 1000:.0f} "
            "ms",
        ),
        Row(
            "outage",
            f"dev server CPU, idle with a 1-check monitor ({name})",
            f"{usage.cores:.3f} cores",
            note=f"{idle:g} s window, one probe a second; server RSS {usage.rss_mib:.0f} MiB",
        ),
    ]


async def measure(*, quick: bool, workdir: Path) -> list[Row]:
    if quick:
        return await measure_server(
            fast=True, runs=QUICK_RUNS, idle=QUICK_IDLE_SECONDS, workdir=workdir, judge=False
        )
    rows = []
    for fast in (True, False):
        rows += await measure_server(
            fast=fast, runs=FULL_RUNS, idle=FULL_IDLE_SECONDS, workdir=workdir
        )
    return rows

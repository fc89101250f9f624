"""How should the monitor run probes: one activity each, one local activity each, or a batch?

    .venv/bin/python scripts/measure_probe_modes.py [--checks 100] [--ticks 5]

Runs the real `probe_checks` activity (TCP probes against a loopback listener) on the real dev
server in three shapes, and prints wall time per tick and history events per probe. The monitor
uses the batch shape; this script is the measurement behind that choice.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio import workflow  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

with workflow.unsafe.imports_passed_through():
    from activities.payloads import ProbeBatchInput  # noqa: E402
    from activities.probes import ProbeActivities  # noqa: E402
    from genesis.failover.domain.config import CheckConfig  # noqa: E402
from genesis.lab.temporal_dev import TemporalDevServer  # noqa: E402

TIMEOUT = timedelta(seconds=30)


@workflow.defn(sandboxed=False)  # a measurement script, not production code
class ProbeShapes:
    @workflow.run
    async def run(self, mode: str, checks: list[CheckConfig], ticks: int) -> float:
        started = workflow.now()
        for _ in range(ticks):
            if mode == "batch":
                await workflow.execute_activity_method(
                    ProbeActivities.probe_checks,
                    ProbeBatchInput(checks=checks),
                    start_to_close_timeout=TIMEOUT,
                )
            else:
                run_one = (
                    workflow.execute_activity_method
                    if mode == "activity"
                    else workflow.execute_local_activity_method
                )
                await asyncio.gather(
                    *(
                        run_one(
                            ProbeActivities.probe_checks,
                            ProbeBatchInput(checks=[c]),
                            start_to_close_timeout=TIMEOUT,
                        )
                        for c in checks
                    )
                )
        return (workflow.now() - started).total_seconds()


async def measure(
    client: Client, queue: str, mode: str, checks: list[CheckConfig], ticks: int
) -> tuple[float, float]:
    t0 = time.perf_counter()
    handle = await client.start_workflow(
        ProbeShapes.run,
        args=[mode, checks, ticks],
        id=f"shape-{mode}-{uuid.uuid4().hex[:6]}",
        task_queue=queue,
    )
    await handle.result()
    wall = time.perf_counter() - t0
    events = (await handle.describe()).history_length
    return wall / ticks, events / (ticks * len(checks))


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checks", type=int, default=100)
    ap.add_argument("--ticks", type=int, default=5)
    args = ap.parse_args()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.listen(4096)
    port = listener.getsockname()[1]
    checks = [
        CheckConfig(name=f"c{i}", check_type="tcp", target=f"127.0.0.1:{port}", timeout_seconds=2)
        for i in range(args.checks)
    ]
    with (
        tempfile.TemporaryDirectory() as tmp,
        TemporalDevServer(Path(tmp) / "t.db", headless=True) as server,
    ):
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        queue = "shapes"
        probes = ProbeActivities()
        async with Worker(
            client,
            task_queue=queue,
            workflows=[ProbeShapes],
            activities=[probes.probe_checks],
            max_concurrent_activities=1000,
        ):
            print(f"{args.checks} checks x {args.ticks} ticks, dev server with SQLite")
            print(f"{'shape':<16}{'s/tick':>10}{'events/probe':>14}")
            for mode in ("batch", "local_activity", "activity"):
                per_tick, per_probe = await measure(client, queue, mode, checks, args.ticks)
                print(f"{mode:<16}{per_tick:>10.3f}{per_probe:>14.2f}")
    listener.close()


if __name__ == "__main__":
    asyncio.run(main())

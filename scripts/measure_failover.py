"""Measure outage-to-switch time and the history cost of probing, on real components.

    .venv/bin/python scripts/measure_failover.py [--runs 5] [--slow-server]

Starts a Temporal dev server, a BIND9 primary with two secondaries and an HTTP primary, runs the
production worker, then per run: stops the HTTP primary and times until all three nameservers
answer the backup IP (interval 1 s, threshold 3: the floor is about 3 s). Then it lets a monitor
probe for a while and reports history events per probe, for 1 and for 20 checks per tick.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.client import Client  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402

from genesis.failover.config import FailoverConfig, monitor_workflow_id, parse_config  # noqa: E402
from genesis.failover.dns import query_nameserver  # noqa: E402
from genesis.lab.bind9 import Bind9Lab  # noqa: E402
from genesis.lab.http_target import DemoService  # noqa: E402
from genesis.lab.ports import free_port  # noqa: E402
from genesis.lab.temporal_dev import TemporalDevServer  # noqa: E402
from worker.main import run_worker_in_background  # noqa: E402

PRIMARY, BACKUP, DOMAIN = "192.0.2.10", "192.0.2.20", "genesis.example.test"
TSIG_ENV = "GENESIS_MEASURE_TSIG"


def config_for(
    server: TemporalDevServer, lab: Bind9Lab, urls: list[str], queue: str
) -> FailoverConfig:
    checks = [
        {
            "name": f"api{i}",
            "type": "http",
            "target": u,
            "interval": 1,
            "timeout": 0.5,
            "threshold": 3,
        }
        for i, u in enumerate(urls)
    ]
    return parse_config(
        {
            "temporal": {"address": server.address, "task_queue": queue},
            "site": {
                "name": f"m-{uuid.uuid4().hex[:8]}",
                "primary_ip": PRIMARY,
                "backup_ip": BACKUP,
            },
            "checks": checks,
            "dns": {
                "provider": "rfc2136",
                "records": [{"domain": DOMAIN}],
                "rfc2136": lab.rfc2136_settings(TSIG_ENV).model_dump(),
            },
            "propagation": {"nameservers": lab.servers, "timeout_seconds": 10},
        }
    )


async def all_answer(lab: Bind9Lab, ip: str) -> bool:
    got = await asyncio.gather(*(query_nameserver(ns, DOMAIN, timeout=0.5) for ns in lab.servers))
    return all(g == [ip] for g in got)


async def one_outage(
    server: TemporalDevServer, client: Client, lab: Bind9Lab
) -> tuple[float, float]:
    """Seconds from the outage to all three nameservers on the backup, and the part of it after
    the failover workflow started (switch + propagation: the engine's own share)."""
    lab.set_record(DOMAIN + ".", PRIMARY)
    while not await all_answer(lab, PRIMARY):
        await asyncio.sleep(0.02)
    svc = DemoService().start()
    config = config_for(server, lab, [svc.url], f"m-{uuid.uuid4().hex[:8]}")
    stop = asyncio.Event()
    worker = await run_worker_in_background(config, stop=stop)
    handle = client.get_workflow_handle(monitor_workflow_id(config.site.name))
    while (await handle.query("status"))["health"]["checks"]["api0"]["total_probes"] < 2:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # land the outage at an arbitrary point of the probe interval
    t0, wall0 = time.perf_counter(), time.time()
    svc.stop()
    while not await all_answer(lab, BACKUP):
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - t0
    status = await handle.query("status")
    while status["current_operation"] is not None or status["last_operation"] is None:
        await asyncio.sleep(0.05)  # let the failover finish before its worker goes
        status = await handle.query("status")
    started = datetime.fromisoformat(status["last_operation"]["started_at"]).timestamp()
    await handle.terminate("measured")
    stop.set()
    await worker
    return elapsed, elapsed - (started - wall0)


async def events_per_probe(
    server: TemporalDevServer, client: Client, lab: Bind9Lab, checks: int, seconds: float
) -> tuple[float, int, int]:
    svc = DemoService().start()
    config = config_for(server, lab, [svc.url] * checks, f"m-{uuid.uuid4().hex[:8]}")
    stop = asyncio.Event()
    worker = await run_worker_in_background(config, stop=stop)
    handle = client.get_workflow_handle(monitor_workflow_id(config.site.name))
    await asyncio.sleep(seconds)
    status = await handle.query("status")
    probes = sum(c["total_probes"] for c in status["health"]["checks"].values())
    events = (await handle.describe()).history_length
    await handle.terminate("measured")
    stop.set()
    await worker
    svc.stop()
    return events / probes, events, probes


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--slow-server", action="store_true", help="dev server defaults (no tuning)")
    ap.add_argument("--probe-seconds", type=float, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = TemporalDevServer(Path(tmp) / "t.db", headless=True, fast=not args.slow_server)
        lab = Bind9Lab(
            Path(tmp) / "bind9",
            zone="example.test.",
            records={DOMAIN + ".": PRIMARY},
            secondary_ports=[free_port(), free_port()],
        )
        os.environ[TSIG_ENV] = lab.tsig_secret
        with server, lab:
            client = await Client.connect(server.address, data_converter=pydantic_data_converter)
            runs = [await one_outage(server, client, lab) for _ in range(args.runs)]
            per1 = await events_per_probe(server, client, lab, 1, args.probe_seconds)
            per20 = await events_per_probe(server, client, lab, 20, args.probe_seconds)
    tuned = "default" if args.slow_server else "transferProcessorMaxPollRPS=1000"
    print(f"dev server: {tuned}")
    print("outage -> all 3 nameservers answer the backup (interval 1 s, threshold 3, floor 3 s)")
    times = [t for t, _ in runs]
    switch = [s for _, s in runs]
    print("  runs:   " + ", ".join(f"{t:.2f}s" for t in times))
    print(
        f"  median: {statistics.median(times):.2f}s  min {min(times):.2f}s  max {max(times):.2f}s"
    )
    print(
        "  of which failover start -> all 3 answer (switch + propagation): median "
        f"{statistics.median(switch) * 1000:.0f} ms, max {max(switch) * 1000:.0f} ms"
    )
    print("history events per probe (steady state, one monitor):")
    print(f"  1 check:   {per1[0]:.1f} events/probe ({per1[1]} events, {per1[2]} probes)")
    print(f"  20 checks: {per20[0]:.2f} events/probe ({per20[1]} events, {per20[2]} probes)")


if __name__ == "__main__":
    asyncio.run(main())

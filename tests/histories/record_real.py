"""Record histories of a REAL run for tests/histories/test_replay.py.

``record.py`` records the lab's scenario (scripted probes, an in-memory zone) on the time-skipping
server. This one records what a production worker writes: its own Temporal dev server, BIND9 with
two secondaries, an HTTP primary that really stops answering, a command pre-hook, a Slack
channel (the loopback receiver) and propagation confirmed on all three nameservers. So the
activities the lab never runs (verify_propagation, the real probe batch, notifications with
their retries) are in a replayed history too.

Run it with the code of the version whose histories you want (see record.py):

    PYTHONPATH=. .venv/bin/python tests/histories/record_real.py tests/histories/current

It writes ``<prefix>-real-monitor.json`` (MonitorWorkflow, after an automatic failover and a
manual failback) and ``<prefix>-real-failover.json`` (the automatic failover's FailoverWorkflow).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter

from genesis.failover.domain.config import monitor_workflow_id, parse_config
from genesis.failover.domain.models import OperationRequest
from genesis.lab.bind9 import Bind9Lab
from genesis.lab.http_target import DemoService
from genesis.lab.ports import free_port
from genesis.lab.temporal_dev import TemporalDevServer
from tests.emulators.slack import SlackReceiver
from tests.histories.record import save
from tests.integration.conftest import DOMAIN, PRIMARY, TSIG_ENV, ZONE, lab_config_data
from worker.main import run_worker_in_background

SLACK_ENV = "GENESIS_RECORD_SLACK_URL"


async def record(prefix: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="genesis-record-") as tmp:
        root = Path(tmp)
        with (
            TemporalDevServer(root / "temporal.db", headless=True) as server,
            Bind9Lab(
                root / "bind9",
                zone=ZONE + ".",
                records={DOMAIN + ".": PRIMARY},
                secondary_ports=[free_port(), free_port()],
            ) as bind9,
            SlackReceiver() as slack,
        ):
            primary = DemoService().start()
            os.environ[TSIG_ENV] = bind9.tsig_secret
            os.environ[SLACK_ENV] = slack.url
            data = lab_config_data(
                server, bind9, primary.url, "record-real", failback_healthy_seconds=0
            )
            data["hooks"] = {
                "pre_failover": [
                    {"name": "stop_trading", "command": [sys.executable, "-c", "print('ok')"]}
                ]
            }
            data["notifications"] = {
                "channels": ["slack"],
                "slack": {"webhook_url_env": SLACK_ENV},
            }
            config = parse_config(data)
            client = await Client.connect(server.address, data_converter=pydantic_data_converter)
            stop = asyncio.Event()
            task = await run_worker_in_background(config, stop=stop)
            handle = client.get_workflow_handle(monitor_workflow_id(config.site.name))
            try:
                await until(handle, lambda s: s["health"]["checks"]["primary_api"]["total_probes"])
                host, port = primary.host, primary.port
                primary.stop()
                failed_over = await until(handle, lambda s: s["state"] == "failed_over")
                run_id = failed_over["last_operation"]["run_id"]
                primary = DemoService(host, port).start()
                await until(handle, lambda s: s["health"]["checks"]["primary_api"]["is_healthy"])
                back = await handle.execute_update(
                    "request_failback", OperationRequest(reason="recorded"), result_type=dict
                )
                assert back["success"], back
                await until(handle, lambda s: s["current_operation"] is None)
                await save(handle, Path(f"{prefix}-real-monitor.json"))
                failover = client.get_workflow_handle(back["workflow_id"], run_id=run_id)
                await save(failover, Path(f"{prefix}-real-failover.json"))
                await handle.terminate("recorded")
            finally:
                stop.set()
                await task
                primary.stop()


async def until(
    handle: WorkflowHandle[Any, Any], pred: Callable[[dict[str, Any]], Any], within: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        try:
            status: dict[str, Any] = await handle.query("status")
            if pred(status):
                return status
        except Exception as exc:  # the monitor may not have started yet
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met in {within}s: {exc}") from exc
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met in {within}s: {status}")
        await asyncio.sleep(0.2)


if __name__ == "__main__":
    asyncio.run(record(Path(sys.argv[1])))

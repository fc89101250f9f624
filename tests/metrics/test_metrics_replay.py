"""A worker that replays a monitor's history (after a restart, or a cache eviction) records
none of our metrics for what the history already holds: the SDK's workflow meter skips every
add/record/set while replaying, so a failover is never counted twice."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from genesis.failover.domain.config import MetricsSettings
from genesis.lab.ports import free_port
from tests.metrics.scrape import scrape
from worker.metrics import metrics_runtime
from workflows.failover import FailoverWorkflow
from workflows.monitor import MonitorWorkflow

# A monitor that probed, failed over and failed back (two child workflows completed).
HISTORY = Path(__file__).resolve().parents[1] / "histories" / "current-monitor.json"


async def test_replaying_a_monitor_with_two_operations_records_none_of_our_metrics() -> None:
    history = WorkflowHistory.from_json("monitor", HISTORY.read_text())
    assert history.events and "CHILD_WORKFLOW_EXECUTION_COMPLETED" in HISTORY.read_text()
    port = free_port()
    runtime = metrics_runtime(MetricsSettings(prometheus_address=f"127.0.0.1:{port}"), site="r")
    # The replayer records through this Runtime's meter (as a worker does): with the SDK's
    # replay check patched out, every monitor metric shows up here (tried by hand).
    replayer = Replayer(
        workflows=[MonitorWorkflow, FailoverWorkflow],
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure

    samples = await scrape(f"http://127.0.0.1:{port}/metrics")
    ours = sorted(n for n in samples.names() if n.startswith("genesis_failover_"))
    assert ours == [], f"recorded while replaying: {ours}"

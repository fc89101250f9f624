"""Before an upgrade: replay the site's own histories, from its own cluster, through this code.

A worker upgraded while a failover waits out a TTL, or while the monitor counts failures, picks
the workflow up by replaying its history through the NEW code. If the new code would have
issued different commands (a step added without ``workflow.patched``), the workflow task fails
with a non-determinism error and the workflow stops making progress until a worker with
compatible code takes it. The recorded histories in tests/histories guard what we ship; this
guards what an operator is about to deploy against what their cluster is running right now:

    genesis-failover -c site.toml replay          # with the NEW version installed, before rollout

Every running workflow of the site's task queue is replayed (they are the ones an upgrade
touches), and the most recent closed ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from genesis.failover.domain.config import FailoverConfig, failover_workflow_id, monitor_workflow_id
from worker.main import WORKFLOWS


@dataclass
class ReplayFailure:
    workflow_id: str
    run_id: str
    running: bool
    error: str


@dataclass
class ReplayReport:
    replayed: int = 0
    running: int = 0
    failures: list[ReplayFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def site_query(config: FailoverConfig, *, running: bool) -> str:
    # By task queue: it holds exactly the site's monitor and failovers, and needs no custom
    # search attribute (a cluster may lack them: worker/attributes.py).
    status = "ExecutionStatus = 'Running'" if running else "ExecutionStatus != 'Running'"
    return f"TaskQueue = '{config.temporal.task_queue}' AND {status}"


def _ours(config: FailoverConfig, workflow_id: str) -> bool:
    site = config.site.name
    return workflow_id in (monitor_workflow_id(site), failover_workflow_id(site))


async def _histories(
    client: Client, config: FailoverConfig, *, running: bool, limit: int | None
) -> list[tuple[WorkflowHistory, str, bool]]:
    found: list[tuple[WorkflowHistory, str, bool]] = []
    async for execution in client.list_workflows(site_query(config, running=running)):
        if not _ours(config, execution.id):
            continue
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        found.append((await handle.fetch_history(), execution.run_id, running))
        if limit is not None and len(found) >= limit:
            break
    return found


async def replay_site_histories(
    client: Client,
    config: FailoverConfig,
    *,
    closed_limit: int = 20,
    workflows: Sequence[type] = WORKFLOWS,
    converter: DataConverter | None = None,
    runner: WorkflowRunner | None = None,
) -> ReplayReport:
    """Replay the site's running workflows and its ``closed_limit`` most recent closed ones
    through ``workflows`` (this installation's code); a failure per history that would not."""
    histories = await _histories(client, config, running=True, limit=None)
    histories += await _histories(client, config, running=False, limit=closed_limit)
    replayer = Replayer(
        workflows=list(workflows),
        data_converter=converter or client.data_converter,
        # The sandbox, as the worker runs them, unless a test replays classes of its own.
        workflow_runner=runner or SandboxedWorkflowRunner(),
    )
    report = ReplayReport()
    for history, run_id, running in histories:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        report.replayed += 1
        report.running += running
        if result.replay_failure is not None:
            report.failures.append(
                ReplayFailure(history.workflow_id, run_id, running, str(result.replay_failure))
            )
    return report

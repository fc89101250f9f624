"""The replay guard has teeth: a workflow changed in a way that breaks running workflows fails
replay of the recorded histories, so test_replay.py cannot pass by replaying nothing.

The broken variants do what a careless change would: issue one more command before the others
(here a timer, as a new "wait a moment first" would), under the same workflow type name.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from genesis.failover.domain.models import FailoverInput, FailoverResult
from genesis.failover.domain.plan import MonitorInput
from workflows.failover import FailoverWorkflow
from workflows.monitor import MonitorWorkflow

HERE = Path(__file__).parent


@workflow.defn(name="FailoverWorkflow")
class FailoverWaitingFirst(FailoverWorkflow):
    @workflow.run
    async def run(self, inp: FailoverInput) -> FailoverResult:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(inp)


@workflow.defn(name="MonitorWorkflow")
class MonitorWaitingFirst(MonitorWorkflow):
    @workflow.run
    async def run(self, inp: MonitorInput) -> None:
        await workflow.sleep(timedelta(seconds=1))
        await super().run(inp)


BROKEN = {"failover": FailoverWaitingFirst, "monitor": MonitorWaitingFirst}
CASES = [
    (p.stem, p.read_text(), BROKEN[p.stem.rsplit("-", 1)[1]]) for p in sorted(HERE.glob("*.json"))
]


def test_every_recorded_history_is_a_monitor_or_a_failover() -> None:
    names = sorted(p.name for p in HERE.glob("*.json"))
    assert names and all(n.endswith(("-monitor.json", "-failover.json")) for n in names), names


@pytest.mark.parametrize(("name", "text", "broken"), CASES, ids=[c[0] for c in CASES])
async def test_a_workflow_that_issues_a_new_command_first_fails_replay(
    name: str, text: str, broken: type
) -> None:
    history = WorkflowHistory.from_json(name, text)
    # Unsandboxed: the variants live in this test module, which the sandbox would re-import;
    # the determinism check is the SDK core's, not the sandbox's.
    replayer = Replayer(
        workflows=[broken],
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None, f"{name} replayed through a broken workflow"
    assert "nondetermin" in str(result.replay_failure).lower(), result.replay_failure

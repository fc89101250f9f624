"""Histories recorded by earlier versions (tests/histories/record.py) replay through the current
workflow code: a worker upgraded while a monitor runs, or while a failover waits out a TTL,
picks them up where they were instead of wedging them with a non-determinism error."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.failover import FailoverWorkflow
from workflows.monitor import MonitorWorkflow

HERE = Path(__file__).parent
HISTORIES = sorted(HERE.glob("*.json"))


def test_there_are_histories_to_replay() -> None:
    assert HISTORIES, f"no recorded history in {HERE}"


@pytest.mark.parametrize(
    ("name", "text"), [(p.stem, p.read_text()) for p in HISTORIES], ids=[p.stem for p in HISTORIES]
)
async def test_a_recorded_history_replays_through_the_current_code(name: str, text: str) -> None:
    history = WorkflowHistory.from_json(name, text)
    replayer = Replayer(
        workflows=[MonitorWorkflow, FailoverWorkflow], data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{name}: {result.replay_failure}"

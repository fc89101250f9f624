"""Realistic events for the channel tests: built by ``notify.events`` from one failover's input
and result, as the workflow builds them (``failover()``; fixture ``one_failover`` in conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from genesis.failover.domain.models import (
    FailoverInput,
    FailoverResult,
    NotificationEvent,
    Outcome,
    RecordRef,
    RecordSwitch,
)
from genesis.failover.domain.notify import events

WORKFLOW_ID = "failover-genesis-20240501T031200Z"
RUN_ID = "5f0c3a8e-1d2b-4c6f-9a7e-0b1c2d3e4f50"
STARTED = datetime(2024, 5, 1, 3, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Failover:
    """One failover told twice: when it starts and when it ends."""

    inp: FailoverInput
    result: FailoverResult
    started: NotificationEvent
    finished: NotificationEvent


def failover(outcome: Outcome = "succeeded", error: str | None = None) -> Failover:
    inp = FailoverInput(
        site="genesis",
        direction="failover",
        trigger="automatic",
        reason="primary_database unhealthy 3 times",
        primary_ip="192.0.2.10",
        backup_ip="198.51.100.20",
        provider="rfc2136",
        records=[
            RecordRef(domain="genesis.example.com"),
            RecordRef(domain="api.genesis.example.com"),
        ],
    )
    records = [
        RecordSwitch(
            domain=ref.domain,
            record_type="A",
            provider="rfc2136",
            before=["192.0.2.10"],
            after=["198.51.100.20"],
            target="198.51.100.20",
            action="switched",
        )
        for ref in inp.records
    ]
    result = inp.result(
        workflow_id=WORKFLOW_ID,
        outcome=outcome,
        success=outcome == "succeeded",
        started_at=STARTED,
        finished_at=STARTED + timedelta(seconds=42.5),
        error=error,
        records=records,
    )
    return Failover(
        inp=inp,
        result=result,
        started=events.operation_started(inp, workflow_id=WORKFLOW_ID, run_id=RUN_ID, now=STARTED),
        finished=events.operation_finished(result, run_id=RUN_ID),
    )

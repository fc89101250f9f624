"""One operation's identity (the Operation model) and its life in the monitor's state (claimed,
started, finished), without Temporal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from genesis.failover.domain.models import FailoverResult, Operation, RecordSwitch
from genesis.failover.domain.state import OperationRecord, SiteState

PRIMARY, BACKUP = "192.0.2.10", "192.0.2.20"
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def operation(direction: str = "failover") -> Operation:
    return Operation(
        site="genesis",
        direction=direction,  # type: ignore[arg-type]
        trigger="manual",
        reason="maintenance",
        primary_ip=PRIMARY,
        backup_ip=BACKUP,
    )


def test_from_and_to_follow_the_direction() -> None:
    assert (operation().from_ip, operation().to_ip) == (PRIMARY, BACKUP)
    assert (operation("failback").from_ip, operation("failback").to_ip) == (BACKUP, PRIMARY)


def test_a_dump_read_back_is_the_same_operation_and_a_contradiction_is_refused() -> None:
    """from_ip/to_ip are in every dump (the result's JSON contract) but never stored: a result
    that says it moved traffic one way while its direction says the other is refused."""
    dumped = operation("failback").model_dump(mode="json")
    assert dumped["from_ip"] == BACKUP and dumped["to_ip"] == PRIMARY
    assert Operation.model_validate(dumped) == operation("failback")
    with pytest.raises(ValidationError, match="is not a failback"):
        Operation.model_validate({**dumped, "from_ip": PRIMARY, "to_ip": BACKUP})


def test_the_hook_context_is_made_from_the_operation() -> None:
    ctx = operation("failback").hook_context("failover-genesis-switch")
    assert (ctx.site, ctx.direction, ctx.from_ip, ctx.to_ip) == (
        "genesis",
        "failback",
        BACKUP,
        PRIMARY,
    )


def record(dry_run: bool = False, trigger: str = "manual") -> OperationRecord:
    return OperationRecord(
        workflow_id="failover-genesis-switch",
        direction="failover",
        trigger=trigger,  # type: ignore[arg-type]
        reason="maintenance",
        dry_run=dry_run,
        started_at=T0,
    )


def result(outcome: str = "succeeded", action: str = "switched") -> FailoverResult:
    return FailoverResult(
        **operation().identity_fields(),
        success=outcome == "succeeded",
        duration_seconds=2,
        outcome=outcome,  # type: ignore[arg-type]
        started_at=T0,
        finished_at=T0 + timedelta(seconds=2),
        records=[
            RecordSwitch(
                domain="genesis.example.com",
                record_type="A",
                provider="rfc2136",
                before=[PRIMARY],
                target=BACKUP,
                action=action,  # type: ignore[arg-type]
            )
        ],
    )


def test_a_real_failover_counts_toward_the_limits_from_its_start() -> None:
    """A failover that hangs must still use one of the day's five."""
    state = SiteState(site="genesis")
    op = record()
    state.claim(op)
    assert state.current is op
    state.started(op, "run-1", T0)
    assert state.state == "failing_over" and state.failover_count == 1
    assert state.recent_failovers == [T0] and op.run_id == "run-1"


def test_drills_and_dry_runs_neither_count_nor_start_a_cooldown() -> None:
    """A rehearsal must not hold back the real failover that follows it."""
    for op in (record(dry_run=True), record(dry_run=True, trigger="drill")):
        state = SiteState(site="genesis")
        state.claim(op)
        state.started(op, "run-1", T0)
        state.finished(op, result("dry_run", "would_switch"), T0 + timedelta(seconds=1))
        assert state.failover_count == 0 and state.last_change_at is None
        assert state.state == "normal" and state.current is None


def test_a_finished_operation_moves_the_records_starts_the_cooldown_and_is_remembered() -> None:
    state = SiteState(site="genesis")
    op = record()
    state.claim(op)
    state.started(op, "run-1", T0)
    done = T0 + timedelta(seconds=2)
    state.finished(op, result(), done)
    assert state.records == {"genesis.example.com/A": "backup"}
    assert state.state == "failed_over" and state.last_change_at == done
    assert state.current is None and state.history == [op] and op.outcome == "succeeded"


def test_an_operation_that_never_started_leaves_no_trace() -> None:
    state = SiteState(site="genesis")
    state.claim(record())
    state.release()
    assert state.current is None and state.history == [] and state.failover_count == 0

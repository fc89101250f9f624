"""Readiness gates inside FailoverWorkflow: asked before anything with a side effect.

Failover: the config's [gates] (backup checks, replication lag). Failback: the monitor's healthy
window (decided from its own record and handed in) and the primary's critical checks probed once
more. A forced operation asks none of them and says so in the history (a memo and the result).
"""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from workflows.retries import cause

with workflow.unsafe.imports_passed_through():
    from activities.gates import GateActivities
    from activities.payloads import ReadinessInput
    from genesis.failover.domain.models import FailoverInput, GateKind, GateResult

FORCED = "skipped: forced by the operator"
# Gates bound every probe and query themselves; this covers the activity round trip.
GATE_MARGIN_SECONDS = 10


class _Gate(NamedTuple):
    name: str
    kind: GateKind
    timeout_seconds: float


def _asked_by_activity(inp: FailoverInput) -> list[_Gate]:
    """The gates the readiness activity answers for this operation, in the order it answers."""
    if inp.direction == "failback":
        return [_Gate(c.name, "primary_check", c.timeout_seconds) for c in inp.primary_checks]
    gates = [_Gate(c.name, "backup_check", c.timeout_seconds) for c in inp.gates.backup_checks]
    lag = inp.gates.replication_lag
    if lag is not None:
        gates.append(_Gate(lag.name, "replication_lag", lag.timeout_seconds))
    return gates


def skipped(inp: FailoverInput) -> list[GateResult]:
    """What a forced operation did not ask."""
    named = [(g.name, g.kind) for g in inp.prechecked_gates]
    named += [(g.name, g.kind) for g in _asked_by_activity(inp)]
    return [
        GateResult(name=name, kind=kind, ok=True, skipped=True, detail=FORCED)
        for name, kind in named
    ]


def _budget(inp: FailoverInput, gates: list[_Gate]) -> timedelta:
    g = inp.gates
    longest = max(gate.timeout_seconds for gate in gates)
    return timedelta(
        seconds=longest * g.attempts
        + g.retry_interval_seconds * (g.attempts - 1)
        + GATE_MARGIN_SECONDS
    )


async def ask(inp: FailoverInput) -> list[GateResult]:
    """Every gate's verdict, the monitor's first. A gate activity that could not run at all
    (no worker took it) is a failed gate: readiness that nobody checked is not readiness."""
    results = list(inp.prechecked_gates)
    wanted = _asked_by_activity(inp)
    if not wanted:
        return results
    question = "backup ready? " if inp.direction == "failover" else "primary healthy now? "
    try:
        answer = await workflow.execute_activity_method(
            GateActivities.check_readiness,
            ReadinessInput(
                direction=inp.direction, gates=inp.gates, primary_checks=inp.primary_checks
            ),
            start_to_close_timeout=_budget(inp, wanted),
            retry_policy=RetryPolicy(maximum_attempts=2),
            summary=("gates: " + question + ", ".join(g.name for g in wanted))[:200],
        )
        results.extend(answer.gates)
    except ActivityError as err:
        results.append(
            GateResult(
                name="readiness",
                kind="backup_check" if inp.direction == "failover" else "primary_check",
                ok=False,
                detail=f"gates could not be checked: {cause(err)}",
            )
        )
    return results

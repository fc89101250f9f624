"""Readiness gate activity: is the other side ready to take traffic, right now?

A failed gate is data (``GateResult.ok=False``), never an error: retrying the activity would only
ask the same question again, and the gates already try ``attempts`` times themselves.
"""

from __future__ import annotations

import socket

from temporalio import activity

from activities.payloads import ReadinessInput, ReadinessResult
from genesis.failover.domain.gates import check_failover_gates, check_primary_now


class GateActivities:
    def __init__(self, *, origin: str | None = None) -> None:
        self._origin = origin or socket.gethostname()

    @activity.defn(name="check_readiness")
    async def check_readiness(self, inp: ReadinessInput) -> ReadinessResult:
        origin = f"{self._origin}/{activity.info().task_queue}"
        if inp.direction == "failover":
            gates = await check_failover_gates(inp.gates, origin=origin)
        else:
            gates = await check_primary_now(
                inp.primary_checks,
                attempts=inp.gates.attempts,
                retry_interval_seconds=inp.gates.retry_interval_seconds,
                origin=origin,
            )
        return ReadinessResult(gates=gates)

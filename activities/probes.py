"""Probe activity: one batch of due checks per monitor tick.

Why a batch and not one activity per check: the dev server's SQLite persistence sustains only
~150-190 activities/s and every activity costs three history events. A batch costs the same
three events for 1 or 1,000 checks (measured in scripts/measure_probe_modes.py), and each probe
inside it is still bounded by its own timeout and reported separately.
"""

from __future__ import annotations

import socket

from temporalio import activity

from activities._metrics import record_probes
from activities.payloads import ProbeBatchInput, ProbeBatchResult
from genesis.failover.domain.probes import probe_slots, run_probes


class ProbeActivities:
    def __init__(self, *, origin: str | None = None) -> None:
        self._origin = origin or socket.gethostname()
        # One bound for every batch this worker runs (batches of several monitors may overlap).
        self._slots = probe_slots()

    @activity.defn(name="probe_checks")
    async def probe_checks(self, inp: ProbeBatchInput) -> ProbeBatchResult:
        origin = f"{self._origin}/{activity.info().task_queue}"
        results = await run_probes(inp.checks, origin=origin, slots=self._slots)
        record_probes(inp.checks, results, inp.due_at)
        return ProbeBatchResult(results=results)

"""Our activities' metrics, recorded through ``activity.metric_meter()``: the worker's Runtime
exports them beside the SDK's own (a no-op meter when metrics are off).

The meter already labels everything with the namespace, task queue and activity type, and the
Runtime with the site; these add only bounded labels from the config (never an error message).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from temporalio import activity

from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.metrics import (
    PROBE_DURATION,
    PROBE_LATENESS,
    PROBES,
    PROPAGATION_DURATION,
)
from genesis.failover.domain.models import ProbeResult


def record_probes(
    checks: Iterable[CheckConfig], results: Iterable[ProbeResult], due_at: datetime | None = None
) -> None:
    """``due_at``: when the monitor wanted the batch probed (None from an older monitor)."""
    meter = activity.metric_meter()
    duration = meter.create_histogram_float(PROBE_DURATION.name, PROBE_DURATION.help)
    lateness = meter.create_histogram_float(PROBE_LATENESS.name, PROBE_LATENESS.help)
    probes = meter.create_counter(PROBES.name, PROBES.help)
    check_types = {c.name: c.check_type for c in checks}
    for r in results:
        labels = {"check": r.check_name, "check_type": check_types.get(r.check_name, "")}
        duration.record(r.latency_ms / 1000, labels)
        if due_at is not None:
            started = r.checked_at - timedelta(milliseconds=r.latency_ms)
            lateness.record(max(0.0, (started - due_at).total_seconds()))
        # The other result at 0: the first failure must be an increase, not a new series.
        probes.add(1 if r.healthy else 0, {**labels, "result": "ok"})
        probes.add(0 if r.healthy else 1, {**labels, "result": "fail"})


def record_propagation(seconds: float, provider: str) -> None:
    """A complete propagation check: every nameserver answered the new address."""
    activity.metric_meter().create_histogram_float(
        PROPAGATION_DURATION.name, PROPAGATION_DURATION.help
    ).record(seconds, {"provider": provider})

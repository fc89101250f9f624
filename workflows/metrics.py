"""The monitor's metrics (check health, failovers by outcome, time since the last failover),
through the SDK's metric meter, so they reach the worker's Prometheus endpoint with the SDK's own.

The SDK drops workflow metrics during replay (``_ReplaySafeMetricMeter`` in
temporalio/worker/_workflow_instance.py: every ``add``/``record``/``set`` is skipped while
``workflow.unsafe.is_replaying()``), so a worker that takes over a monitor does not count its
past failovers twice; the gauges are set again on the first live loop. Nothing here does I/O or
reads a clock: ``now`` is ``workflow.now()``, the value the history holds.

Instruments are created on each call rather than kept: the sandbox gives every workflow run its
own copy of this module, and the meter carries the run's task queue; a cached instrument could
outlive the run it belongs to. The SDK's meter makes creating one cheap.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from genesis.failover.domain import policy as site_policy
    from genesis.failover.domain.config import PolicySettings
    from genesis.failover.domain.metrics import (
        CHECK_CONSECUTIVE_FAILURES,
        CHECK_HEALTHY,
        COOLDOWN_REMAINING,
        FAILOVERS_LAST_24H,
        FAILOVERS_LEFT_TODAY,
        LAST_FAILOVER_TIMESTAMP,
        MONITOR_LOOP_TIMESTAMP,
        OPERATION_DURATION,
        OPERATIONS,
        STATE,
        TIME_SINCE_LAST_FAILOVER,
    )
    from genesis.failover.domain.models import (
        Direction,
        FailoverResult,
        MonitorState,
        Outcome,
        Trigger,
    )
    from genesis.failover.domain.state import OperationRecord, SiteState

STATES: tuple[str, ...] = get_args(MonitorState)
# Every label set of the operations counter (2 x 3 x 6 = 36 series per site), created at 0.
OPERATION_LABELS: tuple[dict[str, str], ...] = tuple(
    {"direction": d, "trigger": t, "outcome": o}
    for d in get_args(Direction)
    for t in get_args(Trigger)
    for o in get_args(Outcome)
)


def start_counters() -> None:
    """Create every operations series at 0 (once per run): the first failover is then an
    increase() from 0 to 1, which an alert sees, instead of a series that appears at 1."""
    operations = workflow.metric_meter().create_counter(OPERATIONS.name, OPERATIONS.help)
    for labels in OPERATION_LABELS:
        operations.add(0, labels)


def observe_site(state: SiteState, now: datetime, policy: PolicySettings) -> None:
    """Gauges of the site as it is now: each check's health, the state, time since failover,
    and the cooldown remaining and failovers left today (whether an automatic failover could
    happen now)."""
    if workflow.unsafe.is_replaying():
        # The SDK would drop every value anyway; a worker replaying a long monitor history
        # (thousands of loops) need not compute them.
        return
    meter = workflow.metric_meter()
    healthy = meter.create_gauge(CHECK_HEALTHY.name, CHECK_HEALTHY.help)
    failures = meter.create_gauge(CHECK_CONSECUTIVE_FAILURES.name, CHECK_CONSECUTIVE_FAILURES.help)
    for check in state.checks.values():
        labels = {"check": check.name, "critical": "true" if check.critical else "false"}
        healthy.set(1 if check.is_healthy else 0, labels)
        failures.set(check.consecutive_failures, labels)

    current = meter.create_gauge(STATE.name, STATE.help)
    for name in STATES:
        current.set(1 if name == state.state else 0, {"state": name})
    meter.create_gauge_float(MONITOR_LOOP_TIMESTAMP.name, MONITOR_LOOP_TIMESTAMP.help).set(
        _unix(now)
    )
    if state.last_failover is not None:
        meter.create_gauge_float(LAST_FAILOVER_TIMESTAMP.name, LAST_FAILOVER_TIMESTAMP.help).set(
            _unix(state.last_failover)
        )
        meter.create_gauge_float(TIME_SINCE_LAST_FAILOVER.name, TIME_SINCE_LAST_FAILOVER.help).set(
            max(0.0, (now - state.last_failover).total_seconds())
        )
    meter.create_gauge(FAILOVERS_LAST_24H.name, FAILOVERS_LAST_24H.help).set(
        site_policy.failovers_in_window(state, now)
    )
    meter.create_gauge(FAILOVERS_LEFT_TODAY.name, FAILOVERS_LEFT_TODAY.help).set(
        site_policy.failovers_left_today(state, policy, now)
    )
    meter.create_gauge_float(COOLDOWN_REMAINING.name, COOLDOWN_REMAINING.help).set(
        site_policy.cooldown_remaining(state, policy, now)
    )


def observe_operation(op: OperationRecord, result: FailoverResult) -> None:
    """Counters of a finished failover or failback, by direction, trigger and outcome."""
    meter = workflow.metric_meter()
    meter.create_counter(OPERATIONS.name, OPERATIONS.help).add(
        1, {"direction": op.direction, "trigger": op.trigger, "outcome": result.outcome}
    )
    meter.create_histogram_float(OPERATION_DURATION.name, OPERATION_DURATION.help).record(
        max(0.0, result.duration_seconds), {"direction": op.direction, "outcome": result.outcome}
    )


def _unix(at: datetime) -> float:
    # workflow.now() is aware (UTC); a naive datetime from an old state is UTC too.
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()

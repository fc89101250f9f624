"""The monitor's metrics (check health, failovers by outcome, time since the last failover),
through the SDK's metric meter, so they reach the worker's Prometheus endpoint with the SDK's own.

The SDK drops workflow metrics during replay, so a worker that takes over a monitor does not
count its past failovers twice.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from genesis.failover.models import FailoverResult
    from genesis.failover.state import OperationRecord, SiteState


def observe_site(state: SiteState, now: datetime) -> None:
    """Gauges of the site as it is now: each check's health, the state, time since failover."""
    # TODO(metrics helper): implement.


def observe_operation(op: OperationRecord, result: FailoverResult) -> None:
    """Counters of a finished failover or failback, by direction, trigger and outcome."""
    # TODO(metrics helper): implement.

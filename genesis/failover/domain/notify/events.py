"""Notification events, built by pure functions of what the workflows know.

Pure and deterministic (no clock but the one passed in, no I/O), so the monitor and the failover
workflow build them inside workflow code and replay gives the same event. Channels render them
(``email``, ``slack``, ``pagerduty``); nothing here knows a channel.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from genesis.failover.domain.config import EventKind
from genesis.failover.domain.models import FailoverInput, FailoverResult, NotificationEvent
from genesis.failover.domain.state import CheckHealth, Decision

Severity = Literal["critical", "error", "warning", "info"]
# Refusals worth telling people about: the site is unhealthy and nothing will move by itself.
NOTIFIED_REFUSALS = frozenset({"cooldown", "daily_limit", "auto_failover_disabled"})


def operation_dedup_key(site: str, workflow_id: str, run_id: str) -> str:
    """One key per failover (PagerDuty triggers on start and resolves the same incident)."""
    return f"genesis-failover/{site}/{workflow_id}/{run_id}"[:255]


def outcome_kind(direction: str, outcome: str) -> EventKind:
    if direction == "failback":
        return "failback_done" if outcome == "succeeded" else "failback_failed"
    if outcome == "succeeded":
        return "failover_succeeded"
    if outcome == "degraded":
        return "failover_degraded"
    return "failover_failed"  # failed, aborted (a gate or a pre-hook said no)


def _severity(kind: EventKind) -> Severity:
    severities: dict[EventKind, Severity] = {
        "failover_started": "critical",
        "failover_failed": "critical",
        "failover_degraded": "error",
        "failback_failed": "error",
        "auto_failover_refused": "critical",
        "check_unhealthy": "warning",
        "failback_started": "info",
        "failback_done": "info",
        "failover_succeeded": "info",
        "check_recovered": "info",
    }
    return severities[kind]


def _record_lines(result: FailoverResult) -> list[str]:
    lines = []
    for r in result.records:
        before = ", ".join(r.before) or "?"
        lines.append(f"{r.domain} {r.record_type}: {before} -> {r.target} ({r.action})")
    return lines


def operation_started(
    inp: FailoverInput, *, workflow_id: str, run_id: str, now: datetime
) -> NotificationEvent:
    kind: EventKind = "failover_started" if inp.direction == "failover" else "failback_started"
    verb = "Failing over" if inp.direction == "failover" else "Failing back"
    return NotificationEvent(
        kind=kind,
        site=inp.site,
        summary=f"{verb} {inp.site}: {inp.from_ip} -> {inp.to_ip} ({inp.reason})"[:1024],
        severity=_severity(kind),
        dedup_key=operation_dedup_key(inp.site, workflow_id, run_id),
        occurred_at=now,
        operation=inp.identity(),
        workflow_id=workflow_id,
        run_id=run_id,
        records=[f"{r.domain} {r.record_type}" for r in inp.records],
    )


def operation_finished(result: FailoverResult, *, run_id: str) -> NotificationEvent:
    kind = outcome_kind(result.direction, result.outcome)
    word = {
        "succeeded": "done",
        "degraded": "DEGRADED",
        "aborted": "ABORTED",
        "failed": "FAILED",
    }.get(result.outcome, result.outcome)
    summary = (
        f"{result.direction.capitalize()} {result.site} {word}: {result.from_ip} -> "
        f"{result.to_ip} in {result.duration_seconds:.1f}s ({result.reason})"
    )
    if result.error and result.outcome != "succeeded":
        summary += f": {result.error}"
    return NotificationEvent(
        kind=kind,
        site=result.site,
        summary=summary[:1024],
        severity=_severity(kind),
        dedup_key=operation_dedup_key(result.site, result.workflow_id, run_id),
        occurred_at=result.finished_at,
        operation=result.identity(),
        outcome=result.outcome,
        workflow_id=result.workflow_id,
        run_id=run_id,
        duration_seconds=round(result.duration_seconds, 3),
        records=_record_lines(result),
        error=result.error,
    )


def check_changed(site: str, health: CheckHealth, now: datetime) -> NotificationEvent:
    """A check turned unhealthy (after its failure threshold) or healthy again (after its
    success threshold): the thresholds already keep one blip from making noise."""
    kind: EventKind = "check_recovered" if health.is_healthy else "check_unhealthy"
    critical = "critical check" if health.critical else "check"
    if health.is_healthy:
        summary = f"{site}: {critical} {health.name} recovered"
    else:
        summary = f"{site}: {critical} {health.name} unhealthy: {health.last_error or 'failing'}"
    return NotificationEvent(
        kind=kind,
        site=site,
        summary=summary[:1024],
        severity=_severity(kind),
        # Unhealthy triggers and recovered resolves the same incident.
        dedup_key=f"genesis-failover/{site}/check/{health.name}"[:255],
        occurred_at=now,
        check_name=health.name,
        error=None if health.is_healthy else health.last_error,
    )


def failover_refused(site: str, decision: Decision) -> NotificationEvent:
    """The site is unhealthy but the policy will not fail it over by itself."""
    return NotificationEvent(
        kind="auto_failover_refused",
        site=site,
        summary=f"{site}: automatic failover refused ({decision.reason}): {decision.message}"[
            :1024
        ],
        severity=_severity("auto_failover_refused"),
        dedup_key=f"genesis-failover/{site}/refused/{decision.reason}"[:255],
        occurred_at=decision.at,
        reason=decision.reason,
        error=decision.message,
    )

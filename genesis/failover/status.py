"""The seed's status and health shapes, built from the monitor's state (pure functions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from genesis.failover import policy
from genesis.failover.config import PolicySettings
from genesis.failover.state import CheckHealth, OperationRecord, SiteState


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def check_status(c: CheckHealth) -> dict[str, Any]:
    return {
        "is_healthy": c.is_healthy,
        "critical": c.critical,
        "last_error": c.last_error,
        "consecutive_failures": c.consecutive_failures,
        "consecutive_successes": c.consecutive_successes,
        "last_checked": _iso(c.last_checked),
        "last_latency_ms": c.last_latency_ms,
        "total_probes": c.total_probes,
        "total_failures": c.total_failures,
        "probes_lost": c.probes_lost,
        "origin": c.origin,
    }


def build_health(state: SiteState) -> dict[str, Any]:
    """``{"overall_health", "healthy_checks", "total_checks", "checks": {name: {...}}}``.

    overall_health counts critical checks only: a non-critical check reports, it does not decide.
    """
    checks = state.checks
    return {
        "overall_health": all(c.is_healthy for c in checks.values() if c.critical),
        "healthy_checks": sum(1 for c in checks.values() if c.is_healthy),
        "total_checks": len(checks),
        "checks": {name: check_status(c) for name, c in checks.items()},
    }


def details_markdown(state: SiteState) -> str:
    """The monitor's current details in the Web UI: state and each check at a glance."""
    lines = [f"**state:** {state.state}"]
    if state.current:
        lines.append(f"**running:** {state.current.direction} ({state.current.reason})")
    for c in state.checks.values():
        mark = "ok" if c.is_healthy else "UNHEALTHY"
        err = f" - {c.last_error}" if c.last_error else ""
        lines.append(f"- {c.name}: {mark}{err}")
    return "\n".join(lines)


def operation_summary(op: OperationRecord) -> dict[str, Any]:
    return {
        "workflow_id": op.workflow_id,
        "direction": op.direction,
        "trigger": op.trigger,
        "reason": op.reason,
        "dry_run": op.dry_run,
        "started_at": _iso(op.started_at),
        "finished_at": _iso(op.finished_at),
        "duration_seconds": op.duration_seconds,
        "outcome": op.outcome,
        "success": op.success,
        "records": {r.domain: r.action for r in op.records},
        "error": op.error,
    }


def build_status(
    state: SiteState,
    pol: PolicySettings,
    now: datetime,
    *,
    primary_ip: str,
    backup_ip: str,
) -> dict[str, Any]:
    until = policy.cooldown_until(state, pol)
    decision = state.last_decision
    return {
        "site": state.site,
        "state": state.state,
        "failover_count": state.failover_count,
        "last_failover": _iso(state.last_failover),
        "primary_ip": primary_ip,
        "backup_ip": backup_ip,
        "auto_failover": pol.auto_failover,
        "auto_failback": pol.auto_failback,
        "cooldown_until": _iso(until) if until and until > now else None,
        "cooldown_remaining_seconds": round(policy.cooldown_remaining(state, pol, now), 1),
        "failovers_last_24h": policy.failovers_in_window(state, now),
        "failovers_left_today": policy.failovers_left_today(state, pol, now),
        "records": dict(state.records),
        "partial": state.partial,
        "current_operation": operation_summary(state.current) if state.current else None,
        "last_operation": operation_summary(state.history[-1]) if state.history else None,
        "last_decision": decision.model_dump(mode="json") if decision else None,
        "last_refusal": state.last_refusal.model_dump(mode="json") if state.last_refusal else None,
        "health": build_health(state),
        "notifications": state.notifications.model_dump(mode="json"),
        "as_of": _iso(now),
    }

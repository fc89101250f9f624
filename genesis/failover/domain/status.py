"""The seed's status and health shapes, built from the monitor's state (pure functions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from genesis.failover.domain import policy
from genesis.failover.domain.config import CheckConfig, PolicySettings
from genesis.failover.domain.models import FailoverInput
from genesis.failover.domain.plan import MonitorPlan
from genesis.failover.domain.state import CheckHealth, OperationRecord, SiteState
from genesis.failover.domain.wording import duration, one_line


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
        "healthy_since": _iso(c.healthy_since),
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


def details_markdown(state: SiteState, plan: MonitorPlan, now: datetime) -> str:
    """The monitor's current details in the Web UI: what an on-call engineer asks first (where
    is traffic, can it fail over, which check is failing and why) without running a query.

    It names the site and its IPs too: a run after continue-as-new has no static summary."""
    pol = plan.policy
    remaining = policy.cooldown_remaining(state, pol, now)
    left = policy.failovers_left_today(state, pol, now)
    records = ", ".join(f"{key} at **{side}**" for key, side in state.records.items())
    lines = [
        f"**Site:** {plan.site} · primary {plan.primary_ip} · backup {plan.backup_ip}",
        f"**State:** {state.state}" + (" (traffic is SPLIT)" if state.partial else ""),
        f"**Records:** {records or 'not read yet'}",
        f"**Cooldown:** {duration(remaining) + ' left' if remaining > 0 else 'none'}"
        f" · **Failovers left today:** {left} of {pol.max_failovers_per_day}"
        f" · **Auto failover:** {'on' if pol.auto_failover else 'OFF'}",
    ]
    if state.current:
        op = state.current
        lines.append(
            f"**Running:** {op.direction} ({op.trigger}: {one_line(op.reason)}) `{op.workflow_id}`"
        )
    if state.last_refusal:
        r = state.last_refusal
        lines.append(f"**Last refusal:** {r.reason}: {one_line(r.message)}")
    # One bullet per check: the Web UI draws Markdown tables without borders or spacing.
    lines += ["", "**Checks:**"]
    for c in state.checks.values():
        mark = "healthy" if c.is_healthy else "**UNHEALTHY**"
        if not c.critical:
            mark += " (not critical)"
        fails = f", {c.consecutive_failures} failures in a row" if c.consecutive_failures else ""
        error = f": {one_line(c.last_error)}" if c.last_error and not c.is_healthy else ""
        lines.append(f"- {c.name}: {mark}{fails}{error}")
    return "\n".join(lines)


def plan_details(plan: MonitorPlan) -> str:
    """The monitor's static details: what it watches and the rules it decides by, as started
    (a changed config reaches the running monitor through its plan; `status` shows the live one)."""
    pol = plan.policy
    checks = ", ".join(
        f"{c.name} ({c.check_type}, every {c.interval_seconds:g}s, {c.failure_threshold} to fail"
        + ("" if c.critical else ", not critical")
        + ")"
        for c in plan.checks
    )
    records = ", ".join(f"{r.domain} {r.record_type} at {r.provider}" for r in plan.records)
    return "\n".join(
        [
            f"**Site:** {plan.site} · primary {plan.primary_ip} · backup {plan.backup_ip}",
            f"**Records:** {records}",
            f"**Checks:** {checks}",
            f"**Policy:** auto failover {'on' if pol.auto_failover else 'OFF'}, cooldown "
            f"{duration(pol.cooldown_seconds)}, at most {pol.max_failovers_per_day} in 24 h, "
            f"failback after {duration(pol.failback_healthy_seconds)} healthy"
            f" ({'automatic' if pol.auto_failback else 'by an operator'})",
            f"**Task queue:** {plan.task_queue}",
        ]
    )


def operation_details(inp: FailoverInput) -> str:
    """A failover workflow's static details: what it was asked to do, fixed at its start."""
    records = ", ".join(f"{r.domain} {r.record_type}" for r in inp.records)
    flags = [f for f, on in (("dry run", inp.dry_run), ("forced", inp.force)) if on]
    return "\n".join(
        [
            f"**{inp.direction.capitalize()}** of site **{inp.site}**: "
            f"{inp.from_ip} -> {inp.to_ip}",
            f"**Trigger:** {inp.trigger}" + (f" ({', '.join(flags)})" if flags else ""),
            f"**Reason:** {one_line(inp.reason)}",
            f"**Records:** {records}",
        ]
    )


def operation_summary(op: OperationRecord) -> dict[str, Any]:
    return {
        "workflow_id": op.workflow_id,
        "run_id": op.run_id,
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


def probe_summary(checks: list[CheckConfig]) -> str:
    """ "probe primary_api (http https://...)": which check, against what (a batch names its
    checks only: a hundred targets would not fit a line)."""
    if len(checks) == 1:
        c = checks[0]
        return f"probe {c.name} ({c.check_type} {c.target})"[:200]
    return f"probe {len(checks)} checks: {', '.join(c.name for c in checks)}"[:200]

"""The failover policy: pure functions of (state, config, now).

Everything that decides whether traffic moves lives here, so it can be tested without Temporal and
replayed deterministically inside a workflow. Each rule names the failure story it prevents.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from genesis.failover.domain.config import CheckConfig, PolicySettings
from genesis.failover.domain.errors import ConfigError
from genesis.failover.domain.models import (
    Direction,
    GateResult,
    OperationRequest,
    ProbeResult,
    operation_request,
)
from genesis.failover.domain.state import CheckHealth, Decision, SiteState

DAY = timedelta(hours=24)


# --- health: thresholds in both directions ------------------------------------------------------


def apply_probe(
    health: CheckHealth,
    check: CheckConfig,
    result: ProbeResult,
    *,
    now: datetime | None = None,
) -> CheckHealth:
    """Count one probe. A check turns unhealthy only at ``failure_threshold`` consecutive failures
    (one lost packet must not move a site) and healthy again only after ``success_threshold``
    consecutive successes (one lucky probe from a flapping primary must not end an outage).

    Any failed probe, even one below the threshold, ends the failback window (``healthy_since``):
    the check stays healthy (one lost packet must not fail a site over), but a primary that
    drops every third probe must not count as healthy "without a break" and get the traffic
    back. The window starts again at its next good probe.

    ``now`` is the decider's clock (workflow time in the monitor): the failback window is
    measured on the same clock as the decision, not on the clock of whichever worker probed."""
    seen = now or result.checked_at
    h = health.model_copy()
    h.critical = check.critical
    h.total_probes += 1
    h.last_checked = result.checked_at
    h.last_latency_ms = result.latency_ms
    h.origin = result.origin
    if result.healthy:
        h.consecutive_successes += 1
        h.consecutive_failures = 0
        if not h.is_healthy and h.consecutive_successes >= check.success_threshold:
            h.is_healthy = True
            h.last_error = None
            h.healthy_since = seen
        elif h.is_healthy and h.healthy_since is None:
            h.healthy_since = seen
        if h.is_healthy:
            h.last_error = None
    else:
        h.total_failures += 1
        h.consecutive_failures += 1
        h.consecutive_successes = 0
        h.last_error = result.error or "probe failed"
        h.healthy_since = None
        if h.consecutive_failures >= check.failure_threshold:
            h.is_healthy = False
            h.healthy_since = None
    return h


def count_probes(
    state: SiteState, checks: list[CheckConfig], results: list[ProbeResult], now: datetime
) -> list[CheckHealth]:
    """Count one batch's results into ``state``; returns the checks whose health flipped."""
    by_name = {c.name: c for c in checks}
    flipped = []
    for result in results:
        check = by_name.get(result.check_name)
        health = state.checks.get(result.check_name)
        if check is None or health is None:
            continue  # the plan changed while the probe ran
        after = apply_probe(health, check, result, now=now)
        state.checks[check.name] = after
        if after.is_healthy != health.is_healthy:
            flipped.append(after)
    return flipped


def count_lost(state: SiteState, checks: list[CheckConfig]) -> None:
    """A batch that could not run (no worker, lost task) is counted as neither success nor
    failure: a dead worker must never fail a healthy site over."""
    for c in checks:
        if c.name in state.checks:
            state.checks[c.name].probes_lost += 1


def unhealthy_critical(state: SiteState) -> list[CheckHealth]:
    return [c for c in state.checks.values() if c.critical and not c.is_healthy]


def primary_healthy_since(state: SiteState) -> datetime | None:
    """Since when every critical check has been healthy (None if one is not, or never probed)."""
    critical = [c for c in state.checks.values() if c.critical]
    if not critical or any(not c.is_healthy or c.healthy_since is None for c in critical):
        return None
    return max(c.healthy_since for c in critical if c.healthy_since is not None)


def describe_unhealthy(checks: Iterable[CheckHealth]) -> str:
    return ", ".join(f"{c.name} unhealthy ({c.last_error})" for c in checks) or "none"


# --- rate limits ---------------------------------------------------------------------------------


def cooldown_until(state: SiteState, policy: PolicySettings) -> datetime | None:
    if state.last_change_at is None:
        return None
    return state.last_change_at + timedelta(seconds=policy.cooldown_seconds)


def cooldown_remaining(state: SiteState, policy: PolicySettings, now: datetime) -> float:
    until = cooldown_until(state, policy)
    return max(0.0, (until - now).total_seconds()) if until else 0.0


def failovers_in_window(state: SiteState, now: datetime) -> int:
    return sum(1 for t in state.recent_failovers if now - t < DAY)


def failovers_left_today(state: SiteState, policy: PolicySettings, now: datetime) -> int:
    return max(0, policy.max_failovers_per_day - failovers_in_window(state, now))


def prune_recent(state: SiteState, now: datetime) -> None:
    state.recent_failovers = [t for t in state.recent_failovers if now - t < DAY]


# --- decisions -----------------------------------------------------------------------------------


def _no(reason: str, message: str, now: datetime) -> Decision:
    return Decision(allowed=False, reason=reason, message=message, at=now)


def _rate_limits(state: SiteState, policy: PolicySettings, now: datetime) -> Decision | None:
    remaining = cooldown_remaining(state, policy, now)
    if remaining > 0:
        # A primary that comes back and dies again must not bounce traffic every few probes.
        return _no(
            "cooldown",
            f"in cooldown for {remaining:.0f}s more (cooldown_seconds={policy.cooldown_seconds:g})",
            now,
        )
    if failovers_left_today(state, policy, now) <= 0:
        # A site failing over again and again has a problem failover will not fix: stop and
        # leave it to a human.
        return _no(
            "daily_limit",
            f"{failovers_in_window(state, now)} failovers in the last 24 h "
            f"(max_failovers_per_day={policy.max_failovers_per_day})",
            now,
        )
    return None


def decide_automatic_failover(state: SiteState, policy: PolicySettings, now: datetime) -> Decision:
    """Should the monitor fail over by itself right now?"""
    bad = unhealthy_critical(state)
    if not bad:
        return Decision(
            allowed=False, reason="healthy", message="all critical checks healthy", at=now
        )
    if state.current is not None:
        return _no("in_progress", f"a {state.current.direction} is already running", now)
    if state.fully_failed_over:
        return _no("already_failed_over", "every record already points at the backup", now)
    if not policy.auto_failover:
        return _no(
            "auto_failover_disabled",
            f"{describe_unhealthy(bad)}, but auto_failover is off",
            now,
        )
    limited = _rate_limits(state, policy, now)
    if limited is not None:
        limited.message = f"{describe_unhealthy(bad)}; {limited.message}"
        return limited
    return Decision(
        allowed=True, reason="critical_unhealthy", message=describe_unhealthy(bad), at=now
    )


def decide_manual(
    state: SiteState,
    policy: PolicySettings,
    now: datetime,
    *,
    direction: Direction,
    dry_run: bool,
    force: bool,
) -> Decision:
    """May an operator's failover or failback start now? ``force`` lifts every gate but the
    one-at-a-time rule (two DNS writers racing is never what anyone wants)."""
    if state.current is not None:
        return _no(
            "in_progress",
            f"a {state.current.direction} ({state.current.workflow_id}) is already running",
            now,
        )
    if dry_run:
        return Decision(
            allowed=True, reason="dry_run", message="dry run: nothing is written", at=now
        )
    if force:
        return Decision(
            allowed=True, reason="forced", message="forced: policy gates skipped", at=now
        )
    if direction == "failover":
        if state.fully_failed_over:
            return _no("already_failed_over", "every record already points at the backup", now)
        limited = _rate_limits(state, policy, now)
        if limited is not None:
            limited.message += "; use force to override"
            return limited
        return Decision(allowed=True, reason="manual", message="manual failover", at=now)
    if not any(side == "backup" for side in state.records.values()):
        return _no("not_failed_over", "no record points at the backup: nothing to fail back", now)
    bad = unhealthy_critical(state)
    if bad:
        # Sending traffic back to a primary that still fails its checks recreates the outage.
        return _no(
            "primary_unhealthy",
            f"primary still unhealthy: {describe_unhealthy(bad)}; use force to override",
            now,
        )
    window = healthy_window_gate(state, policy, now)
    if not window.ok:
        # A primary that answered its checks for a minute may be the same primary that died an
        # hour ago: failing back to it now risks a second outage and a second failover.
        return _no("healthy_window", f"{window.detail}; use force to override", now)
    return Decision(allowed=True, reason="manual", message="manual failback", at=now)


def decide_request(
    state: SiteState, policy: PolicySettings, now: datetime, direction: Direction, payload: object
) -> tuple[OperationRequest | None, Decision]:
    """An operator's signal or update payload, parsed and decided. One that does not parse is
    refused (``bad_payload``, naming the field and the value), never dropped unseen."""
    try:
        req = operation_request(payload, direction)
    except ConfigError as bad:
        return None, _no("bad_payload", str(bad), now)
    decision = decide_manual(
        state, policy, now, direction=direction, dry_run=req.dry_run, force=req.force
    )
    return req, decision


def healthy_window_gate(state: SiteState, policy: PolicySettings, now: datetime) -> GateResult:
    """Failback's gate, decided from the monitor's own record: every critical check of the
    primary healthy, without a break, for ``failback_healthy_seconds``."""
    window = policy.failback_healthy_seconds
    since = primary_healthy_since(state)
    if since is None:
        bad = unhealthy_critical(state)
        blips = [c for c in state.checks.values() if c.critical and c.consecutive_failures]
        if bad:
            detail = f"primary unhealthy: {describe_unhealthy(bad)}"
        elif blips:
            detail = (
                "primary failed its latest probe ("
                + ", ".join(f"{c.name}: {c.last_error}" for c in blips)
                + "): the window starts again at its next good probe"
            )
        else:
            detail = "primary not probed healthy yet"
        return GateResult(
            name="primary_healthy_window",
            kind="healthy_window",
            ok=False,
            detail=detail,
            value=0.0,
            limit=window,
        )
    healthy_for = max(0.0, (now - since).total_seconds())
    ok = healthy_for >= window
    return GateResult(
        name="primary_healthy_window",
        kind="healthy_window",
        ok=ok,
        detail=f"primary healthy for {healthy_for:.0f}s of the {window:g}s failback window"
        + ("" if ok else " (not long enough)"),
        value=round(healthy_for, 1),
        limit=window,
    )


def decide_automatic_failback(state: SiteState, policy: PolicySettings, now: datetime) -> Decision:
    """Automatic failback is off by default: a flapping primary must not pull traffic back.
    When enabled, the primary must have been healthy for a whole window, outside the cooldown."""
    if state.state != "failed_over":
        return _no("not_failed_over", "not failed over", now)
    if not policy.auto_failback:
        return _no("auto_failback_disabled", "automatic failback is off", now)
    if state.current is not None:
        return _no("in_progress", f"a {state.current.direction} is already running", now)
    bad = unhealthy_critical(state)
    if bad:
        return _no("primary_unhealthy", describe_unhealthy(bad), now)
    window = healthy_window_gate(state, policy, now)
    if not window.ok:
        return _no("healthy_window", window.detail, now)
    remaining = cooldown_remaining(state, policy, now)
    if remaining > 0:
        return _no("cooldown", f"in cooldown for {remaining:.0f}s more", now)
    return Decision(allowed=True, reason="primary_recovered", message="primary healthy", at=now)

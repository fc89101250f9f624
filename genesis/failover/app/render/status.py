"""`genesis-failover status`: where traffic is, whether the system may act by itself, what is
running, and each check's health."""

from __future__ import annotations

from typing import Any

from genesis.failover.app.render.text import _parse_time, ago, duration, paint, table
from genesis.failover.domain.config import CheckConfig, FailoverConfig
from genesis.failover.domain.wording import one_line


def _stale_after(check: CheckConfig | None) -> float | None:
    """A check not probed for three intervals (and its timeout) is not being probed at all."""
    if check is None:
        return None
    return 3 * check.interval_seconds + check.timeout_seconds


def health_table(
    health: dict[str, Any], *, as_of: str | None = None, config: FailoverConfig | None = None
) -> str:
    checks = {c.name: c for c in config.checks} if config else {}
    now = _parse_time(as_of)
    rows = []
    for name, c in health["checks"].items():
        ok = c["is_healthy"]
        conf = checks.get(name)
        fails = str(c.get("consecutive_failures", 0))
        if conf is not None:
            # "2/3": one more failure and the check turns unhealthy.
            fails += f"/{conf.failure_threshold}"
        checked = ago(c.get("last_checked"), as_of)
        last = _parse_time(c.get("last_checked"))
        limit = _stale_after(conf)
        if now and last and limit and (now - last).total_seconds() > limit:
            checked = paint(checked + " STALE", "yellow")
        latency = c.get("last_latency_ms")
        rows.append(
            [
                name,
                paint("healthy", "green") if ok else paint("UNHEALTHY", "red"),
                "yes" if c.get("critical", True) else "no",
                fails,
                checked,
                f"{latency:.1f}ms" if latency is not None else "-",
                one_line(c.get("last_error")) or "-",
            ]
        )
    return table(["CHECK", "HEALTH", "CRITICAL", "FAILS", "CHECKED", "LATENCY", "LAST ERROR"], rows)


def _traffic(s: dict[str, Any]) -> str:
    sides = set((s.get("records") or {}).values())
    if not sides:
        return "traffic: not read yet"
    if sides == {"primary"}:
        return f"traffic on the PRIMARY {s['primary_ip']} (backup {s['backup_ip']})"
    if sides == {"backup"}:
        return paint(f"traffic on the BACKUP {s['backup_ip']}", "red") + (
            f" (primary {s['primary_ip']})"
        )
    return paint("traffic is SPLIT", "red") + (
        f" between primary {s['primary_ip']} and backup {s['backup_ip']}"
    )


def _failback_line(s: dict[str, Any], config: FailoverConfig | None) -> str | None:
    """On the backup, the engineer's next question: may we go back, and if not, why not."""
    if s["state"] != "failed_over" and not s.get("partial"):
        return None
    checks = s["health"]["checks"]
    blocking = [
        f"{name} ({one_line(c.get('last_error'), 80) or 'unhealthy'})"
        for name, c in checks.items()
        if c.get("critical", True) and not c["is_healthy"]
    ]
    if blocking:
        return paint("failback blocked by: " + "; ".join(blocking), "red")
    window = config.policy.failback_healthy_seconds if config else None
    # Healthy but with no healthy_since: a probe failed below the threshold, and the window
    # starts again at the next good one (policy.apply_probe). Any one such check holds it back.
    restarted = [
        name
        for name, c in checks.items()
        if c.get("critical", True)
        and "healthy_since" in c
        and c["healthy_since"] is None
        and c.get("consecutive_failures")
    ]
    if restarted:
        need = f" the {duration(window)}" if window is not None else " the"
        return paint(
            f"failback: {', '.join(restarted)} failed its latest probe;{need} window "
            "starts again at its next good probe (or use --force)",
            "yellow",
        )
    since = [
        t
        for c in checks.values()
        if c.get("critical", True)
        for t in [_parse_time(c.get("healthy_since"))]
        if t
    ]
    now = _parse_time(s.get("as_of"))
    if window is not None and since and now:
        healthy_for = (now - max(since)).total_seconds()
        if healthy_for < window:
            return paint(
                f"failback: primary healthy for {duration(healthy_for)} of the "
                f"{duration(window)} window; wait {duration(window - healthy_for)} "
                "or use --force",
                "yellow",
            )
        return paint(f"failback: primary healthy for {duration(healthy_for)}; ready", "green")
    need = f" for {duration(window)}" if window is not None else ""
    return f"failback: primary's critical checks healthy; it must stay healthy{need} first"


def _operation_line(op: dict[str, Any], as_of: str | None, *, running: bool) -> str:
    what = op["direction"] + (" (dry run)" if op.get("dry_run") else "")
    if running:
        head = paint(f"RUNNING: {what}", "yellow")
        when = f"started {ago(op.get('started_at'), as_of)}"
    else:
        outcome = op.get("outcome") or "?"
        colour = "green" if op.get("success") else ("yellow" if outcome == "dry_run" else "red")
        head = f"last operation: {what} " + paint(outcome, colour)
        when = f"{ago(op.get('finished_at') or op.get('started_at'), as_of)}"
        if op.get("duration_seconds") is not None:
            when += f", took {op['duration_seconds']:.1f}s"
    line = f"{head} ({op['trigger']}: {one_line(op['reason'], 100)}) {when}  [{op['workflow_id']}]"
    if op.get("error"):
        line += f"\n  error: {one_line(op['error'], 300)}"
    return line


def status_text(s: dict[str, Any], config: FailoverConfig | None = None) -> str:
    """The monitor's status for an engineer woken at 3 a.m.: where traffic is, whether the
    system may act by itself, what is running, which check is failing and since when.

    ``config`` (the CLI's own) adds what the status does not carry: each check's failure
    threshold and interval (to see a stale check) and the failback window."""
    state = s["state"]
    colour = {"normal": "green", "failed_over": "red"}.get(state, "yellow")
    as_of = s.get("as_of")
    cooldown = (
        f"{duration(s['cooldown_remaining_seconds'])} left"
        if s["cooldown_remaining_seconds"]
        else "none"
    )
    left = s["failovers_left_today"]
    lines = [
        f"site {s['site']}  state {paint(state.upper(), colour)}  {_traffic(s)}",
        f"automatic failover: {'on' if s['auto_failover'] else paint('OFF', 'yellow')}  "
        f"cooldown: {cooldown}  failovers left today: "
        + (str(left) if left else paint("0", "red"))
        + f" ({s.get('failovers_last_24h', 0)} in the last 24 h, {s['failover_count']} in all; "
        f"last {ago(s['last_failover'], as_of)})",
    ]
    if s["records"]:
        recs = ", ".join(f"{k} -> {v}" for k, v in s["records"].items())
        lines.append(f"records: {recs}" + (paint("  (SPLIT)", "red") if s["partial"] else ""))
    if state == "failed_over":
        lines.append(paint("WARNING: running on backup infrastructure", "red"))
    if s.get("current_operation"):
        op = s["current_operation"]
        lines.append(_operation_line(op, as_of, running=True))
        lines += [f"  - {step}" for step in op.get("progress") or []]
    elif s.get("last_operation"):
        lines.append(_operation_line(s["last_operation"], as_of, running=False))
    if s.get("last_refusal"):
        r = s["last_refusal"]
        lines.append(
            f"last refusal: {r['reason']} - {one_line(r['message'])} ({ago(r['at'], as_of)})"
        )
    notes = s.get("notifications") or {}
    if notes.get("failed"):
        last = notes["recent_failures"][-1] if notes.get("recent_failures") else None
        lines.append(
            paint(f"notifications: {notes['failed']} failed", "red")
            + f", {notes.get('sent', 0)} sent"
            + (f"; last: {last['channel']} {last['event']}: {last['error']}" if last else "")
        )
    failback = _failback_line(s, config)
    if failback:
        lines.append(failback)
    lines.append("")
    lines.append(health_table(s["health"], as_of=as_of, config=config))
    lost = {n: c["probes_lost"] for n, c in s["health"]["checks"].items() if c.get("probes_lost")}
    if lost:
        lines.append(
            paint(
                "probes lost (no worker ran them): "
                + ", ".join(f"{n} {k}" for n, k in lost.items()),
                "yellow",
            )
        )
    return "\n".join(lines)

"""Human-readable output for the CLI: status, health, results, history. Colour on a tty only."""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime
from typing import Any

from genesis.failover.config import CheckConfig, FailoverConfig

_COLOURS = {"red": "31", "green": "32", "yellow": "33", "bold": "1"}


def colour_on(stream: Any = None) -> bool:
    """Colour only for a person at a terminal: never in a pipe, a file or a log, and never
    when NO_COLOR is set (https://no-color.org)."""
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def paint(text: str, colour: str, *, stream: Any = None) -> str:
    if not colour_on(stream):
        return text
    return f"\033[{_COLOURS[colour]}m{text}\033[0m"


def table(headers: list[str], rows: list[list[str]]) -> str:
    # Widths count what is seen: colour codes take no room on the screen.
    def seen(cell: str) -> int:
        return len(_ANSI.sub("", cell))

    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, seen(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(c + " " * (w - seen(c)) for c, w in zip(cells, widths, strict=True))

    return "\n".join(line(r).rstrip() for r in [headers, *rows])


_ANSI = re.compile(r"\033\[[0-9;]*m")


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def duration(seconds: float) -> str:
    """3s, 4m 10s, 2h 5m: how long, as a person says it."""
    seconds = int(round(max(0.0, seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    if seconds >= 60:
        return f"{seconds // 60}m {seconds % 60}s"
    return f"{seconds}s"


def ago(when: str | None, now: str | None) -> str:
    """How long before ``now`` (both ISO-8601) ``when`` was: "12s ago", or "never"."""
    t, n = _parse_time(when), _parse_time(now)
    if t is None:
        return "never"
    if n is None:
        return when or "never"
    return duration((n - t).total_seconds()) + " ago"


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
                _one_line(c.get("last_error")) or "-",
            ]
        )
    return table(["CHECK", "HEALTH", "CRITICAL", "FAILS", "CHECKED", "LATENCY", "LAST ERROR"], rows)


def _one_line(text: str | None, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
        f"{name} ({_one_line(c.get('last_error'), 80) or 'unhealthy'})"
        for name, c in checks.items()
        if c.get("critical", True) and not c["is_healthy"]
    ]
    if blocking:
        return paint("failback blocked by: " + "; ".join(blocking), "red")
    window = config.policy.failback_healthy_seconds if config else None
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
    line = f"{head} ({op['trigger']}: {_one_line(op['reason'], 100)}) {when}  [{op['workflow_id']}]"
    if op.get("error"):
        line += f"\n  error: {_one_line(op['error'], 300)}"
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
            f"last refusal: {r['reason']} - {_one_line(r['message'])} ({ago(r['at'], as_of)})"
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


def result_text(r: dict[str, Any]) -> str:
    ok = r.get("success")
    head = f"{r.get('direction', 'operation')} {r.get('outcome')}"
    lines = [paint(head, "green" if ok else "red") + f" in {r.get('duration_seconds', 0):.2f}s"]
    if r.get("error"):
        lines.append(f"error: {r['error']}")
    for g in r.get("gates") or []:
        mark = "skipped" if g.get("skipped") else ("ok" if g["ok"] else paint("FAILED", "red"))
        lines.append(f"  gate {g['name']} ({g['kind']}): {mark} - {g.get('detail', '')}")
    for rec in r.get("records", []):
        before = ",".join(rec.get("before") or []) or "?"
        lines.append(
            f"  {rec['domain']} {rec['record_type']} at {rec.get('provider', '?')}: {before} -> "
            f"{rec['target']}  [{rec['action']}]" + (f" {rec['error']}" if rec.get("error") else "")
        )
    for change in r.get("ttl_changes") or []:
        what = "TTL lowered" if change["step"] == "lower" else "TTL restored"
        done = "" if change.get("written") else " (no write)"
        lines.append(
            f"  {what} {change['domain']}: {change.get('ttl_before')}s -> "
            f"{change.get('ttl_after')}s{done}"
            + (f" FAILED {change['error']}" if change.get("error") else "")
        )
    for ns, okay in (r.get("propagation") or {}).items():
        lines.append(f"  {ns}: {'✓' if okay else '✗'}")
    for h in r.get("hooks", []):
        mark = "skipped (dry run)" if h.get("skipped") else ("ok" if h["ok"] else "FAILED")
        # The last line a hook printed is usually the one that says what it did.
        said = (h.get("output") or "").strip().splitlines()[-1:] if h.get("ok") else []
        lines.append(
            f"  hook {h['name']} ({h['phase']}): {mark}"
            + (f" {h['error']}" if h.get("error") else "")
            + (f" - {said[0][:120]}" if said else "")
        )
    for n in r.get("notifications") or []:
        mark = "sent" if n["ok"] else paint("FAILED", "red")
        lines.append(
            f"  notify {n['channel']} {n['event']}: {mark}"
            + (f" {n['error']}" if n.get("error") else "")
        )
    plan = r.get("plan")
    if plan:
        where = ", ".join(plan["nameservers"]) or "each record's zone nameservers or provider"
        lines.append(f"  would verify on: {where}")
    return "\n".join(lines)


def _records_moved(records: dict[str, str]) -> str:
    """ "2 switched" or "1 switched, 1 failed": what an operation did to the records."""
    counts: dict[str, int] = {}
    for action in records.values():
        counts[action] = counts.get(action, 0) + 1
    return ", ".join(f"{n} {action}" for action, n in counts.items()) or "-"


def history_text(items: list[dict[str, Any]]) -> str:
    """Past operations, oldest first; under each one that went wrong, its error; then how to
    open one in Temporal (every operation of a site shares one workflow id: the run id picks)."""
    if not items:
        return "no failovers or failbacks yet"
    rows = []
    for i in items:
        outcome = i["outcome"] or "running"
        colour = {"succeeded": "green", "dry_run": "yellow"}.get(outcome, "red")
        rows.append(
            [
                (i["started_at"] or "-")[:19].replace("T", " "),
                i["direction"] + (" (dry run)" if i["dry_run"] else ""),
                i["trigger"],
                paint(outcome, colour) if outcome != "running" else outcome,
                f"{i['duration_seconds']:.1f}s" if i["duration_seconds"] is not None else "-",
                _records_moved(i.get("records") or {}),
                i.get("run_id") or "-",
                _one_line(i["reason"], 60),
            ]
        )
    lines = table(
        ["STARTED (UTC)", "DIRECTION", "TRIGGER", "OUTCOME", "TOOK", "RECORDS", "RUN ID", "REASON"],
        rows,
    ).splitlines()
    out = [lines[0]]
    for line, i in zip(lines[1:], items, strict=True):
        out.append(line)
        if i.get("error"):
            out.append(f"    error: {_one_line(i['error'], 300)}")
    ids = sorted({i["workflow_id"] for i in items})
    with_run = " --run-id RUN_ID" if any(i.get("run_id") for i in items) else ""
    out += ["", *(f"inspect: temporal workflow show --workflow-id {w}{with_run}" for w in ids)]
    return "\n".join(out)


def progress_line(seconds: float, text: str, ok: bool | None, *, stream: Any = None) -> str:
    """One line of a running operation: seconds since the command started, a mark, the step.
    ``ok`` None is neutral (a step that is neither a success nor a failure)."""
    mark = " "
    if ok is True:
        mark = paint("✓", "green", stream=stream)
    elif ok is False:
        mark = paint("✗", "red", stream=stream)
    return f"{seconds:6.1f}s {mark} {text}"


def verification_text(c: FailoverConfig) -> str:
    """Where a switch is confirmed, as an operator reads it."""
    p = c.propagation
    if not p.query_nameservers:
        default = "the provider's word only (no nameserver asked)"
    elif p.nameservers:
        default = ", ".join(p.nameservers)
    else:
        default = "each zone's authoritative nameservers (NS records)"
    overrides = [
        f"{r.domain}: "
        + (
            "the provider's word only"
            if r.query_nameservers is False
            else ", ".join(r.nameservers or []) or "its zone's authoritative nameservers"
        )
        for r in c.dns.records
        if r.query_nameservers is not None or r.nameservers is not None
    ]
    return "; ".join([default, *overrides])


def config_summary(config: FailoverConfig) -> str:
    c = config
    lines = [
        f"site {c.site.name}: primary {c.site.primary_ip}, backup {c.site.backup_ip}",
        f"temporal {c.temporal.address} namespace {c.temporal.namespace} "
        f"task queue {c.temporal.task_queue}",
        f"policy: auto_failover={c.policy.auto_failover} cooldown={c.policy.cooldown_seconds:g}s "
        f"max/24h={c.policy.max_failovers_per_day} auto_failback={c.policy.auto_failback}",
        f"dns: {', '.join(c.dns.providers_used)}; records "
        + ", ".join(f"{r.domain} {r.record_type} at {c.dns.provider_of(r)}" for r in c.dns.records),
        "propagation: " + verification_text(c),
        f"metrics: {c.metrics.url or 'off (set [metrics] prometheus_address)'}",
        "",
        table(
            ["CHECK", "TYPE", "TARGET", "EVERY", "TIMEOUT", "FAIL/OK", "CRITICAL"],
            [
                [
                    k.name,
                    k.check_type,
                    k.target,
                    f"{k.interval_seconds:g}s",
                    f"{k.timeout_seconds:g}s",
                    f"{k.failure_threshold}/{k.success_threshold}",
                    "yes" if k.critical else "no",
                ]
                for k in c.checks
            ],
        ),
    ]
    hooks = [
        f"{phase}: {h.name} ({h.kind})"
        for phase in (
            "pre_failover",
            "post_failover",
            "pre_failback",
            "post_failback",
            "on_failure",
        )
        for h in getattr(c.hooks, phase)
    ]
    if hooks:
        lines += ["", "hooks: " + "; ".join(hooks)]
    gates = [f"backup check {k.name} ({k.check_type} {k.target})" for k in c.gates.backup_checks]
    if c.gates.replication_lag is not None:
        lag = c.gates.replication_lag
        gates.append(f"{lag.name}: query result <= {lag.max_value:g}")
    lines += [
        "gates before failover: " + ("; ".join(gates) or "none"),
        f"gate before failback: primary healthy for {c.policy.failback_healthy_seconds:g}s "
        "and its critical checks passing now",
    ]
    n = c.notifications
    if n.channels:
        lines.append(
            "notifications: "
            + "; ".join(f"{ch}: {len(kinds)} events" for ch, kinds in n.routes().items())
        )
    else:
        lines.append("notifications: none configured")
    if not any(k.critical for k in c.checks):
        lines += ["", "note: no check is critical, so automatic failover never fires"]
    return "\n".join(lines)

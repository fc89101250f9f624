"""Human-readable output for the CLI: status, health, results, history. Colour on a tty only."""

from __future__ import annotations

import sys
from typing import Any

from genesis.failover.config import FailoverConfig

_COLOURS = {"red": "31", "green": "32", "yellow": "33", "bold": "1"}


def paint(text: str, colour: str, *, stream: Any = None) -> str:
    stream = stream or sys.stdout
    if not getattr(stream, "isatty", lambda: False)():
        return text
    return f"\033[{_COLOURS[colour]}m{text}\033[0m"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def health_table(health: dict[str, Any]) -> str:
    rows = []
    for name, c in health["checks"].items():
        ok = c["is_healthy"]
        rows.append(
            [
                name,
                paint("healthy", "green") if ok else paint("UNHEALTHY", "red"),
                "yes" if c.get("critical", True) else "no",
                str(c.get("consecutive_failures", 0)),
                c.get("last_error") or "-",
            ]
        )
    return table(["CHECK", "HEALTH", "CRITICAL", "FAILS", "LAST ERROR"], rows)


def status_text(s: dict[str, Any]) -> str:
    state = s["state"]
    colour = {"normal": "green", "failed_over": "red"}.get(state, "yellow")
    cooldown = (
        f"{s['cooldown_remaining_seconds']:.0f}s left"
        if s["cooldown_remaining_seconds"]
        else "none"
    )
    lines = [
        f"site {s['site']}  state {paint(state.upper(), colour)}  "
        f"primary {s['primary_ip']}  backup {s['backup_ip']}",
        f"failovers: {s['failover_count']} total, {s['failovers_left_today']} left in 24 h  "
        f"last: {s['last_failover'] or 'never'}  cooldown: {cooldown}  "
        f"auto failover: {'on' if s['auto_failover'] else 'OFF'}",
    ]
    if s["records"]:
        recs = ", ".join(f"{k} -> {v}" for k, v in s["records"].items())
        lines.append(f"records: {recs}" + (paint("  (SPLIT)", "red") if s["partial"] else ""))
    if state == "failed_over":
        lines.append(paint("WARNING: running on backup infrastructure", "red"))
    if s.get("current_operation"):
        op = s["current_operation"]
        lines.append(f"running: {op['direction']} ({op['trigger']}: {op['reason']})")
    if s.get("last_refusal"):
        r = s["last_refusal"]
        lines.append(f"last refusal: {r['reason']} - {r['message']} (at {r['at']})")
    notes = s.get("notifications") or {}
    if notes.get("failed"):
        last = notes["recent_failures"][-1] if notes.get("recent_failures") else None
        lines.append(
            paint(f"notifications: {notes['failed']} failed", "red")
            + f", {notes.get('sent', 0)} sent"
            + (f"; last: {last['channel']} {last['event']}: {last['error']}" if last else "")
        )
    lines.append("")
    lines.append(health_table(s["health"]))
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


def history_text(items: list[dict[str, Any]]) -> str:
    if not items:
        return "no failovers or failbacks yet"
    rows = [
        [
            i["started_at"] or "-",
            i["direction"] + (" (dry run)" if i["dry_run"] else ""),
            i["trigger"],
            i["outcome"] or "running",
            f"{i['duration_seconds']:.1f}s" if i["duration_seconds"] is not None else "-",
            i["reason"],
        ]
        for i in items
    ]
    return table(["STARTED", "DIRECTION", "TRIGGER", "OUTCOME", "DURATION", "REASON"], rows)


def _verification_text(c: FailoverConfig) -> str:
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
        "propagation: " + _verification_text(c),
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

"""`genesis-failover validate`: what the config says will be monitored, switched and verified."""

from __future__ import annotations

from genesis.failover.app.render.text import table
from genesis.failover.domain.config import FailoverConfig


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


def _encryption_text(c: FailoverConfig) -> str:
    """Variable NAMES only: the keys themselves are never printed."""
    e = c.temporal.encryption
    if e is None:
        return "stored as JSON (set [temporal.encryption] to encrypt, docs/security.md)"
    previous = f", {len(e.previous_key_envs)} previous" if e.previous_key_envs else ""
    return f"encrypted with the key in {e.key_env}{previous}"


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
        "payloads: " + _encryption_text(c),
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

"""What the steps of an operation report: probes, gates, hooks, and the progress an operator
watches. Every step the CLI shows carries a kind and, where it has them, structured facts: the
client reads these, never the prose."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from genesis.failover.domain.config import HookKind
from genesis.failover.domain.models.base import Direction, Model, Trigger


class ProbeResult(Model):
    """One probe's answer. A failed probe is data (healthy=False, error=...), never an exception."""

    check_name: str
    healthy: bool
    latency_ms: float
    error: str | None = None
    checked_at: datetime
    # Which worker / task queue ran the probe: the seam for several vantage points later.
    origin: str = ""


HookPhase = Literal["pre_failover", "post_failover", "pre_failback", "post_failback", "on_failure"]


class HookSpec(Model):
    """A hook as a workflow sees it: a name the worker resolves, never code or secrets."""

    name: str
    phase: HookPhase
    kind: HookKind = "python"
    timeout_seconds: float = 30
    max_attempts: int = 1
    retry_interval_seconds: float = 1
    on_failure: Literal["abort", "continue"] = "abort"
    # A hook runs in a dry run only when it says it has no side effects.
    dry_run_safe: bool = False


class HookContext(Model):
    """What a hook is told about the operation it is part of (no secrets). Built from the
    operation (``Operation.hook_context``); its fields are the hooks' contract: the ``GENESIS_*``
    variables of a command hook and the JSON body of a webhook."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site: str
    direction: Direction
    trigger: Trigger
    reason: str
    from_ip: str
    to_ip: str
    failover_id: str
    dry_run: bool = False


class HookOutcome(Model):
    name: str
    phase: str
    ok: bool
    skipped: bool = False
    duration_seconds: float = 0.0
    output: str | None = None
    error: str | None = None


GateKind = Literal["backup_check", "replication_lag", "primary_check", "healthy_window"]


class GateResult(Model):
    """One readiness gate's verdict before a DNS change (or why it was not asked)."""

    name: str
    kind: GateKind
    ok: bool
    # Not asked: the operator forced the operation. ``ok`` is then True and ``detail`` says so.
    skipped: bool = False
    detail: str = ""
    # replication_lag / healthy_window: the number measured and the ceiling (or floor) it met.
    value: float | None = None
    limit: float | None = None
    attempts: int = 1


class Confirmation(Model):
    """One place that confirmed (or did not) that one record serves its new address: a
    nameserver asked directly, or the provider's own word (Route53 INSYNC)."""

    domain: str
    expected_ip: str
    # The nameserver ("10.0.0.53:5300"), or the provider's name when ``by_provider``.
    source: str
    by_provider: bool = False
    ok: bool


StepKind = Literal[
    "gate", "forced", "hook", "ttl", "record", "proxied", "propagation", "outcome", "notified"
]


class ProgressStep(Model):
    """One step of a running failover, as its ``steps`` query reports it."""

    kind: StepKind
    text: str
    # True good news, False bad news, None neither (a dry run's "would run", "forced").
    ok: bool | None = None
    # A propagation step: each nameserver's (and provider's) answer, one by one.
    confirmations: list[Confirmation] = Field(default_factory=list)

"""What one failover or failback run found, step by step, and the outcome decided from it.

``OperationRun`` is the FailoverWorkflow's run state: each step adds what it found (gates, hooks,
records, propagation, TTL changes). Whether the run must stop before its next step, and how it
ended, are pure functions of those findings, so every rule is tested without Temporal:

- a failed readiness gate stops a real run before anything has a side effect ("aborted" then
  always means "nothing changed"); a dry run goes on, to show the rest, and reports it;
- a pre-hook that fails with ``on_failure = "abort"`` stops the run before any DNS change;
- a TTL that could not be lowered stops a planned failover before the switch;
- a record refused or failed stops it after the switch, with the other records' results kept;
- a switch written but not confirmed everywhere, or a failed post-hook, degrades a finished run
  (the switch is done and is not undone);
- a TTL that could not be put back degrades an otherwise good run.
"""

from __future__ import annotations

from typing import NamedTuple

from pydantic import Field

from genesis.failover.domain.models import (
    GateResult,
    HookOutcome,
    Model,
    Outcome,
    RecordSwitch,
    TtlOutcome,
)


class Verdict(NamedTuple):
    outcome: Outcome
    success: bool
    error: str | None
    # Whether the on_failure hooks are run (they tell people and systems it did not go well).
    on_failure_hooks: bool


class OperationRun(Model):
    """What the steps of one run found so far."""

    dry_run: bool
    direction: str
    # How long propagation may take (its deadline, named in a "not confirmed" error).
    propagation_timeout_seconds: float
    gates: list[GateResult] = Field(default_factory=list)
    hooks: list[HookOutcome] = Field(default_factory=list)
    # The pre-hook whose failure stopped the run, if one did.
    aborted_by: str | None = None
    ttl_changes: list[TtlOutcome] = Field(default_factory=list)
    records: list[RecordSwitch] = Field(default_factory=list)
    # Per nameserver (and provider) whether the change is served there.
    propagation: dict[str, bool] = Field(default_factory=dict)
    # Records whose change was not confirmed everywhere in time, with why.
    unconfirmed: list[str] = Field(default_factory=list)

    @property
    def gate_error(self) -> str | None:
        failed = [g for g in self.gates if not g.ok]
        if not failed:
            return None
        return "readiness gate failed: " + "; ".join(f"{g.name}: {g.detail}" for g in failed)

    @property
    def abort_error(self) -> str | None:
        if self.aborted_by is None:
            return None
        hook = next((h for h in self.hooks if h.name == self.aborted_by), None)
        return f"pre-hook {self.aborted_by!r} failed: {hook.error if hook else 'unknown'}"

    @property
    def ttl_error(self) -> str | None:
        failed = [c for c in self.ttl_changes if c.step == "lower" and c.error]
        if not failed:
            return None
        return "TTL not lowered: " + "; ".join(f"{c.domain}: {c.error}" for c in failed)

    @property
    def record_error(self) -> str | None:
        broken = [r for r in self.records if r.broken]
        return "; ".join(f"{r.domain}: {r.error}" for r in broken) or None

    @property
    def failed_post_hooks(self) -> list[str]:
        post = f"post_{self.direction}"
        return [h.name for h in self.hooks if h.phase == post and not h.ok]

    @property
    def restore_errors(self) -> list[str]:
        return [
            f"TTL of {c.domain} not restored: {c.error}"
            for c in self.ttl_changes
            if c.step == "restore" and c.error
        ]

    @property
    def stopped(self) -> bool:
        """No further step may run: something before the switch said no, or a record broke."""
        return bool(
            (self.gate_error and not self.dry_run)
            or self.aborted_by
            or self.ttl_error
            or self.record_error
        )


def decide_outcome(run: OperationRun) -> Verdict:
    """How the run ended, from what its steps found (see the module's rules)."""
    verdict = _before_restore(run)
    restore = run.restore_errors
    if not restore:
        return verdict
    error = "; ".join([*([verdict.error] if verdict.error else []), *restore])
    outcome = "degraded" if verdict.outcome == "succeeded" else verdict.outcome
    return verdict._replace(outcome=outcome, error=error)


def _before_restore(run: OperationRun) -> Verdict:
    if run.gate_error and not run.dry_run:
        return Verdict("aborted", False, run.gate_error, True)
    if run.abort_error:
        return Verdict("aborted", False, run.abort_error, True)
    if run.ttl_error:
        return Verdict("dry_run" if run.dry_run else "failed", False, run.ttl_error, True)
    if run.record_error:
        # A dry run that finds a record it could not move reports it; nothing failed.
        if run.dry_run:
            return Verdict("dry_run", False, run.record_error, False)
        return Verdict("failed", False, run.record_error, True)
    if run.dry_run:
        would_abort = f"would abort: {run.gate_error}" if run.gate_error else None
        return Verdict("dry_run", would_abort is None, would_abort, False)
    if run.unconfirmed:
        return Verdict(
            "degraded",
            False,
            f"DNS written but not confirmed everywhere within "
            f"{run.propagation_timeout_seconds:g}s: {', '.join(run.unconfirmed)}",
            True,
        )
    if run.failed_post_hooks:
        return Verdict(
            "degraded", True, f"post-hooks failed: {', '.join(run.failed_post_hooks)}", True
        )
    return Verdict("succeeded", True, None, False)

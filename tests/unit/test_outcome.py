"""How a failover run ends (domain/outcome.py), decided from what its steps found: each test is
the failure story a rule prevents."""

from __future__ import annotations

from genesis.failover.domain.models import GateResult, HookOutcome, RecordSwitch, TtlOutcome
from genesis.failover.domain.outcome import OperationRun, decide_outcome

PRIMARY, BACKUP, OTHER = "192.0.2.10", "192.0.2.20", "203.0.113.9"


def run(dry_run: bool = False, **found: object) -> OperationRun:
    return OperationRun(
        dry_run=dry_run, direction="failover", propagation_timeout_seconds=60, **found
    )


def gate(ok: bool) -> GateResult:
    return GateResult(name="backup_api", kind="backup_check", ok=ok, detail="refused")


def record(action: str, error: str | None = None) -> RecordSwitch:
    return RecordSwitch(
        domain="genesis.example.com",
        record_type="A",
        provider="rfc2136",
        before=[OTHER if action == "refused" else PRIMARY],
        target=BACKUP,
        action=action,  # type: ignore[arg-type]
        error=error,
    )


def hook(name: str, phase: str, ok: bool) -> HookOutcome:
    return HookOutcome(name=name, phase=phase, ok=ok, error=None if ok else "exit 1")


def test_a_clean_run_succeeds_and_runs_no_failure_hooks() -> None:
    verdict = decide_outcome(run(records=[record("switched")]))
    assert verdict == ("succeeded", True, None, False)


def test_a_backup_that_is_not_ready_aborts_before_anything_is_done() -> None:
    """Trading must not be stopped (nor a TTL lowered) for a failover that cannot happen:
    a failed gate stops the run before the pre-hooks, and "aborted" means nothing changed."""
    found = run(gates=[gate(False)])
    assert found.stopped
    verdict = decide_outcome(found)
    assert verdict.outcome == "aborted" and not verdict.success and verdict.on_failure_hooks
    assert verdict.error == "readiness gate failed: backup_api: refused"


def test_a_dry_run_with_a_failed_gate_goes_on_and_says_it_would_abort() -> None:
    """The drill must show the whole plan, and still report the gate that would stop it."""
    found = run(dry_run=True, gates=[gate(False)], records=[record("would_switch")])
    assert not found.stopped
    verdict = decide_outcome(found)
    assert verdict.outcome == "dry_run" and not verdict.success and not verdict.on_failure_hooks
    assert verdict.error == "would abort: readiness gate failed: backup_api: refused"


def test_a_pre_hook_that_fails_with_abort_stops_the_run_before_dns() -> None:
    found = run(hooks=[hook("stop_trading", "pre_failover", False)], aborted_by="stop_trading")
    assert found.stopped
    verdict = decide_outcome(found)
    assert verdict.outcome == "aborted" and verdict.on_failure_hooks
    assert verdict.error == "pre-hook 'stop_trading' failed: exit 1"


def test_a_ttl_that_cannot_be_lowered_stops_a_planned_failover_before_the_switch() -> None:
    lowered = TtlOutcome(
        domain="genesis.example.com",
        record_type="A",
        provider="rfc2136",
        step="lower",
        error="NOTAUTH",
    )
    found = run(ttl_changes=[lowered])
    assert found.stopped
    assert decide_outcome(found)[:3] == (
        "failed",
        False,
        "TTL not lowered: genesis.example.com: NOTAUTH",
    )


def test_a_record_someone_else_moved_fails_the_run_and_keeps_the_others() -> None:
    """Overwriting a third value could send traffic where nobody intended: refused, and the
    run stops with the error naming the record."""
    found = run(records=[record("switched"), record("refused", "at a third value")])
    assert found.stopped
    verdict = decide_outcome(found)
    assert verdict.outcome == "failed" and verdict.on_failure_hooks
    assert verdict.error == "genesis.example.com: at a third value"


def test_a_dry_run_that_finds_a_record_it_cannot_move_reports_it_without_failure_hooks() -> None:
    verdict = decide_outcome(run(dry_run=True, records=[record("refused", "at a third value")]))
    assert verdict == ("dry_run", False, "genesis.example.com: at a third value", False)


def test_a_switch_not_confirmed_everywhere_is_degraded_not_undone() -> None:
    found = run(records=[record("switched")], unconfirmed=["genesis.example.com (ns2 silent)"])
    assert not found.stopped
    verdict = decide_outcome(found)
    assert verdict.outcome == "degraded" and not verdict.success and verdict.on_failure_hooks
    assert verdict.error == (
        "DNS written but not confirmed everywhere within 60s: genesis.example.com (ns2 silent)"
    )


def test_a_failed_post_hook_degrades_a_switch_that_is_done() -> None:
    found = run(records=[record("switched")], hooks=[hook("verify", "post_failover", False)])
    assert decide_outcome(found) == ("degraded", True, "post-hooks failed: verify", True)


def test_a_ttl_left_low_degrades_an_otherwise_good_run() -> None:
    restore = TtlOutcome(
        domain="genesis.example.com",
        record_type="A",
        provider="rfc2136",
        step="restore",
        error="timeout",
    )
    verdict = decide_outcome(run(records=[record("switched")], ttl_changes=[restore]))
    assert verdict.outcome == "degraded" and verdict.success
    assert verdict.error == "TTL of genesis.example.com not restored: timeout"


def test_forced_gates_reported_as_skipped_do_not_abort() -> None:
    skipped = GateResult(name="backup_api", kind="backup_check", ok=True, skipped=True)
    assert decide_outcome(run(gates=[skipped], records=[record("switched")])).outcome == (
        "succeeded"
    )

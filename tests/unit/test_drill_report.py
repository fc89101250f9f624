"""The monthly drill's report and verdict, and the progress watch's pure parts, from the real
result models and step strings the workflows produce."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from genesis.failover.app import drill
from genesis.failover.domain.models import (
    FailoverPlan,
    FailoverResult,
    GateResult,
    HookOutcome,
    RecordSwitch,
)

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
PRIMARY, BACKUP = "192.0.2.10", "192.0.2.20"
DOMAIN = "genesis.example.test"


def dry_run(direction: str, *, error: str | None = None, **extra: Any) -> FailoverResult:
    to_ip = BACKUP if direction == "failover" else PRIMARY
    from_ip = PRIMARY if direction == "failover" else BACKUP
    records = extra.pop(
        "records",
        [
            RecordSwitch(
                domain=DOMAIN,
                record_type="A",
                provider="rfc2136",
                before=[PRIMARY],
                target=to_ip,
                action="would_switch" if direction == "failover" else "already_at_target",
            )
        ],
    )
    hooks = [HookOutcome(name="stop_trading", phase=f"pre_{direction}", ok=True, skipped=True)]
    return FailoverResult(
        success=error is None,
        duration_seconds=0.4,
        dry_run=True,
        outcome="dry_run",
        direction=direction,  # type: ignore[arg-type]
        trigger="drill",
        reason="monthly drill",
        site="genesis",
        workflow_id="failover-genesis-switch",
        primary_ip=PRIMARY,
        backup_ip=BACKUP,
        from_ip=from_ip,
        to_ip=to_ip,
        started_at=T0,
        finished_at=T0 + timedelta(seconds=0.4),
        records=records,
        hooks=hooks,
        plan=FailoverPlan(
            records=records,
            hooks=["stop_trading", "announce"],
            skipped_hooks=["stop_trading"],
            nameservers=[],
        ),
        error=error,
        **extra,
    )


def test_a_healthy_drill_passes_and_reads_sensibly_on_the_primary() -> None:
    gate = GateResult(name="backup_api", kind="backup_check", ok=True, detail="healthy in 3 ms")
    failover, failback = dry_run("failover", gates=[gate]), dry_run("failback")

    assert drill.problems(failover, failback) == []
    text = drill.report_text(failover, failback, verification="each zone's nameservers")
    assert "FAILOVER  192.0.2.10 -> 192.0.2.20  (trigger drill, 0.4s" in text
    assert "backup_api (backup_check): ok - healthy in 3 ms" in text
    assert "stop_trading (pre_failover): would run (skipped in a dry run)" in text
    # Planned but never reached (the dry run stopped before the post-hooks): said so.
    assert "announce: not reached" in text
    assert f"{DOMAIN} A at rfc2136: now {PRIMARY}, would write {BACKUP}" in text
    # The usual monthly case: traffic on the primary, so the failback finds nothing to do now.
    assert (
        f"{DOMAIN} A at rfc2136: now {PRIMARY}, already on the primary; after a real failover "
        f"it would read {BACKUP} and write {PRIMARY}"
    ) in text
    assert "would verify on: each zone's nameservers" in text
    assert text.splitlines()[-1] == "DRILL PASSED: failover and failback would succeed"
    assert "\033[" not in text

    report = drill.report(failover, failback)
    assert report["passed"] is True and report["verdict"] == "passed"
    assert report["failover"]["trigger"] == "drill" and report["problems"] == []


def test_a_drill_fails_and_says_why_when_a_gate_or_a_record_would_stop_it() -> None:
    gate = GateResult(
        name="replication_lag",
        kind="replication_lag",
        ok=False,
        detail="replication lag 45 > max 30",
    )
    failover = dry_run(
        "failover",
        gates=[gate],
        error="would abort: readiness gate failed: replication_lag: replication lag 45 > max 30",
    )
    refused = RecordSwitch(
        domain=DOMAIN,
        record_type="A",
        provider="rfc2136",
        before=["203.0.113.9"],
        target=PRIMARY,
        action="refused",
        error="genesis.example.test A is 203.0.113.9, neither 192.0.2.20 nor 192.0.2.10",
    )
    failback = dry_run("failback", records=[refused], error=f"{DOMAIN}: refused")

    found = drill.problems(failover, failback)
    assert found == [
        "failover would abort: readiness gate failed: replication_lag: replication lag 45 > max 30",
        f"failback would fail: {DOMAIN}: refused",
    ]
    text = drill.report_text(failover, failback, verification="-")
    assert "replication_lag (replication_lag): WOULD ABORT - replication lag 45 > max 30" in text
    assert f"{DOMAIN} A at rfc2136: REFUSED (now 203.0.113.9, target {PRIMARY})" in text
    assert text.splitlines()[-1] == "DRILL FAILED: " + "; ".join(found)
    assert drill.report(failover, failback)["verdict"] == "failed"

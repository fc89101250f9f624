"""What an operator reads: the CLI's text for results and status, from the real shapes."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from genesis.failover import render
from genesis.failover.config import PolicySettings
from genesis.failover.models import GateResult, NotificationOutcome
from genesis.failover.state import SiteState
from genesis.failover.status import build_status

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def result(**extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "success": False,
        "direction": "failover",
        "outcome": "aborted",
        "duration_seconds": 0.42,
        "error": "readiness gate failed: replication_lag: replication lag 45 > max 30",
        "records": [],
    }
    return {**base, **extra}


def test_a_result_shows_each_gate_and_each_failed_notification() -> None:
    gates = [
        GateResult(name="backup_api", kind="backup_check", ok=True, detail="healthy in 3 ms"),
        GateResult(
            name="replication_lag",
            kind="replication_lag",
            ok=False,
            detail="replication lag 45 > max 30",
            value=45,
            limit=30,
        ),
    ]
    notes = [
        NotificationOutcome(channel="email", event="failover_failed", ok=True),
        NotificationOutcome(
            channel="slack", event="failover_failed", ok=False, error="slack webhook: HTTP 404"
        ),
    ]
    text = render.result_text(
        result(
            gates=[g.model_dump(mode="json") for g in gates],
            notifications=[n.model_dump(mode="json") for n in notes],
        )
    )
    assert "failover aborted in 0.42s" in text
    assert "gate backup_api (backup_check): ok - healthy in 3 ms" in text
    assert "gate replication_lag (replication_lag): FAILED - replication lag 45 > max 30" in text
    assert "notify email failover_failed: sent" in text
    assert "notify slack failover_failed: FAILED slack webhook: HTTP 404" in text
    # Not a terminal: no colour codes in what a script or a log reads.
    assert "\033[" not in text


def test_a_forced_result_says_the_gates_were_skipped() -> None:
    gate = GateResult(
        name="backup_api",
        kind="backup_check",
        ok=True,
        skipped=True,
        detail="skipped: forced by the operator",
    )
    text = render.result_text(
        result(success=True, outcome="succeeded", error=None, gates=[gate.model_dump()])
    )
    assert "gate backup_api (backup_check): skipped - skipped: forced by the operator" in text


def test_status_shows_notifications_that_finally_failed() -> None:
    state = SiteState(site="genesis")
    state.notifications.record(
        NotificationOutcome(channel="email", event="check_unhealthy", ok=True)
    )
    state.notifications.record(
        NotificationOutcome(
            channel="pagerduty",
            event="failover_started",
            ok=False,
            error="pagerduty events API: HTTP 400 invalid event",
            at=T0,
        )
    )
    status = build_status(
        state, PolicySettings(), T0, primary_ip="192.0.2.10", backup_ip="192.0.2.20"
    )
    assert status["notifications"]["failed"] == 1 and status["notifications"]["sent"] == 1
    text = render.status_text(status)
    assert "notifications: 1 failed, 1 sent; last: pagerduty failover_started: " in text
    assert "HTTP 400 invalid event" in text


def test_colour_only_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert render.paint("FAILED", "red", stream=io.StringIO()) == "FAILED"
    assert render.paint("FAILED", "red", stream=Tty()) == "\033[31mFAILED\033[0m"


def test_a_hook_shows_its_last_line_of_output_or_its_error() -> None:
    hooks = [
        {
            "name": "stop_trading",
            "phase": "pre_failover",
            "ok": True,
            "output": "cancelling 3 orders\ntrading halted\n",
        },
        {
            "name": "verify",
            "phase": "post_failover",
            "ok": False,
            "error": "hook 'verify' exited with status 3: api down",
        },
    ]
    text = render.result_text(result(hooks=hooks))
    assert "hook stop_trading (pre_failover): ok - trading halted" in text
    assert (
        "hook verify (post_failover): FAILED hook 'verify' exited with status 3: api down" in text
    )

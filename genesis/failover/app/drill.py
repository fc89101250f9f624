"""The monthly drill's report (the seed's "test failover monthly"): a dry-run failover and a
dry-run failback, and what each would do, from their results alone.

Pure: the CLI runs the two dry runs (trigger "drill") and hands their results here. A drill
passes when both dry runs say they would succeed; the report says why when one would not.
"""

from __future__ import annotations

from typing import Any

from genesis.failover.app import render
from genesis.failover.domain.models import FailoverResult, RecordSwitch


def _why(r: FailoverResult) -> str:
    error = r.error or f"outcome {r.outcome}"
    if r.outcome == "aborted":
        return f"{r.direction} would abort: {error}"
    if r.outcome == "dry_run" and _gates_said_no(r):
        return f"{r.direction} {error}"  # the dry run's own words: "would abort: <the gate>"
    return f"{r.direction} would fail: {error}"


def _gates_said_no(r: FailoverResult) -> bool:
    """A gate failed and nothing else did: a real run would have aborted at the gates."""
    return any(not g.ok for g in r.gates) and not any(rec.broken for rec in r.records)


def problems(failover: FailoverResult, failback: FailoverResult) -> list[str]:
    """Why a real failover or failback would not succeed now; empty when both would."""
    return [_why(r) for r in (failover, failback) if not r.success]


def report(failover: FailoverResult, failback: FailoverResult) -> dict[str, Any]:
    """The drill as JSON: the verdict, and both results whole."""
    found = problems(failover, failback)
    return {
        "site": failover.site,
        "passed": not found,
        "verdict": "passed" if not found else "failed",
        "problems": found,
        "failover": failover.model_dump(mode="json"),
        "failback": failback.model_dump(mode="json"),
    }


def _record_line(rec: RecordSwitch, result: FailoverResult) -> str:
    now = ", ".join(rec.before) or "?"
    where = f"{rec.domain} {rec.record_type} at {rec.provider or 'the default provider'}"
    if rec.action == "would_switch":
        return f"{where}: now {now}, would write {rec.target}"
    if rec.action == "already_at_target":
        side = "primary" if rec.target == result.primary_ip else "backup"
        # A failback drilled while traffic is on the primary (the usual monthly case) finds
        # every record where it would put it: say what it would do after a real failover.
        return (
            f"{where}: now {now}, already on the {side}; after a real "
            f"{'failover' if result.direction == 'failback' else 'failback'} it would read "
            f"{result.from_ip} and write {rec.target}"
        )
    return f"{where}: {rec.action.upper()} (now {now}, target {rec.target})" + (
        f": {rec.error}" if rec.error else ""
    )


def _direction_text(r: FailoverResult, verification: str) -> list[str]:
    head = (
        f"{r.direction.upper()}  {r.from_ip} -> {r.to_ip}  "
        f"(trigger {r.trigger}, {r.duration_seconds:.1f}s, workflow {r.workflow_id})"
    )
    lines = [render.paint(head, "bold"), "  gates:"]
    for g in r.gates:
        mark = "skipped" if g.skipped else ("ok" if g.ok else render.paint("WOULD ABORT", "red"))
        lines.append(f"    {g.name} ({g.kind}): {mark} - {g.detail}")
    if not r.gates:
        lines.append("    none configured")
    lines.append("  hooks:")
    ran = {h.name for h in r.hooks}
    for h in r.hooks:
        if h.skipped:
            lines.append(f"    {h.name} ({h.phase}): would run (skipped in a dry run)")
        else:
            said = "ok" if h.ok else render.paint(f"FAILED {h.error or ''}", "red")
            lines.append(f"    {h.name} ({h.phase}): ran, dry-run safe: {said}")
    planned = r.plan.hooks if r.plan else []
    for name in planned:
        if name not in ran:
            lines.append(f"    {name}: not reached")
    if not r.hooks and not planned:
        lines.append("    none configured")
    lines.append("  records:")
    for rec in r.records:
        lines.append(f"    {_record_line(rec, r)}")
    asked = (r.plan.nameservers if r.plan else []) or []
    lines.append(f"  would verify on: {', '.join(asked) or verification}")
    verdict = (
        render.paint("would succeed", "green")
        if r.success
        else render.paint("WOULD NOT SUCCEED: " + (r.error or r.outcome), "red")
    )
    lines.append(f"  verdict: {verdict}")
    return lines


def report_text(failover: FailoverResult, failback: FailoverResult, *, verification: str) -> str:
    """The drill for a person: per direction its gates, hooks, records and nameservers, then the
    verdict. ``verification`` says where a switch is confirmed when no nameserver is listed."""
    found = problems(failover, failback)
    lines = [
        f"drill of site {failover.site}: dry runs only, nothing written, nobody notified",
        "",
        *_direction_text(failover, verification),
        "",
        *_direction_text(failback, verification),
        "",
    ]
    if found:
        lines.append(render.paint("DRILL FAILED", "red") + ": " + "; ".join(found))
    else:
        lines.append(
            render.paint("DRILL PASSED", "green") + ": failover and failback would succeed"
        )
    return "\n".join(lines)

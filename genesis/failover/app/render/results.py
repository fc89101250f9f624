"""What an operation did: its result, the list of past operations, and its progress while it
runs."""

from __future__ import annotations

from typing import Any

from genesis.failover.app.render.text import paint, table
from genesis.failover.domain.wording import one_line


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
                one_line(i["reason"], 60),
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
            out.append(f"    error: {one_line(i['error'], 300)}")
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


def replay_text(report: dict[str, Any]) -> str:
    """``replay``: one line when every history replays; otherwise each one that would not."""
    n, running = report["replayed"], report["running"]
    head = f"replayed {n} histories ({running} running) through the installed code"
    if not report["failures"]:
        if n == 0:
            return head + ": none found on this task queue, nothing to compare against"
        return head + ": every one replays; this version can take over from the running one"
    lines = [head + f": {len(report['failures'])} would not replay. Do not roll this out:"]
    for f in report["failures"]:
        state = "RUNNING" if f["running"] else "closed"
        lines.append(
            f"  {f['workflow_id']} (run {f['run_id']}, {state}): {one_line(f['error'], 300)}"
        )
    lines.append(
        "A running workflow that does not replay would stop at its next step on this version: "
        "guard the change with workflow.patched() (docs/deploy.md, upgrading)."
    )
    return "\n".join(lines)

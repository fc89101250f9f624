"""What every channel says about an event, in words a person reads at 3 a.m.

The channels differ in layout (an email body, Slack blocks, PagerDuty's custom details) but not in
content: the facts come from one place, so an operator never finds the workflow id in the email
and not in Slack.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from genesis.failover.domain.config import EventKind
from genesis.failover.domain.models import NotificationEvent

__all__ = ["facts", "one_line", "utc_iso", "what_happened"]

_WHITESPACE = re.compile(r"\s+")

_WHAT_HAPPENED: dict[EventKind, str] = {
    "check_unhealthy": "A health check turned unhealthy.",
    "check_recovered": "A health check is healthy again.",
    "failover_started": "A failover started: traffic is moving from the primary to the backup.",
    "failover_succeeded": "The failover is done: traffic goes to the backup.",
    "failover_failed": "The failover FAILED: check where the records point now.",
    "failover_degraded": "The failover finished DEGRADED: the switch is done but a step after it "
    "failed (propagation or a post-hook).",
    "auto_failover_refused": "The site is unhealthy but automatic failover was refused: "
    "a human has to decide.",
    "failback_started": "A failback started: traffic is being moved back to the primary.",
    "failback_done": "The failback is done: traffic goes to the primary again.",
    "failback_failed": "The failback FAILED: check where the records point now.",
}


def what_happened(kind: EventKind) -> str:
    return _WHAT_HAPPENED.get(kind, kind)


def one_line(text: str, limit: int) -> str:
    """``text`` on one line (CR, LF and runs of spaces become one space), cut to ``limit``
    characters with an ellipsis: a CR/LF in a subject would start a new header."""
    flat = _WHITESPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)].rstrip() + "…"


def utc_iso(moment: datetime) -> str:
    """``2024-05-01T03:12:45Z``: one time zone in every message, whatever the worker's."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def facts(event: NotificationEvent) -> list[tuple[str, str]]:
    """(label, value) for every field the event has, in reading order. Records and the error,
    which can be long, are left to each channel's layout."""
    op = event.operation
    rows: list[tuple[str, str | None]] = [
        ("Site", event.site),
        ("Direction", op.direction if op else None),
        ("Trigger", op.trigger if op else None),
        ("Reason", op.reason if op else event.reason),
        ("Check", event.check_name),
        ("From -> to", f"{op.from_ip} -> {op.to_ip}" if op else None),
        ("Outcome", event.outcome),
        (
            "Duration",
            f"{event.duration_seconds:.1f} s" if event.duration_seconds is not None else None,
        ),
        ("Severity", event.severity),
        ("Time (UTC)", utc_iso(event.occurred_at)),
        ("Workflow id", event.workflow_id),
    ]
    return [(label, value) for label, value in rows if value]

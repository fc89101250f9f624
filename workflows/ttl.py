"""Planned failover: lower each record's TTL, wait out the old one, and put it back after.

With the TTL lowered before the switch, resolvers hold the old address for seconds rather than
the old TTL once the switch is made. Every write is compare-and-set on the record's value, so a
TTL change never carries a value somebody else wrote along with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.dns import DnsActivities
    from activities.payloads import SetTtlInput
    from genesis.failover.domain.models import FailoverInput, TtlOutcome

from workflows.retries import (
    SWITCH_HEARTBEAT_TIMEOUT,
    SWITCH_RETRY,
    SWITCH_SCHEDULE_TO_CLOSE,
    SWITCH_START_TO_CLOSE,
    cause,
)


async def _set_ttl(step: SetTtlInput) -> TtlOutcome:
    try:
        return await workflow.execute_activity_method(
            DnsActivities.set_record_ttl,
            step,
            start_to_close_timeout=SWITCH_START_TO_CLOSE,
            schedule_to_close_timeout=SWITCH_SCHEDULE_TO_CLOSE,
            heartbeat_timeout=SWITCH_HEARTBEAT_TIMEOUT,
            retry_policy=SWITCH_RETRY,
            summary=f"{step.step} TTL of {step.record.domain} to {step.ttl}s",
        )
    except ActivityError as err:
        rec = step.record
        return TtlOutcome(
            domain=rec.domain,
            record_type=rec.record_type,
            provider=rec.provider,
            step=step.step,
            error=cause(err),
        )


# A step for the FailoverWorkflow's progress: its text, and whether it is good news.
Report = Callable[[str, bool | None], None]


async def lower(inp: FailoverInput, changes: list[TtlOutcome], report: Report) -> None:
    """Lower every record's TTL, then wait out the longest old one. A record that refused is
    an error in ``changes`` (the run stops before the switch; what was lowered is restored)."""
    low = inp.lower_ttl_seconds
    assert low is not None
    expected = [inp.from_ip, inp.to_ip]
    lowered = await asyncio.gather(
        *(
            _set_ttl(
                SetTtlInput(
                    record=rec, ttl=low, expected=expected, step="lower", dry_run=inp.dry_run
                ),
            )
            for rec in inp.records
        )
    )
    changes.extend(lowered)
    if any(c.error for c in lowered):
        return
    # Only a TTL above the new one needs waiting out (a record already low is not written).
    wait = max((c.ttl_before or 0 for c in lowered if c.written), default=0)
    report(
        f"TTL lowered to {low}s on {sum(c.written for c in lowered)} records"
        + (f"; waiting {wait}s for resolvers to drop the old TTL" if wait else ""),
        True,
    )
    if wait and not inp.dry_run:
        await workflow.sleep(timedelta(seconds=wait), summary=f"wait out old TTL {wait}s")


async def restore(inp: FailoverInput, changes: list[TtlOutcome], report: Report) -> None:
    """Put back each TTL this operation lowered; one that is not is an error in ``changes``
    (the switch stands)."""
    lowered = [c for c in changes if c.step == "lower" and c.written and c.ttl_before]
    if not lowered or inp.dry_run:
        return
    by_domain = {r.domain: r for r in inp.records}
    restored = await asyncio.gather(
        *(
            _set_ttl(
                SetTtlInput(
                    record=by_domain[c.domain],
                    ttl=c.ttl_before or 0,
                    expected=[inp.to_ip, inp.from_ip],
                    step="restore",
                ),
            )
            for c in lowered
        )
    )
    changes.extend(restored)
    report(
        "TTL restored: " + ", ".join(f"{c.domain} {c.ttl_after}s" for c in restored if not c.error),
        not any(c.error for c in restored),
    )

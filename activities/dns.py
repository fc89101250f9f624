"""DNS activities: switch one record (compare-and-set) and verify propagation.

A refused or impossible change (conflict, bad credentials, unknown record) comes back as data in
the RecordSwitch so the workflow can say exactly which records moved; only trouble that a retry
can fix is raised, and Temporal retries it.
"""

from __future__ import annotations

import asyncio
import time

from temporalio import activity

from activities._errors import to_application_error
from activities.payloads import PropagationInput, PropagationResult, SwitchDnsInput
from genesis.failover.dns import DNSProvider, verify_dns_propagation
from genesis.failover.errors import DNSConflictError, DNSError
from genesis.failover.models import RecordSwitch


class DnsActivities:
    def __init__(self, provider: DNSProvider) -> None:
        self._provider = provider

    @activity.defn(name="switch_dns")
    async def switch_dns(self, inp: SwitchDnsInput) -> RecordSwitch:
        rec = inp.record
        try:
            return await self._provider.switch_record(
                rec.domain,
                rec.record_type,
                inp.from_ip,
                inp.to_ip,
                ttl=rec.ttl,
                force=inp.force,
                dry_run=inp.dry_run,
            )
        except DNSError as exc:
            if exc.retryable:
                raise to_application_error(exc) from None
            return RecordSwitch(
                domain=rec.domain,
                record_type=rec.record_type,
                provider=self._provider.name,
                target=inp.to_ip,
                before=(exc.current or []) if isinstance(exc, DNSConflictError) else [],
                action="refused" if isinstance(exc, DNSConflictError) else "failed",
                error=str(exc),
            )

    @activity.defn(name="verify_propagation")
    async def verify_propagation(self, inp: PropagationInput) -> PropagationResult:
        """Poll every nameserver until all answer the expected IP or the deadline passes.

        Polling inside one heartbeating activity costs three history events whatever the number
        of polls; if the worker dies, the heartbeat timeout hands the poll to another worker.
        """
        deadline = time.monotonic() + inp.deadline_seconds
        polls = 0
        while True:
            polls += 1
            answers = await verify_dns_propagation(
                inp.domain, inp.expected_ip, inp.nameservers, record_type=inp.record_type
            )
            complete = all(answers.values())
            activity.heartbeat({ns: ok for ns, ok in answers.items()})
            if complete or time.monotonic() + inp.poll_seconds > deadline:
                return PropagationResult(nameservers=answers, complete=complete, polls=polls)
            await asyncio.sleep(inp.poll_seconds)

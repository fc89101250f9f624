"""DNS activities: switch one record (compare-and-set), change its TTL, verify propagation.

A refused or impossible change (conflict, bad credentials, unknown record) comes back as data in
the result so the workflow can say exactly which records moved; only trouble that a retry can
fix is raised, and Temporal retries it (after a provider's Retry-After when it sent one).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

from temporalio import activity

from activities._heartbeat import beating
from activities._metrics import record_propagation
from activities.payloads import (
    PropagationInput,
    PropagationResult,
    ReadRecordInput,
    RecordReading,
    SetTtlInput,
    SwitchDnsInput,
)
from genesis.failover.domain.dns import DNSProvider, DNSProviders, watch_propagation
from genesis.failover.domain.dns.base import canonical_values
from genesis.failover.domain.errors import DNSError, FailoverError
from genesis.failover.domain.models import RecordRef, RecordSwitch, TtlOutcome
from genesis.failover.temporal.errors import to_application_error

T = TypeVar("T")


class DnsActivities:
    def __init__(self, providers: DNSProviders | DNSProvider) -> None:
        if isinstance(providers, DNSProvider):
            providers = DNSProviders.single(providers)
        self._providers = providers

    def _provider(self, name: str) -> DNSProvider:
        try:
            return self._providers.for_record(name)
        except FailoverError as exc:
            raise to_application_error(exc) from None

    @activity.defn(name="read_record")
    async def read_record(self, inp: ReadRecordInput) -> RecordReading:
        """Where the record points now, read at its provider (nothing is written): the monitor
        learns at its start which records sit on the primary and which on the backup."""
        rec = inp.record
        provider = self._provider(rec.provider)
        reading = RecordReading(
            domain=rec.domain, record_type=rec.record_type, provider=provider.name
        )
        current = await _settled(provider.read_record(rec.domain, rec.record_type), rec)
        if isinstance(current, DNSError):
            return reading.model_copy(update={"error": str(current)})
        values = canonical_values(rec.record_type, current.values)
        return reading.model_copy(update={"values": values, "ttl": current.ttl})

    @activity.defn(name="switch_dns")
    async def switch_dns(self, inp: SwitchDnsInput) -> RecordSwitch:
        rec = inp.record
        provider = self._provider(rec.provider)
        switch = provider.switch_record(
            rec.domain,
            rec.record_type,
            inp.from_ip,
            inp.to_ip,
            ttl=rec.ttl,
            force=inp.force,
            dry_run=inp.dry_run,
        )
        done = await _settled(switch, rec)
        if isinstance(done, DNSError):
            return RecordSwitch.not_moved(
                done,
                domain=rec.domain,
                record_type=rec.record_type,
                provider=provider.name,
                target=inp.to_ip,
            )
        return done

    @activity.defn(name="set_record_ttl")
    async def set_record_ttl(self, inp: SetTtlInput) -> TtlOutcome:
        rec = inp.record
        provider = self._provider(rec.provider)
        outcome = TtlOutcome(
            domain=rec.domain, record_type=rec.record_type, provider=provider.name, step=inp.step
        )
        write = provider.set_ttl(
            rec.domain, rec.record_type, inp.ttl, expected=inp.expected, dry_run=inp.dry_run
        )
        change = await _settled(write, rec)
        if isinstance(change, DNSError):
            return outcome.model_copy(update={"error": str(change)})
        return outcome.model_copy(
            update={
                "ttl_before": change.ttl_before,
                "ttl_after": change.ttl_after,
                "written": change.written,
            }
        )

    @activity.defn(name="verify_propagation")
    async def verify_propagation(self, inp: PropagationInput) -> PropagationResult:
        """Poll until the provider says the change is live and every nameserver answers the
        expected IP, or the deadline passes (``watch_propagation``). Never raises for "not
        yet": the result says.

        Polling inside one heartbeating activity costs three history events whatever the number
        of polls; if the worker dies, the heartbeat timeout hands the poll to another worker.
        """
        provider = self._provider(inp.provider) if inp.change_id else None
        change_id = inp.change_id or ""
        provider_name = inp.provider or self._providers.default
        outcome = await watch_propagation(
            inp.domain,
            inp.expected_ip,
            # None: the zone's authoritative nameservers, found by the first poll that can.
            (list(inp.nameservers) or None) if inp.query_nameservers else [],
            deadline_seconds=inp.deadline_seconds,
            poll_seconds=inp.poll_seconds,
            record_type=inp.record_type,
            change_is_live=(
                None if provider is None else lambda: provider.change_is_live(change_id)
            ),
            provider=provider_name,
            resolver=inp.resolver,
            nameserver_port=inp.nameserver_port,
            # Only before waiting for the next poll: the completion waits behind a heartbeat's
            # server round trip (~5 ms on the dev server, as long as a confirming poll), and
            # the result says everything the beat would have said.
            on_poll=activity.heartbeat,
        )
        if outcome.complete:
            record_propagation(outcome.seconds, provider_name)
        return PropagationResult(
            nameservers=outcome.nameservers,
            provider_live=outcome.provider_live,
            complete=outcome.complete,
            polls=outcome.polls,
            error=outcome.error,
        )


async def _settled(work: Coroutine[Any, Any, T], rec: RecordRef) -> T | DNSError:
    """``work``, heartbeating: a worker lost mid-write is noticed within the heartbeat timeout
    (workflows/retries.py), not after the whole start-to-close timeout. A DNS error a retry can
    fix is raised for Temporal to retry (after the provider's Retry-After); any other is
    returned, for the activity to report as data."""
    try:
        return await beating(work, lambda: {"record": rec.domain})
    except DNSError as exc:
        if exc.retryable:
            raise to_application_error(exc) from None
        return exc

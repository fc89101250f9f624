"""DNS activities: switch one record (compare-and-set), change its TTL, verify propagation.

A refused or impossible change (conflict, bad credentials, unknown record) comes back as data in
the result so the workflow can say exactly which records moved; only trouble that a retry can
fix is raised, and Temporal retries it (after a provider's Retry-After when it sent one).
"""

from __future__ import annotations

import asyncio
import time

from temporalio import activity

from activities._errors import to_application_error
from activities._heartbeat import beating
from activities._metrics import record_propagation
from activities.payloads import PropagationInput, PropagationResult, SetTtlInput, SwitchDnsInput
from genesis.failover.domain.dns import DNSProvider, DNSProviders, check_propagation
from genesis.failover.domain.dns.authoritative import authoritative_nameservers
from genesis.failover.domain.errors import DNSError, FailoverError
from genesis.failover.domain.models import RecordSwitch, TtlOutcome


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

    @activity.defn(name="switch_dns")
    async def switch_dns(self, inp: SwitchDnsInput) -> RecordSwitch:
        rec = inp.record
        provider = self._provider(rec.provider)
        try:
            # Heartbeating: a worker lost mid-switch is noticed within the heartbeat timeout
            # (workflows/retries.py), not after the switch's whole start-to-close timeout.
            return await beating(
                provider.switch_record(
                    rec.domain,
                    rec.record_type,
                    inp.from_ip,
                    inp.to_ip,
                    ttl=rec.ttl,
                    force=inp.force,
                    dry_run=inp.dry_run,
                ),
                lambda: {"record": rec.domain},
            )
        except DNSError as exc:
            if exc.retryable:
                raise to_application_error(exc) from None
            return RecordSwitch.not_moved(
                exc,
                domain=rec.domain,
                record_type=rec.record_type,
                provider=provider.name,
                target=inp.to_ip,
            )

    @activity.defn(name="set_record_ttl")
    async def set_record_ttl(self, inp: SetTtlInput) -> TtlOutcome:
        rec = inp.record
        provider = self._provider(rec.provider)
        outcome = TtlOutcome(
            domain=rec.domain, record_type=rec.record_type, provider=provider.name, step=inp.step
        )
        try:
            change = await beating(  # a TTL write is a DNS write: heartbeat as the switch does
                provider.set_ttl(
                    rec.domain,
                    rec.record_type,
                    inp.ttl,
                    expected=inp.expected,
                    dry_run=inp.dry_run,
                ),
                lambda: {"record": rec.domain},
            )
        except DNSError as exc:
            if exc.retryable:
                raise to_application_error(exc) from None
            return outcome.model_copy(update={"error": str(exc)})
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
        expected IP, or the deadline passes. Never raises for "not yet": the result says.

        Polling inside one heartbeating activity costs three history events whatever the number
        of polls; if the worker dies, the heartbeat timeout hands the poll to another worker.
        """
        started = time.monotonic()
        deadline = started + inp.deadline_seconds
        provider = self._provider(inp.provider) if inp.change_id else None
        live: bool | None = None if provider is None else False
        # None: the zone's authoritative nameservers, found on the first poll that can.
        nameservers = (list(inp.nameservers) or None) if inp.query_nameservers else []
        answers: dict[str, bool] = {}
        # Why each nameserver has not confirmed yet ("... answers 192.0.2.10 ...", "no answer
        # from ..."): an unconfirmed result names them, so the operator knows where to look.
        why_not: dict[str, str] = {}
        error: str | None = None
        polls = 0
        while True:
            polls += 1
            error = None
            if provider is not None and not live:
                try:
                    live = await provider.change_is_live(inp.change_id or "")
                except DNSError as exc:
                    error = str(exc)
            if nameservers is None:
                try:
                    nameservers = await authoritative_nameservers(
                        inp.domain, resolver=inp.resolver, port=inp.nameserver_port
                    )
                except DNSError as exc:
                    error = str(exc)
            if nameservers:
                pending = [ns for ns in nameservers if not answers.get(ns)]
                if pending:
                    checked = await check_propagation(
                        inp.domain,
                        inp.expected_ip,
                        pending,
                        record_type=inp.record_type,
                        # A silent nameserver must not carry the step past its deadline.
                        timeout=min(2.0, max(deadline - time.monotonic(), 0.3)),
                    )
                    for ns, why in checked.items():
                        answers[ns] = why is None
                        if why is not None:
                            why_not[ns] = why
            complete = (
                live is not False
                and nameservers is not None
                and all(answers.get(ns, False) for ns in nameservers)
            )
            if complete:
                seconds = time.monotonic() - started
                record_propagation(seconds, inp.provider or self._providers.default)
            if complete or time.monotonic() + inp.poll_seconds > deadline:
                if not complete and error is None:
                    waiting = [why_not.get(ns) for ns in nameservers or [] if not answers.get(ns)]
                    error = "; ".join(w for w in waiting if w) or None
                return PropagationResult(
                    nameservers=answers,
                    provider_live=live,
                    complete=complete,
                    polls=polls,
                    error=None if complete else error,
                )
            # Only before waiting for the next poll: the completion waits behind a heartbeat's
            # server round trip (~5 ms on the dev server, as long as a confirming poll), and
            # the result says everything the beat would have said.
            activity.heartbeat({"provider_live": live, **answers})
            await asyncio.sleep(inp.poll_seconds)

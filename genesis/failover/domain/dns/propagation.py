"""Has the change reached the nameservers? Ask each one directly, until they all say yes.

``check_propagation`` asks every nameserver once, concurrently, and says why each one that has
not confirmed has not; ``watch_propagation`` is THE polling loop, used by the
``verify_propagation`` activity and by the seed's ``DNSManager``: the provider's own word (Route53
INSYNC), the zone's authoritative nameservers when none are named, a deadline, a nameserver that
confirmed never asked again, a progress callback before each wait. A nameserver that errors is
``False``: one dead resolver must not fail the whole verification.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from pydantic import Field

from genesis.failover.domain.addresses import canonical_ip_or_value
from genesis.failover.domain.dns.authoritative import authoritative_nameservers
from genesis.failover.domain.dns.query import (
    absolute_name,
    query_nameserver,
    resolve_host,
    split_host_port,
)
from genesis.failover.domain.errors import DNSError
from genesis.failover.domain.models import Model

__all__ = [
    "PropagationOutcome",
    "PropagationProgress",
    "check_propagation",
    "query_nameserver",
    "resolve_host",
    "split_host_port",
    "verify_dns_propagation",
    "wait_for_propagation",
    "watch_propagation",
]

log = logging.getLogger(__name__)

# The shortest budget a nameserver gets near the deadline: a silent one must not carry the watch
# past its deadline, and below this a live one on a slow link could not answer at all.
_LAST_QUERY_SECONDS = 0.3


async def check_propagation(
    domain: str,
    expected_ip: str,
    nameservers: Sequence[str],
    record_type: str = "A",
    *,
    timeout: float = 2.0,  # noqa: ASYNC109 - per-nameserver budget; one slow server stays False
) -> dict[str, str | None]:
    """``{nameserver: None}`` for each nameserver answering exactly ``[expected_ip]``, else why
    not, naming it: "nameserver 10.0.0.53 answers 192.0.2.10 for www.example.com A" (still the
    old address), "no answer from nameserver 10.0.0.53 after 3 tries in 2 s" (down, or its
    datagrams dropped), "nameserver ... answered SERVFAIL ...". Every nameserver is asked
    concurrently; a failover that ends unconfirmed can then tell the operator which nameserver
    held it back and what it said, not only that one did."""
    absolute_name(domain)  # a bad domain is the caller's error, not one nameserver's
    expected = [canonical_ip_or_value(expected_ip)]
    answers = await asyncio.gather(
        *(query_nameserver(ns, domain, record_type, timeout=timeout) for ns in nameservers),
        return_exceptions=True,
    )
    result: dict[str, str | None] = {}
    for ns, answer in zip(nameservers, answers, strict=True):
        if isinstance(answer, BaseException):
            log.info("propagation check of %s at %s failed: %s", domain, ns, answer)
            result[ns] = str(answer) or f"nameserver {ns}: {type(answer).__name__}"
        elif answer == expected:
            result[ns] = None
        else:
            said = ", ".join(answer) if answer else "no such record"
            result[ns] = f"nameserver {ns} answers {said} for {domain} {record_type}"
    return result


async def verify_dns_propagation(
    domain: str,
    expected_ip: str,
    nameservers: Sequence[str],
    record_type: str = "A",
    *,
    timeout: float = 2.0,  # noqa: ASYNC109 - per-nameserver budget; one slow server stays False
) -> dict[str, bool]:
    """``{nameserver: answers exactly [expected_ip]}``, every nameserver asked concurrently
    (``check_propagation`` says why a nameserver is False)."""
    why_not = await check_propagation(
        domain, expected_ip, nameservers, record_type, timeout=timeout
    )
    return {ns: why is None for ns, why in why_not.items()}


class PropagationProgress(Model):
    """What a propagation watch knows before it waits for its next poll: the heartbeat of the
    ``verify_propagation`` activity, which the CLI reads to show nameservers as they confirm."""

    domain: str
    record_type: str
    expected_ip: str
    provider: str
    # The provider's own word on the change (Route53 INSYNC); None when it has nothing to say.
    provider_live: bool | None = None
    # Every nameserver asked so far: True once it answered the expected address.
    nameservers: dict[str, bool] = Field(default_factory=dict)


@dataclass(frozen=True)
class PropagationOutcome:
    """Where a watch ended. ``error`` says why it is incomplete beyond "not yet": no nameserver
    found, the provider unreachable, else what each unconfirmed nameserver answered instead."""

    nameservers: dict[str, bool]
    provider_live: bool | None
    complete: bool
    polls: int
    error: str | None
    seconds: float


async def watch_propagation(
    domain: str,
    expected_ip: str,
    nameservers: Sequence[str] | None,
    *,
    deadline_seconds: float,
    poll_seconds: float = 0.2,
    record_type: str = "A",
    query_timeout: float = 2.0,
    change_is_live: Callable[[], Awaitable[bool]] | None = None,
    provider: str = "",
    resolver: str | None = None,
    nameserver_port: int = 53,
    on_poll: Callable[[PropagationProgress], None] | None = None,
) -> PropagationOutcome:
    """Poll until the provider says the change is live and every nameserver answers
    ``[expected_ip]``, or the deadline passes; never raises for "not yet".

    ``nameservers`` None: the zone's authoritative nameservers (asking ``resolver`` on port
    ``nameserver_port``), found by the first poll that can. ``change_is_live``: the provider's
    own word (Route53's change status), asked until it says yes. A nameserver that has answered
    the new value is not asked again: an authoritative secondary never goes back, and a resolver
    serves the new value from its cache. ``on_poll`` gets the progress before each wait, never
    after the poll that ends the watch (the outcome says it all).
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + deadline_seconds
    live: bool | None = None if change_is_live is None else False
    found = list(nameservers) if nameservers is not None else None
    answers: dict[str, bool] = dict.fromkeys(found or [], False)
    # Why each nameserver has not confirmed yet ("... answers 192.0.2.10 ...", "no answer
    # from ..."): an unconfirmed outcome names them, so the operator knows where to look.
    why_not: dict[str, str] = {}
    polls = 0
    while True:
        polls += 1
        error: str | None = None
        if change_is_live is not None and not live:
            try:
                live = await change_is_live()
            except DNSError as exc:
                error = str(exc)
        if found is None:
            try:
                found = await authoritative_nameservers(
                    domain, resolver=resolver, port=nameserver_port
                )
            except DNSError as exc:
                error = str(exc)
        pending = [ns for ns in found or [] if not answers.get(ns)]
        if pending:
            remaining = deadline - loop.time()
            checked = await check_propagation(
                domain,
                expected_ip,
                pending,
                record_type,
                timeout=min(query_timeout, max(remaining, _LAST_QUERY_SECONDS)),
            )
            for ns, why in checked.items():
                answers[ns] = why is None
                if why is not None:
                    why_not[ns] = why
        complete = live is not False and found is not None and all(answers.values())
        remaining = deadline - loop.time()
        if complete or remaining <= 0:
            if not complete and error is None:
                waiting = [why_not.get(ns) for ns in found or [] if not answers.get(ns)]
                error = "; ".join(w for w in waiting if w) or None
            return PropagationOutcome(
                nameservers=answers,
                provider_live=live,
                complete=complete,
                polls=polls,
                error=None if complete else error,
                seconds=loop.time() - started,
            )
        if on_poll is not None:
            on_poll(
                PropagationProgress(
                    domain=domain,
                    record_type=record_type,
                    expected_ip=expected_ip,
                    provider=provider,
                    provider_live=live,
                    nameservers=dict(answers),
                )
            )
        await asyncio.sleep(min(poll_seconds, remaining))


async def wait_for_propagation(
    domain: str,
    expected_ip: str,
    nameservers: Sequence[str],
    *,
    deadline_seconds: float,
    poll_interval: float = 0.2,
    record_type: str = "A",
    query_timeout: float = 2.0,
) -> dict[str, bool]:
    """``watch_propagation`` of the given nameservers, as ``{nameserver: confirmed}``."""
    outcome = await watch_propagation(
        domain,
        expected_ip,
        nameservers,
        deadline_seconds=deadline_seconds,
        poll_seconds=poll_interval,
        record_type=record_type,
        query_timeout=query_timeout,
    )
    return outcome.nameservers

"""Readiness gates: what must be true before any DNS change (the seed's checklist: "verify backup
infrastructure is ready", "check database replication lag"; for failback, "primary healthy now").

Each gate answers with a ``GateResult``; a failed gate is data (``ok=False`` and a one-line
``detail``), never an exception: the caller aborts the operation on it, and an exception would
only make Temporal ask the same question again. Only a bug raises here.

A failing gate is asked again, up to ``attempts`` times in all: one lost packet must not hold a
failover back for a whole cooldown. A failure that asking again cannot change (an unset password
variable, a query that returns text, a statement refused as a write) ends at once: during an
outage the operator must hear "fix the config, or --force" in seconds, not after every retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from functools import partial

import httpx

from genesis.failover.domain.config import CheckConfig, GatesSettings, ReplicationLagGate
from genesis.failover.domain.gates.lag import Answer, read_lag
from genesis.failover.domain.models import GateKind, GateResult
from genesis.failover.domain.probes import new_http_client, run_probe

__all__ = ["check_failover_gates", "check_primary_now", "read_replication_lag"]


async def check_failover_gates(
    gates: GatesSettings, *, environ: Mapping[str, str] | None = None, origin: str = ""
) -> list[GateResult]:
    """Every backup check (kind ``backup_check``) and the replication lag gate (kind
    ``replication_lag``), concurrently; results in config order (backup checks, then lag).

    ``environ`` (default ``os.environ``) holds the lag gate's ``password_env``. The backup checks
    are the health probes, which read a database check's password from ``os.environ``.
    """
    env = os.environ if environ is None else environ
    async with _shared_http_client(gates.backup_checks) as client:
        asks = [
            partial(_probe, check, "backup_check", origin, client) for check in gates.backup_checks
        ]
        if gates.replication_lag is not None:
            asks.append(partial(read_lag, gates.replication_lag, env))
        return list(
            await asyncio.gather(
                *(_asked(ask, gates.attempts, gates.retry_interval_seconds) for ask in asks)
            )
        )


async def check_primary_now(
    checks: list[CheckConfig],
    *,
    attempts: int = 2,
    retry_interval_seconds: float = 1.0,
    origin: str = "",
) -> list[GateResult]:
    """Failback's gate: the primary's checks, probed now (kind ``primary_check``), in order.

    Every check given is a gate: the caller passes the critical ones (a non-critical check never
    triggers a failover, so it does not hold a failback back either).
    """
    async with _shared_http_client(checks) as client:
        return list(
            await asyncio.gather(
                *(
                    _asked(
                        partial(_probe, check, "primary_check", origin, client),
                        attempts,
                        retry_interval_seconds,
                    )
                    for check in checks
                )
            )
        )


async def read_replication_lag(
    gate: ReplicationLagGate, *, environ: Mapping[str, str] | None = None
) -> GateResult:
    """Run ``gate.query`` once, read-only, within ``gate.timeout_seconds``; ok when it returns
    one row whose first column is a number no greater than ``gate.max_value``."""
    answer = await read_lag(gate, os.environ if environ is None else environ)
    return answer.result


async def _asked(
    ask: Callable[[], Awaitable[Answer]], attempts: int, interval: float
) -> GateResult:
    attempt = 1
    while True:
        answer = await ask()
        if answer.result.ok or answer.final or attempt >= attempts:
            return answer.result.model_copy(update={"attempts": attempt})
        attempt += 1
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def _shared_http_client(
    checks: Sequence[CheckConfig],
) -> AsyncIterator[httpx.AsyncClient | None]:
    """One verified client for the batch and its retries (the CA bundle loads once); see
    ``probes.run_probes`` for why ``verify_tls=False`` checks never share it."""
    if any(c.check_type == "http" and c.verify_tls for c in checks):
        async with new_http_client() as client:
            yield client
    else:
        yield None


async def _probe(
    check: CheckConfig, kind: GateKind, origin: str, client: httpx.AsyncClient | None
) -> Answer:
    probe = await run_probe(check, origin=origin, http_client=client)
    detail = (
        f"healthy in {probe.latency_ms:.0f} ms" if probe.healthy else probe.error or "unhealthy"
    )
    return Answer(GateResult(name=check.name, kind=kind, ok=probe.healthy, detail=detail))

"""Health probes: one ``CheckConfig`` in, one ``ProbeResult`` out, never an exception.

Plain domain code (no Temporal here): the activities wrap these, the ``check`` command calls them
directly. Every probe is bounded by ``check.timeout_seconds`` and reports failure as data.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx

from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.models import ProbeResult
from genesis.failover.domain.probes._result import describe_error
from genesis.failover.domain.probes.database import probe_database
from genesis.failover.domain.probes.http import new_http_client, probe_http
from genesis.failover.domain.probes.process import probe_process
from genesis.failover.domain.probes.tcp import probe_tcp

__all__ = [
    "MAX_PROBES_IN_FLIGHT",
    "PROBES_PER_BATCH",
    "batch_seconds",
    "first_due_offset",
    "new_http_client",
    "probe_database",
    "probe_http",
    "probe_process",
    "probe_slots",
    "probe_tcp",
    "run_probe",
    "run_probes",
]


async def run_probe(
    check: CheckConfig, *, origin: str = "", http_client: httpx.AsyncClient | None = None
) -> ProbeResult:
    """Run the probe for ``check.check_type``. ``http_client``: see :func:`run_probes`."""
    try:
        match check.check_type:
            case "http":
                return await probe_http(check, origin=origin, http_client=http_client)
            case "tcp":
                return await probe_tcp(check, origin=origin)
            case "database":
                return await probe_database(check, origin=origin)
            case "process":
                return await probe_process(check, origin=origin)
            case other:
                error = f"unknown check type {other!r}"
    except Exception as exc:
        # The probes already return failures as data; this net only catches a bug in one of
        # them, so that one broken probe cannot take the whole batch down with it.
        error = f"probe crashed: {describe_error(exc)}"
    return ProbeResult(
        check_name=check.name,
        healthy=False,
        latency_ms=0.0,
        error=error,
        checked_at=datetime.now(UTC),
        origin=origin,
    )


# Probes in flight at once in one process (scripts/bench.py, docs/benchmarks.md). A probe beyond
# this waits for a slot BEFORE its own timeout starts. Without the bound, 5,000 probes started
# together spend seconds queued behind each other on one event loop and time out against
# healthy targets: the worker's own overload would read as "primary down". It also keeps the
# sockets a batch opens well below the usual 1,024 open-file limit.
MAX_PROBES_IN_FLIGHT = 500


# Checks one monitor probes at the same moment. Beyond this a site's checks are spread over
# their interval in groups: 1,000 HTTP probes started together reach their targets over ~1 s of
# one event loop (about 1 ms of CPU each), so the last were a second late; in five groups two
# seconds apart none is more than ~0.3 s late, and targets behind one load balancer see a steady
# rate instead of a burst. Smaller sites keep one batch per tick: history grows per batch.
PROBES_PER_BATCH = 200


def first_due_offset(index: int, count: int, interval_seconds: float) -> float:
    """Seconds after a monitor starts that check ``index`` (of ``count``) is first probed; it
    is then due every ``interval_seconds``. 0 for every check of a site with at most
    ``PROBES_PER_BATCH`` checks."""
    groups = -(-count // PROBES_PER_BATCH)
    return (index % groups) * interval_seconds / groups if groups > 1 else 0.0


def batch_seconds(checks: list[CheckConfig]) -> float:
    """How long a batch of ``checks`` may take when every target hangs: a worker runs them in
    waves of ``MAX_PROBES_IN_FLIGHT``, each as long as the longest timeout. A batch cut short
    sooner would be lost, counted as neither success nor failure: a mass outage unseen."""
    waves = -(-len(checks) // MAX_PROBES_IN_FLIGHT)
    return max((c.timeout_seconds for c in checks), default=0.0) * waves


def probe_slots() -> asyncio.Semaphore:
    """The bound above, to share between every batch one worker runs."""
    return asyncio.Semaphore(MAX_PROBES_IN_FLIGHT)


async def run_probes(
    checks: list[CheckConfig],
    *,
    origin: str = "",
    http_client: httpx.AsyncClient | None = None,
    slots: asyncio.Semaphore | None = None,
) -> list[ProbeResult]:
    """Run the probes concurrently, at most ``slots`` at once (default: a fresh bound of
    ``MAX_PROBES_IN_FLIGHT`` for this call); results come back in the order of ``checks``.

    HTTP clients: an httpx client's TLS settings are fixed when it is built, and its connection
    pool is shared by every request it sends. So there are two kinds of client, never mixed:
    - checks that verify TLS share ONE verified client: ``http_client`` if given (it must verify
      TLS; build it with :func:`new_http_client`), else one built for this batch. Loading the CA
      bundle is the expensive part of a client and happens once, and connections are reused.
    - each ``verify_tls=False`` check builds its own throwaway unverified client. Such checks are
      rare and an unverified client is cheap (no CA bundle); above all, a pooled connection that
      skipped verification can then never be handed to a check that asked for verification.
    The batch's own client has a connection for every probe that can be in flight, so no request
    ever queues inside its pool: httpcore's pool rescans its whole queue on every change, and
    1,000 requests queued behind its default 100 connections took 20 s of CPU (all timed out).
    """
    slots = slots or probe_slots()
    verified = sum(1 for c in checks if c.check_type == "http" and c.verify_tls)
    if http_client is None and verified:
        async with new_http_client(connections=min(verified, MAX_PROBES_IN_FLIGHT)) as client:
            return await _gather(checks, origin, client, slots)
    return await _gather(checks, origin, http_client, slots)


async def _gather(
    checks: list[CheckConfig],
    origin: str,
    http_client: httpx.AsyncClient | None,
    slots: asyncio.Semaphore,
) -> list[ProbeResult]:
    async def one(check: CheckConfig) -> ProbeResult:
        async with slots:
            return await run_probe(check, origin=origin, http_client=http_client)

    return list(await asyncio.gather(*(one(check) for check in checks)))

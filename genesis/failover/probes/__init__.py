"""Health probes: one ``CheckConfig`` in, one ``ProbeResult`` out, never an exception.

Plain domain code (no Temporal here): the activities wrap these, the ``check`` command calls them
directly. Every probe is bounded by ``check.timeout_seconds`` and reports failure as data.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx

from genesis.failover.config import CheckConfig
from genesis.failover.models import ProbeResult
from genesis.failover.probes._result import describe_error
from genesis.failover.probes.database import probe_database
from genesis.failover.probes.http import new_http_client, probe_http
from genesis.failover.probes.process import probe_process
from genesis.failover.probes.tcp import probe_tcp

__all__ = [
    "new_http_client",
    "probe_database",
    "probe_http",
    "probe_process",
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


async def run_probes(
    checks: list[CheckConfig],
    *,
    origin: str = "",
    http_client: httpx.AsyncClient | None = None,
) -> list[ProbeResult]:
    """Run every probe concurrently; results come back in the order of ``checks``.

    HTTP clients: an httpx client's TLS settings are fixed when it is built, and its connection
    pool is shared by every request it sends. So there are two kinds of client, never mixed:
    - checks that verify TLS share ONE verified client: ``http_client`` if given (it must verify
      TLS; build it with :func:`new_http_client`), else one built for this batch. Loading the CA
      bundle is the expensive part of a client and happens once, and connections are reused.
    - each ``verify_tls=False`` check builds its own throwaway unverified client. Such checks are
      rare and an unverified client is cheap (no CA bundle); above all, a pooled connection that
      skipped verification can then never be handed to a check that asked for verification.
    """
    if http_client is None and any(c.check_type == "http" and c.verify_tls for c in checks):
        async with new_http_client() as client:
            return await _gather(checks, origin, client)
    return await _gather(checks, origin, http_client)


async def _gather(
    checks: list[CheckConfig], origin: str, http_client: httpx.AsyncClient | None
) -> list[ProbeResult]:
    return list(
        await asyncio.gather(
            *(run_probe(check, origin=origin, http_client=http_client) for check in checks)
        )
    )

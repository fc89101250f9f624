"""What every probe shares: one time bound, one clock, one way to turn a failure into data.

A probe answers "is this healthy?" and nothing else. It never raises: a probe that throws would
make the caller (a Temporal activity) retry, and a retried probe hides the very failure it was
meant to count. So the boundary here catches every ``Exception`` (never ``CancelledError``: a
cancelled caller must stay cancelled) and returns ``ProbeResult(healthy=False, error=...)``.

Error strings land in workflow history, which every operator with UI access can read, so they are
one short line and pass through :func:`describe_error`, which scrubs the secrets it is given.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.models import ProbeResult

MAX_ERROR_CHARS = 300


class Stopwatch:
    """Milliseconds since the probe started, for probes whose verdict depends on latency."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000.0


# The probe body: returns None when healthy, or a one-line reason when not. It may raise; the
# boundary below turns whatever it raises into that reason.
ProbeBody = Callable[[Stopwatch], Awaitable[str | None]]


async def run_bounded(
    check: CheckConfig,
    body: ProbeBody,
    *,
    origin: str = "",
    secrets: Iterable[str] = (),
) -> ProbeResult:
    """Run ``body`` under ``check.timeout_seconds`` (DNS, connect and read included)."""
    clock = Stopwatch()
    bound = asyncio.timeout(check.timeout_seconds)
    error: str | None
    try:
        async with bound:
            error = await body(clock)
    except TimeoutError as exc:
        # Only our own bound is "timed out after Ns"; a TimeoutError raised inside the body
        # (a socket timeout, say) is reported as what it is.
        if bound.expired():
            error = f"timed out after {check.timeout_seconds}s"
        else:
            error = describe_error(exc, secrets=secrets)
    except Exception as exc:
        error = describe_error(exc, secrets=secrets)
    return ProbeResult(
        check_name=check.name,
        healthy=error is None,
        latency_ms=round(clock.elapsed_ms(), 3),
        error=None if error is None else scrub(error, secrets),
        checked_at=datetime.now(UTC),
        origin=origin,
    )


def _chain(exc: BaseException) -> Iterable[BaseException]:
    """The exception and its causes: libraries wrap the OSError that says what happened."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def describe_error(exc: BaseException, *, secrets: Iterable[str] = ()) -> str:
    """One short line: the root cause operators recognise, else ``Type: message``."""
    for cause in _chain(exc):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate verify failed: {cause.verify_message}"
        if isinstance(cause, socket.gaierror):
            return f"DNS lookup failed: {cause.strerror}"
    message = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return scrub(text, secrets)


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 3] + "..."
    return text

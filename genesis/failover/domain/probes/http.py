"""HTTP probe: GET the target; healthy on an expected status, body and latency.

Redirects are followed only while they stay on the target's host. A health URL that starts
redirecting to another host is usually a load balancer sending traffic to a maintenance or login
page: following it would report that other host's 200 as "primary healthy", the false negative
that keeps traffic on a dead site. So such a redirect is judged as what it is, a 3xx.
"""

from __future__ import annotations

import httpx

from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.models import ProbeResult
from genesis.failover.domain.probes._result import Stopwatch, run_bounded

MAX_REDIRECTS = 5
# body_contains looks at the start of the body only: a health endpoint that streams gigabytes
# must not make the probe download them.
MAX_BODY_BYTES = 1024 * 1024
USER_AGENT = "genesis-failover-probe"


def new_http_client(*, verify_tls: bool = True, connections: int = 100) -> httpx.AsyncClient:
    """A client fit for probes; pass one as ``http_client`` to reuse connections across probes.
    ``connections``: as many as probes will be in flight through it (see ``run_probes``).

    No httpx timeout: the probe's own bound covers the whole request, whereas httpx's timeouts
    apply per phase (connect, each read) and would let a slow-dripping server run over.
    """
    return httpx.AsyncClient(
        verify=verify_tls,
        follow_redirects=False,
        timeout=None,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


async def probe_http(
    check: CheckConfig, *, origin: str = "", http_client: httpx.AsyncClient | None = None
) -> ProbeResult:
    """GET ``check.target``. ``http_client`` (built with TLS verification on, e.g. by
    :func:`new_http_client`) is used for checks that verify TLS; it is never used for
    ``verify_tls=False`` checks, which get a throwaway unverified client (see ``run_probes``)."""

    async def body(clock: Stopwatch) -> str | None:
        if check.verify_tls and http_client is not None:
            return await _get(http_client, check, clock)
        async with new_http_client(verify_tls=check.verify_tls) as client:
            return await _get(client, check, clock)

    return await run_bounded(check, body, origin=origin, secrets=_url_secrets(check.target))


async def _get(client: httpx.AsyncClient, check: CheckConfig, clock: Stopwatch) -> str | None:
    request = client.build_request("GET", check.target, timeout=httpx.Timeout(None))
    host = request.url.host
    for _hop in range(MAX_REDIRECTS + 1):
        response = await client.send(request, follow_redirects=False, stream=True)
        try:
            next_request = response.next_request
            if next_request is None:
                text = await _read_start(response) if check.body_contains is not None else ""
                return _judge(check, response.status_code, text, clock.elapsed_ms())
            if next_request.url.host != host:
                return (
                    f"HTTP {response.status_code} redirects to another host "
                    f"({next_request.url.host}); not followed"
                )
            request = next_request
        finally:
            await response.aclose()
    return f"more than {MAX_REDIRECTS} redirects"


async def _read_start(response: httpx.Response) -> str:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY_BYTES:
            break
    raw = b"".join(chunks)[:MAX_BODY_BYTES]
    return raw.decode(response.charset_encoding or "utf-8", errors="replace")


def _judge(check: CheckConfig, status: int, text: str, latency_ms: float) -> str | None:
    if check.expected_status is None:
        if not 200 <= status < 300:
            return f"HTTP {status} (expected 2xx)"
    elif status not in check.expected_status:
        expected = ", ".join(str(code) for code in check.expected_status)
        return f"HTTP {status} (expected {expected})"
    if check.body_contains is not None and check.body_contains not in text:
        return f"HTTP {status} but body does not contain {check.body_contains!r}"
    if check.max_latency_ms is not None and latency_ms > check.max_latency_ms:
        return f"latency {latency_ms:.0f}ms above {check.max_latency_ms:g}ms"
    return None


def _url_secrets(target: str) -> list[str]:
    """A password in the URL's userinfo must not reach an error message."""
    try:
        password = httpx.URL(target).password
    except Exception:
        return []
    return [password] if password else []

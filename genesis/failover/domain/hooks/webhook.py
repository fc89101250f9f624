"""Webhook hooks: POST the operation's context as JSON to a URL held in the environment.

The URL is a secret (it often carries a token in its path) and so is the bearer token: neither
appears in an output, an error or a repr; messages are built here from the status code and the
start of the body, redacted. Redirects are not followed: a redirect could carry the
``Authorization`` header to another host, so a 3xx is a (non-retryable) failure.

Every delivery of one hook in one operation carries the same ``Idempotency-Key``
(``<failover_id>/<phase>/<name>``): a receiver that got the first attempt but whose answer was
lost can drop the retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from genesis.failover.domain.config import HookConfig
from genesis.failover.domain.errors import ConfigError, HookError
from genesis.failover.domain.models import HookContext, HookSpec
from genesis.failover.domain.secrets import hidden_from_http_log, redact, secret_from_env

__all__ = ["USER_AGENT", "WebhookHook", "webhook_payload"]

USER_AGENT = "genesis-failover"
# How much of the receiver's answer is kept (its start: where an error body says what is wrong).
BODY_LIMIT = 500


def webhook_payload(context: HookContext, spec: HookSpec) -> dict[str, Any]:
    """The JSON body a webhook hook POSTs."""
    return {"hook": spec.name, "phase": spec.phase, **context.model_dump(mode="json")}


@dataclass(frozen=True)
class WebhookHook:
    name: str
    url: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    kind: ClassVar[str] = "webhook"

    @classmethod
    def from_config(cls, hc: HookConfig, phase: str, environ: Mapping[str, str]) -> WebhookHook:
        """Read and check the URL (and token) at worker start; errors name the variable."""
        assert hc.webhook_url_env is not None
        url_field = f"hooks.{phase}.{hc.name}.webhook_url_env"
        url = secret_from_env(
            environ, hc.webhook_url_env, field=url_field, holds="the http(s) URL the hook POSTs to"
        )
        if not _is_http_url(url):
            raise ConfigError(
                f"environment variable {hc.webhook_url_env} ({url_field}) does not hold an "
                "http:// or https:// URL with a host",
                field=url_field,
                value=hc.webhook_url_env,
            )
        token = None
        if hc.bearer_token_env is not None:
            token_field = f"hooks.{phase}.{hc.name}.bearer_token_env"
            token = secret_from_env(
                environ,
                hc.bearer_token_env,
                field=token_field,
                holds="the bearer token the webhook expects",
            )
            # A header cannot carry it; better said now than as an encoding error mid-failover.
            if not (token.isascii() and token.isprintable()):
                raise ConfigError(
                    f"environment variable {hc.bearer_token_env} ({token_field}) holds "
                    "characters an HTTP header cannot carry",
                    field=token_field,
                    value=hc.bearer_token_env,
                )
        return cls(name=hc.name, url=url, token=token)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The URL, the parts of it a receiver may echo (path, query, password, long path
        segments: where tokens hide), and the bearer token."""
        parts = urlsplit(self.url)
        pieces = [parts.path + (f"?{parts.query}" if parts.query else ""), parts.query]
        pieces += [parts.password or "", *(s for s in parts.path.split("/") if len(s) >= 16)]
        # Short pieces ("/", "/hook") are no secret; scrubbing them would garble every message.
        return (
            self.url,
            *(p for p in pieces if len(p) >= 8),
            *([self.token] if self.token else []),
        )

    async def run(self, context: HookContext, spec: HookSpec, secrets: Sequence[str] = ()) -> str:
        """POST once; ``HTTP <status>: <start of body>`` on 2xx, else HookError."""
        hidden = (*self.secrets, *secrets)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": f"{context.failover_id}/{spec.phase}/{spec.name}",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            # httpx's timeout bounds each phase (connect, each read); asyncio's bounds the whole
            # exchange, so a receiver dripping a byte a second cannot run over.
            # httpx logs the URL of every request at INFO: not this one's.
            with hidden_from_http_log(hidden):
                async with asyncio.timeout(spec.timeout_seconds):
                    async with httpx.AsyncClient(
                        timeout=spec.timeout_seconds, follow_redirects=False
                    ) as client:
                        async with client.stream(
                            "POST", self.url, json=webhook_payload(context, spec), headers=headers
                        ) as response:
                            status = response.status_code
                            body = await _read_start(response, BODY_LIMIT * 4)
        except (TimeoutError, httpx.TimeoutException):
            raise HookError(
                f"hook {self.name!r}: webhook did not answer within {spec.timeout_seconds:g}s",
                retryable=True,
            ) from None
        except httpx.HTTPError as exc:  # connection refused, reset, TLS, protocol errors
            detail = redact(str(exc), hidden)[:200]
            raise HookError(
                f"hook {self.name!r}: webhook request failed: {type(exc).__name__}"
                + (f": {detail}" if detail else ""),
                retryable=True,
            ) from None
        snippet = redact(body.decode("utf-8", errors="replace"), hidden).strip()[:BODY_LIMIT]
        answer = f"HTTP {status}" + (f": {snippet}" if snippet else "")
        if 200 <= status < 300:
            return answer
        if 300 <= status < 400:
            raise HookError(
                f"hook {self.name!r}: webhook answered HTTP {status}, a redirect; not followed "
                "(it could carry the bearer token elsewhere): point the URL at its target",
                retryable=False,
            )
        # 408, 429 and 5xx are the receiver's passing trouble; any other 4xx says the request
        # itself is refused (wrong token, wrong path), and will be refused again.
        retryable = status >= 500 or status in (408, 429)
        raise HookError(f"hook {self.name!r}: webhook answered {answer}", retryable=retryable)


def _is_http_url(url: str) -> bool:
    """http(s), a host, a valid port, and a URL httpx accepts (else the failover finds out)."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises for a port out of range
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


async def _read_start(response: httpx.Response, limit: int) -> bytes:
    """The first ``limit`` bytes of the body; the rest is not downloaded."""
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= limit:
            break
    return bytes(data[:limit])

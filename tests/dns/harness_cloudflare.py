"""The Cloudflare harness: ``CloudflareProvider`` against the loopback API emulator.

A fresh emulator per test (it starts in milliseconds), a random token as the secret, and seed /
current / writes / inject going to the emulator's own state, never through the provider.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from genesis.failover.domain.config import CloudflareSettings
from genesis.failover.domain.dns import RecordValues
from genesis.failover.domain.dns.cloudflare import CloudflareProvider
from tests.dns.harness import Fault
from tests.emulators.cloudflare import CloudflareEmulator

__all__ = ["TOKEN_ENV", "CloudflareHarness", "cloudflare_harness"]

TOKEN_ENV = "GENESIS_TEST_CF_TOKEN"
#: Short, so a timeout fault (the emulator stays silent for 2.5 s) costs about a second.
PROVIDER_TIMEOUT = 1.0


class CloudflareHarness:
    name = "cloudflare"
    zone = "example.test"

    def __init__(self, emulator: CloudflareEmulator) -> None:
        self.emulator = emulator
        self.secret = emulator.token
        self._providers: list[CloudflareProvider] = []

    def settings(self) -> CloudflareSettings:
        return CloudflareSettings(
            base_url=self.emulator.base_url,
            api_token_env=TOKEN_ENV,
            timeout_seconds=PROVIDER_TIMEOUT,
        )

    def provider(self) -> CloudflareProvider:
        return self._keep(CloudflareProvider(self.settings(), self.secret))

    def provider_with_bad_credentials(self) -> CloudflareProvider:
        return self._keep(CloudflareProvider(self.settings(), "wrong-" + secrets.token_hex(8)))

    async def seed(
        self, name: str, record_type: str, values: list[str], ttl: int = 300, **extra: Any
    ) -> None:
        self.emulator.seed(name, record_type, values, ttl, **extra)

    async def current(self, name: str, record_type: str) -> RecordValues | None:
        records = self.emulator.records(name, record_type)
        if not records:
            return None
        # The TTL as the server holds it: 1 stays 1 ("automatic"), unlike the provider's view.
        return RecordValues(
            values=sorted(r["content"] for r in records),
            ttl=min(r["ttl"] for r in records),
            proxied=any(r["proxied"] for r in records),
        )

    def writes(self) -> int:
        return self.emulator.write_count

    def inject(self, fault: Fault, *, count: int = 1, retry_after: float | None = None) -> None:
        self.emulator.inject(fault, count=count, retry_after=retry_after)

    def config(self) -> tuple[dict[str, Any], dict[str, str]]:
        section = {
            "base_url": self.emulator.base_url,
            "api_token_env": TOKEN_ENV,
            "timeout_seconds": PROVIDER_TIMEOUT,
        }
        return {"cloudflare": section}, {TOKEN_ENV: self.secret}

    async def aclose(self) -> None:
        for provider in self._providers:
            await provider.aclose()  # closing twice is harmless (httpx)

    def _keep(self, provider: CloudflareProvider) -> CloudflareProvider:
        self._providers.append(provider)
        return provider


@pytest.fixture
async def cloudflare_harness() -> AsyncIterator[CloudflareHarness]:
    """A fresh emulator per test: no test sees another's records, faults or counters."""
    with CloudflareEmulator(token=secrets.token_urlsafe(24)) as emulator:
        harness = CloudflareHarness(emulator)
        try:
            yield harness
        finally:
            await harness.aclose()

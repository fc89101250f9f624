"""The DigitalOcean provider's harness (``tests/dns/harness.py``) on the loopback emulator.

Import the fixture where it is used (``from tests.dns.harness_digitalocean import
digitalocean_harness``) or list this module in a conftest's ``pytest_plugins``.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from genesis.failover.domain.config import DigitalOceanSettings
from genesis.failover.domain.dns.base import RecordValues
from genesis.failover.domain.dns.digitalocean import DigitalOceanProvider
from tests.dns.harness import Fault
from tests.emulators.digitalocean import DigitalOceanEmulator

__all__ = ["DigitalOceanHarness", "digitalocean_harness"]

TOKEN_ENV = "GENESIS_TEST_DO_TOKEN"


class DigitalOceanHarness:
    name = "digitalocean"
    zone = "example.test"

    def __init__(self, emulator: DigitalOceanEmulator) -> None:
        self.emulator = emulator
        self.secret = emulator.token
        self._providers: list[DigitalOceanProvider] = []

    def settings(self) -> DigitalOceanSettings:
        return DigitalOceanSettings(
            base_url=self.emulator.base_url, api_token_env=TOKEN_ENV, timeout_seconds=1.0
        )

    def provider(self) -> DigitalOceanProvider:
        return self._track(DigitalOceanProvider(self.settings(), self.secret))

    def provider_with_bad_credentials(self) -> DigitalOceanProvider:
        return self._track(DigitalOceanProvider(self.settings(), f"dop_v1_{secrets.token_hex(32)}"))

    def _track(self, provider: DigitalOceanProvider) -> DigitalOceanProvider:
        # The zone is named, as a config with `zone = "example.test"` names it: the first API
        # request of an operation is then the one the test aims a fault at, not a zone lookup
        # (an injected 404 on a lookup only means "try the parent domain").
        provider.zones = [self.zone]
        self._providers.append(provider)
        return provider

    async def seed(
        self, name: str, record_type: str, values: list[str], ttl: int = 300, **extra: Any
    ) -> None:
        if any(extra.values()):
            raise TypeError(f"DigitalOcean records have no such flags: {sorted(extra)}")
        self.emulator.set_rrset(name, record_type, values, ttl)

    async def current(self, name: str, record_type: str) -> RecordValues | None:
        records = self.emulator.rrset(name, record_type)
        if not records:
            return None
        return RecordValues(
            values=sorted(r["data"] for r in records), ttl=min(r["ttl"] for r in records)
        )

    def writes(self) -> int:
        return self.emulator.writes

    def inject(self, fault: Fault, *, count: int = 1, retry_after: float | None = None) -> None:
        self.emulator.inject(fault, count=count, retry_after=retry_after)

    def config(self) -> tuple[dict[str, Any], dict[str, str]]:
        section = {
            "base_url": self.emulator.base_url,
            "api_token_env": TOKEN_ENV,
            "timeout_seconds": 1.0,
        }
        return {"digitalocean": section}, {TOKEN_ENV: self.secret}

    async def aclose(self) -> None:
        for provider in self._providers:
            await provider.aclose()
        self._providers.clear()


@pytest.fixture
async def digitalocean_harness() -> AsyncIterator[DigitalOceanHarness]:
    with DigitalOceanEmulator(domains=[DigitalOceanHarness.zone]) as emulator:
        harness = DigitalOceanHarness(emulator)
        try:
            yield harness
        finally:
            await harness.aclose()

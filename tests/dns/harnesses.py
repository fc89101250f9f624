"""Fixtures giving each DNS provider's harness in turn (registered by tests/conftest.py).

``harness`` runs a test once per provider, ``http_harness`` once per provider behind an HTTP
API (the ones whose server can be told to fail).
"""

from __future__ import annotations

import pytest

from tests.dns.harness import ProviderHarness
from tests.dns.harness_cloudflare import cloudflare_harness
from tests.dns.harness_digitalocean import digitalocean_harness
from tests.dns.harness_rfc2136 import rfc2136_harness
from tests.dns.harness_route53 import route53_harness

__all__ = [
    "HTTP_PROVIDERS",
    "PROVIDERS",
    "cloudflare_harness",
    "digitalocean_harness",
    "harness",
    "http_harness",
    "rfc2136_harness",
    "route53_harness",
]

PROVIDERS = ("rfc2136", "cloudflare", "digitalocean", "route53")
HTTP_PROVIDERS = ("cloudflare", "digitalocean", "route53")


@pytest.fixture(params=PROVIDERS)
def harness(request: pytest.FixtureRequest) -> ProviderHarness:
    """Each provider in turn, on its server (BIND9, moto, the loopback emulators)."""
    return request.getfixturevalue(f"{request.param}_harness")  # type: ignore[no-any-return]


@pytest.fixture(params=HTTP_PROVIDERS)
def http_harness(request: pytest.FixtureRequest) -> ProviderHarness:
    """The providers behind an HTTP API, whose servers can be told to fail."""
    return request.getfixturevalue(f"{request.param}_harness")  # type: ignore[no-any-return]

"""Provider faults: every HTTP provider, every way its API can fail, one expectation each.

The server is told to fail the next request(s) (``harness.inject``): the provider must raise
the typed error that says whether retrying helps, write nothing, and never show the secret.
A retryable fault that clears (500 then success) must let the same switch go through.
"""

from __future__ import annotations

import logging
import time

import pytest

from genesis.failover.domain.errors import (
    DNSAuthError,
    DNSBadResponseError,
    DNSError,
    DNSNotFoundError,
    DNSRateLimitedError,
    DNSTransientError,
)
from tests.dns.harness import ProviderHarness

pytestmark = pytest.mark.integration

OLD, NEW = "192.0.2.10", "198.51.100.10"
WWW = "www.example.test"

EXPECTED: dict[str, tuple[type[DNSError], bool]] = {
    "unauthorized": (DNSAuthError, False),
    "not_found": (DNSNotFoundError, False),
    "rate_limited": (DNSRateLimitedError, True),
    "server_error": (DNSTransientError, True),
    "timeout": (DNSTransientError, True),
    "malformed": (DNSBadResponseError, True),
}


@pytest.mark.parametrize("fault", list(EXPECTED))
async def test_a_fault_is_a_typed_error_that_writes_nothing_and_hides_the_secret(
    http_harness: ProviderHarness, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await http_harness.seed(WWW, "A", [OLD])
    provider = http_harness.provider()
    http_harness.inject(fault, retry_after=3 if fault == "rate_limited" else None)  # type: ignore[arg-type]
    expected_type, retryable = EXPECTED[fault]
    began = time.monotonic()
    with pytest.raises(expected_type) as caught:
        await provider.switch_record(WWW, "A", OLD, NEW)
    elapsed = time.monotonic() - began
    assert caught.value.retryable is retryable, caught.value
    assert http_harness.name in str(caught.value)
    assert http_harness.secret not in str(caught.value)
    assert http_harness.secret not in caplog.text
    assert http_harness.writes() == 0
    current = await http_harness.current(WWW, "A")
    assert current is not None and current.values == [OLD]
    if fault == "rate_limited":
        assert isinstance(caught.value, DNSRateLimitedError) and caught.value.retry_after == 3
    if fault == "timeout":
        assert elapsed < 5, f"a 1 s timeout took {elapsed:.1f} s to give up"
    await provider.aclose()


async def test_a_server_error_then_success_lets_the_retry_switch(
    http_harness: ProviderHarness,
) -> None:
    await http_harness.seed(WWW, "A", [OLD])
    provider = http_harness.provider()
    http_harness.inject("server_error")
    with pytest.raises(DNSTransientError):
        await provider.switch_record(WWW, "A", OLD, NEW)
    result = await provider.switch_record(WWW, "A", OLD, NEW)  # what Temporal's retry does
    assert result.action == "switched" and http_harness.writes() == 1
    current = await http_harness.current(WWW, "A")
    assert current is not None and current.values == [NEW]
    await provider.aclose()


async def test_a_zone_the_account_does_not_have_is_not_found_naming_the_record(
    http_harness: ProviderHarness,
) -> None:
    provider = http_harness.provider()
    with pytest.raises(DNSNotFoundError) as caught:
        await provider.switch_record("www.nobody-hosts-this.invalid", "A", OLD, NEW)
    assert "www.nobody-hosts-this.invalid" in str(caught.value)
    assert http_harness.name in str(caught.value)
    await provider.aclose()

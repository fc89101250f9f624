"""Retry-After, as every provider reads it (delay-seconds or an HTTP-date)."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from genesis.failover.domain.dns.retry_after import retry_after_seconds

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),  # nonsense in the past: go now, not never
        (formatdate(NOW + 30, usegmt=True), 30.0),
        (formatdate(NOW - 30, usegmt=True), 0.0),
        (formatdate(NOW + 30).replace("+0000", "-0000"), 30.0),  # "-0000": UTC
        ("soon", None),
        ("inf", None),
        ("nan", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_forms(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value, now=NOW) == expected

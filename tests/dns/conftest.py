"""Fixtures for the DNS tests: a real BIND9 (primary + 2 secondaries) on free loopback ports.

Server-missing policy: without ``named`` these tests FAIL when the CI variable is set (the CI image
must have BIND9) and are skipped elsewhere, saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from genesis.failover.domain.dns import RFC2136Provider
from genesis.lab import Bind9Lab, find_named, free_port
from tests.support import require

ZONE = "example.test."
RECORD_TTL = 300
RECORDS: dict[str, str | list[str]] = {
    "www": "192.0.2.10",
    "api": "192.0.2.20",
    "multi": ["192.0.2.30", "192.0.2.31"],
    "v6": "2001:db8::10",
}


def require_named() -> None:
    require(find_named(), "BIND9 (named, Debian package bind9)")


@pytest.fixture
def bind9_lab(tmp_path: Path) -> Iterator[Bind9Lab]:
    """A fresh lab per test (starts in ~0.1 s): no test sees another's writes."""
    require_named()
    lab = Bind9Lab(
        tmp_path / "bind9",
        ZONE,
        RECORDS,
        ttl=RECORD_TTL,
        primary_port=free_port(),
        secondary_ports=[free_port(), free_port()],
    )
    with lab:
        yield lab


@pytest.fixture
def provider(bind9_lab: Bind9Lab) -> RFC2136Provider:
    return RFC2136Provider(bind9_lab.rfc2136_settings(), bind9_lab.tsig_secret)

"""Fixtures of the notification tests (the servers are in tests/emulators/notify_fixtures.py)."""

from __future__ import annotations

import pytest

from tests.notify.scenario import Failover, failover


@pytest.fixture
def one_failover() -> Failover:
    """One automatic failover of site "genesis" that succeeded, with its two events."""
    return failover()

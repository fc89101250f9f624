"""Fixtures shared by the unit tests.

Project rule for tests that need a real server binary: when it is missing the test FAILS in CI
(the CI image must install it), and may only be skipped, with a message naming what is missing,
on a developer machine where ``CI`` is unset.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support import require


@pytest.fixture(scope="session", name="require_binary")
def require_binary_fixture() -> Callable[[str, str], str]:
    # Handed out as a fixture: test modules cannot reliably ``import conftest`` when the test tree
    # holds several conftest.py files without packages.
    return require

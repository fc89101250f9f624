"""Fixtures shared by the unit tests.

Project rule for tests that need a real server binary: when it is missing the test FAILS in CI
(the CI image must install it), and may only be skipped, with a message naming what is missing,
on a developer machine where ``CI`` is unset.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_binary(path_or_name: str, what: str) -> str:
    """The binary's path; otherwise fail in CI, skip elsewhere. ``what`` says what is missing,
    e.g. "PostgreSQL server (Debian package postgresql)"."""
    if os.sep in path_or_name:
        found = path_or_name if Path(path_or_name).is_file() else None
    else:
        found = shutil.which(path_or_name)
    if found is not None:
        return found
    message = f"{what} is needed and {path_or_name!r} was not found"
    if in_ci():
        pytest.fail(f"{message} (CI is set: the CI image must provide it)")
    pytest.skip(f"{message} (skipped because CI is unset)")


@pytest.fixture(scope="session", name="require_binary")
def require_binary_fixture() -> Callable[[str, str], str]:
    # Handed out as a fixture: test modules cannot reliably ``import conftest`` when the test tree
    # holds several conftest.py files without packages.
    return require_binary

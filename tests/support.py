"""Helpers shared by tests (importable: ``from tests.support import require``).

Project rule for a test whose server or tool is missing: it FAILS in CI (the CI run must install
it) and may only be skipped, saying what is missing, where ``CI`` is unset.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(message: str) -> NoReturn:
    """Something a test needs is missing: fail in CI, skip (saying what) elsewhere."""
    if in_ci():
        pytest.fail(f"{message} (CI is set: .ci/run must provide it)")
    pytest.skip(f"{message} (skipped because CI is unset)")


def require(path: str | None, what: str) -> str:
    """``path`` (a file path or a name on PATH) if it exists, else ``unavailable``."""
    if path and (Path(path).is_file() or shutil.which(path)):
        return shutil.which(path) or path
    unavailable(f"{what} is not installed ({path or 'not found'})")


def venv_bin(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)

"""Helpers shared by tests (importable: ``from tests.support import require``)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest


def require(path: str | None, what: str) -> str:
    """Return ``path`` if the thing exists; otherwise fail in CI, skip elsewhere."""
    if path and (Path(path).exists() or shutil.which(path)):
        return path
    message = f"{what} is not installed"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must install it: see .ci/run)")
    pytest.skip(message)


def venv_bin(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)

"""Helpers shared by tests (importable: ``from tests.support import require``).

Project rule for a test whose server or tool is missing: it FAILS in CI (the CI run must install
it) and may only be skipped, saying what is missing, where ``CI`` is unset.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

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


# The installed console script, beside this Python (the venv's).
CLI = str(Path(sys.executable).parent / "genesis-failover")


def venv_bin(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def toml_text(data: dict[str, Any], _prefix: str = "") -> str:
    """A config dict as TOML (tomllib only reads): tables, arrays of tables, scalars, lists of
    scalars; None values are left out, as TOML has no null."""

    def scalar(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return repr(value)
        if isinstance(value, list):
            return "[" + ", ".join(scalar(v) for v in value) + "]"
        return json.dumps(str(value))  # a JSON string is a valid TOML basic string

    lines: list[str] = []
    nested: list[str] = []
    for key, value in data.items():
        name = f"{_prefix}{key}"
        if value is None:
            continue
        if isinstance(value, dict):
            nested.append(f"\n[{name}]\n" + toml_text(value, f"{name}."))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            nested.extend(f"\n[[{name}]]\n" + toml_text(v, f"{name}.") for v in value)
        else:
            lines.append(f"{key} = {scalar(value)}\n")
    return "".join(lines) + "".join(nested)


def write_toml(data: dict[str, Any], path: Path) -> Path:
    path.write_text(toml_text(data))
    return path


def dev_banner(proc: subprocess.Popen[str], within: float = 60) -> list[str]:
    """The lines `genesis-failover dev` prints until it says it is ready (or exits)."""
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if not line or "Ctrl-C stops everything" in line:
            break
    return lines


def interrupt(proc: subprocess.Popen[str], within: float = 30) -> int:
    """Ctrl-C ``proc`` and its exit code; killed (and the timeout raised) if it hangs."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=within)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise

"""Helpers shared by tests (importable: ``from tests.support import require``).

Project rule for a test whose server or tool is missing: it FAILS in CI (the CI run must install
it) and may only be skipped, saying what is missing, where ``CI`` is unset.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import pytest
import tomli_w


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


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_none(v) for v in value if v is not None]
    return value


def toml_text(data: dict[str, Any]) -> str:
    """A config dict as TOML text (tomllib only reads). None values are left out, at any depth:
    TOML has no null, and a field left out takes its default, as an unset one would."""
    return tomli_w.dumps(_without_none(data))


def write_toml(data: dict[str, Any], path: Path) -> Path:
    path.write_text(toml_text(data))
    return path


def start_dev(
    config: Path, data_dir: Path, env: Mapping[str, str], *flags: str
) -> subprocess.Popen[str]:
    """`genesis-failover -c CONFIG dev FLAGS` on ports the kernel picks (``--port 0 --ui-port 0``)
    with its SQLite file under ``data_dir``; its output (stdout and stderr) for ``dev_banner``."""
    return subprocess.Popen(
        [CLI, "-c", str(config), "dev", *flags]
        + ["--port", "0", "--ui-port", "0", "--data-dir", str(data_dir)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(env),
    )


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

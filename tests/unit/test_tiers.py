"""The three tiers of genesis/failover, and the rooms beside them, import only downward.

The failure story: a domain module that imports temporalio (or a workflow) can no longer be
tested without Temporal, and a client module that imports the application turns every change of
the CLI into a change of what the worker loads. These tests read every module's imports (and,
for the domain, import it for real in a fresh interpreter) so a wrong arrow fails here, with the
module and the import named, instead of being found in review.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "genesis" / "failover"


def modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def imported(path: Path) -> set[str]:
    """Every module name ``path`` imports, at any depth of the file (lazy imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offenders(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in modules(folder):
        for name in sorted(imported(path)):
            if name == forbidden or name.startswith(forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


LOWER_TIERS_MAY_NOT = {
    # The domain: plain Python. Nothing of Temporal, nothing above it.
    "domain": (
        "temporalio",
        "genesis.failover.temporal",
        "genesis.failover.app",
        "activities",
        "workflows",
        "worker",
    ),
    # The Temporal client side: talks to Temporal as a client; knows no workflow code.
    "temporal": ("genesis.failover.app", "activities", "workflows", "worker"),
}


@pytest.mark.parametrize("tier", sorted(LOWER_TIERS_MAY_NOT))
def test_a_tier_imports_nothing_above_it(tier: str) -> None:
    found = offenders(PACKAGE / tier, LOWER_TIERS_MAY_NOT[tier])
    assert not found, "\n".join(found)


def test_only_the_temporal_tier_of_the_package_imports_temporalio() -> None:
    """The application reaches Temporal through the client side (one client of the monitor,
    one connection path), never around it."""
    found = [
        f
        for f in offenders(PACKAGE, ("temporalio",))
        if not f.startswith("genesis/failover/temporal/")
    ]
    assert not found, "\n".join(found)


def test_the_rooms_never_import_the_application() -> None:
    """Activities, workflows and the worker are below the CLI and the facade, not beside them.
    (``python -m worker`` is an entry point, not a module: it hands its arguments to the CLI.)"""
    found = []
    for room in ("activities", "workflows", "worker"):
        found += offenders(ROOT / room, ("genesis.failover.app",))
    found = [f for f in found if not f.startswith("worker/__main__.py")]
    assert not found, "\n".join(found)


def test_nothing_shipped_imports_test_or_benchmark_code() -> None:
    found = []
    for room in ("genesis", "activities", "workflows", "worker"):
        found += offenders(ROOT / room, ("tests", "scripts"))
    assert not found, "\n".join(found)


def test_the_whole_domain_imports_without_loading_temporalio() -> None:
    """Transitively, not only line by line: a domain module importing a helper that imports
    temporalio would pass the scan above and fail here."""
    names = [
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in modules(PACKAGE / "domain")
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('temporalio', 'activities', 'workflows', 'worker')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout

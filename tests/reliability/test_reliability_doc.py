"""docs/reliability.md names a test for every failure story: each one named must exist, so the
page cannot point at a test that was renamed or removed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "reliability.md"
NODE = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")


def test_every_test_the_reliability_page_names_exists() -> None:
    named = NODE.findall(PAGE.read_text())
    assert len(named) >= 40, f"only {len(named)} tests named in {PAGE}"
    missing = []
    for path, function in named:
        source = ROOT / path
        if not source.is_file():
            missing.append(path)
        elif function and not re.search(rf"^(async )?def {function}\(", source.read_text(), re.M):
            missing.append(f"{path}::{function}")
    assert not missing, f"{PAGE.name} names tests that do not exist: {missing}"

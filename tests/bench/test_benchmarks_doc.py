"""docs/benchmarks.md is the output of scripts/bench.py in full mode: it names the command
that made it, has every benchmark's rows, and grades every row that has a target."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"


def rows() -> list[list[str]]:
    lines = [line for line in DOC.read_text().splitlines() if line.startswith("| ")][1:]
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]


def test_the_page_names_the_full_command_that_made_it() -> None:
    text = DOC.read_text()
    assert "Made by `.venv/bin/python scripts/bench.py` on " in text
    assert "--quick" not in text.split("Made by")[1].split("\n")[0]


def test_every_benchmark_has_rows_and_every_target_a_verdict() -> None:
    table = rows()
    assert {r[0] for r in table} == {"overhead", "outage", "scale"}
    graded = [r for r in table if r[3]]
    assert len(graded) >= 6, graded  # overhead 1, outage 2, scale 3 (p99, CPU, RSS)
    assert all(r[4] in ("yes", "NO") for r in graded), graded


def test_the_issue_targets_are_all_on_the_page() -> None:
    measures = " / ".join(r[1] for r in rows())
    for needle in (
        "ratio of medians",
        "answer the backup",
        "1000 checks: p99 lateness",
        "1000 checks: worker CPU",
        "1000 checks: worker RSS",
        "5000 checks",
    ):
        assert needle in measures, needle

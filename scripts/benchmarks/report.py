"""One table for every benchmark: a row per number, with the target it is held to."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


class BenchmarkBroken(RuntimeError):
    """The benchmark could not produce its number (no probe ran, a workflow failed): a bug to
    fix, unlike a slow number, which is only reported."""


@dataclass(frozen=True)
class Row:
    benchmark: str  # "overhead", "outage", "scale"
    measure: str  # what was measured, with its conditions
    value: str  # the number, with its unit
    target: str = ""  # what the issue asks for; "" when the row is context
    met: bool | None = None  # None: no target
    note: str = ""  # how it was obtained (runs, spread)

    @property
    def verdict(self) -> str:
        return "" if self.met is None else ("yes" if self.met else "NO")


HEADER = ("benchmark", "measure", "value", "target", "met", "note")


def table(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in rows:
        cells = (r.benchmark, r.measure, r.value, r.target, r.verdict, r.note)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    """What the numbers were measured on: they mean little without it."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = os.cpu_count() or 0
    return f"{platform.system()} {platform.machine()}, {cores} cores{', ' + model if model else ''}"


def document(
    rows: Sequence[Row], *, command: str, seconds: float, intro: str = "", methods: str = ""
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# Benchmarks",
        "",
        *([intro, ""] if intro else []),
        f"Made by `{command}` on {when}, {machine()}, in {seconds:.0f} s.",
        "",
        table(rows),
        "",
        *([methods, ""] if methods else []),
    ]
    return "\n".join(parts)

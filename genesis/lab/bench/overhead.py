"""Placeholder until the overhead benchmark lands."""

from __future__ import annotations

from pathlib import Path

from genesis.lab.bench.report import Row


async def measure(*, quick: bool, workdir: Path) -> list[Row]:
    raise NotImplementedError("overhead benchmark not written yet")

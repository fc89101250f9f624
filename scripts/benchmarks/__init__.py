"""Benchmarks on real components: orchestration overhead, outage to switch, probe scale.

Each measurement is a module with one ``async def measure(...) -> list[Row]``; ``scripts/bench.py``
runs them and writes the table to ``docs/benchmarks.md``. Quick mode runs each one small: it
proves the benchmark still works, never that this machine is fast.
"""

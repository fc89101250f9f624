"""CPU and memory of a process, from /proc: what a benchmark charges to the worker or the server."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the ")" closing the command name: state is field 0, utime 11, stime 12.
    return (int(fields[11]) + int(fields[12])) / TICKS


def memory_kib(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of ``pid`` in KiB."""
    rss = peak = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1])
    return rss, peak


@dataclass
class Usage:
    cores: float  # CPU seconds per wall second over the window
    rss_mib: float  # at the end of the window
    peak_rss_mib: float  # the process's high-water mark since it started


class CpuWindow:
    """CPU used by ``pid`` between ``start()`` and ``stop()``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._cpu0 = 0.0
        self._t0 = 0.0

    def start(self) -> CpuWindow:
        self._cpu0, self._t0 = cpu_seconds(self.pid), time.monotonic()
        return self

    def stop(self) -> Usage:
        cpu, wall = cpu_seconds(self.pid) - self._cpu0, time.monotonic() - self._t0
        rss, peak = memory_kib(self.pid)
        return Usage(
            cores=cpu / wall if wall > 0 else 0.0, rss_mib=rss / 1024, peak_rss_mib=peak / 1024
        )

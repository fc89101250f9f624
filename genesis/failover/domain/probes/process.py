"""Process probe over psutil (Linux, and the macOS laptops where operators run ``check``).

``target`` is a process name, or a pidfile path when it contains "/"; ``check.pidfile`` and
``check.cmdline_contains`` add criteria. The failure stories each rule prevents:
- a zombie has exited and only waits for its parent to reap it: it is never "running";
- a pidfile left behind by a crash names a pid that is gone (stale) or, worse, that the kernel has
  since given to an unrelated process: with a name or cmdline criterion the pid must still match;
- the probing process's own command line may contain the very words it searches for (a worker
  started with ``--check-cmdline trading-engine``): it is excluded from name and cmdline scans;
- a process may exit, turn zombie or belong to a user whose details we may not read while a scan
  looks at it: that process is skipped, and the scan goes on.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import psutil

from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.models import ProbeResult
from genesis.failover.domain.probes._result import run_bounded

# The kernel keeps TASK_COMM_LEN - 1 = 15 characters of a process name (macOS keeps 16): a longer
# name matches on its first 15. psutil's name() may give back the full name when argv[0] starts
# with the truncated one, so both sides are cut before comparing.
COMM_LEN = 15
# Statuses that are not running: a zombie has exited and waits to be reaped; dead is on its way out.
NOT_RUNNING = frozenset({psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD})
# Gone, or not ours to read: in a scan such a process is skipped, never a crash.
UNREADABLE = (psutil.NoSuchProcess, psutil.AccessDenied)
_PID = re.compile(r"[0-9]+")


async def probe_process(check: CheckConfig, *, origin: str = "") -> ProbeResult:
    # psutil reads /proc (or calls sysctl) synchronously, for every process on a busy host:
    # keep it off the loop.
    return await run_bounded(
        check, lambda _clock: asyncio.to_thread(check_process, check), origin=origin
    )


def check_process(check: CheckConfig) -> str | None:
    """None when a process matching every criterion runs, else why not."""
    if "/" in check.target:
        name, pidfiles = None, [check.target]
    else:
        name, pidfiles = check.target, []
    if check.pidfile and check.pidfile not in pidfiles:
        pidfiles.append(check.pidfile)
    for pidfile in pidfiles:
        problem = _check_pidfile(pidfile, name, check.cmdline_contains)
        if problem is not None:
            return problem
    if pidfiles:
        return None
    return _scan(name, check.cmdline_contains)


def _check_pidfile(pidfile: str, name: str | None, cmdline_contains: str | None) -> str | None:
    try:
        text = Path(pidfile).read_text(errors="replace")
    except FileNotFoundError:
        return f"pidfile not found: {pidfile}"
    except OSError as exc:
        return f"cannot read pidfile {pidfile}: {exc.strerror}"
    tokens = text.split()
    if not tokens or not _PID.fullmatch(tokens[0]) or int(tokens[0]) == 0:
        return f"pidfile {pidfile} does not hold a pid: {text.strip()[:40]!r}"
    pid = int(tokens[0])
    stale = f"stale pidfile {pidfile}: pid {pid} not running"
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            status = process.status()
            if status in NOT_RUNNING:
                return f"{stale} ({status})"
            mismatch = _mismatch(process, name, cmdline_contains)
    except psutil.ZombieProcess:  # before NoSuchProcess: it is one
        return f"{stale} ({psutil.STATUS_ZOMBIE})"
    except psutil.NoSuchProcess:
        return stale
    except psutil.AccessDenied:
        # It runs, but whether it is still ours cannot be told: not a pass.
        return f"pidfile {pidfile}: pid {pid} cannot be inspected (access denied)"
    if mismatch is not None:
        return f"pidfile {pidfile}: pid {pid} {mismatch} (pid reused?)"
    return None


def _scan(name: str | None, cmdline_contains: str | None) -> str | None:
    me = os.getpid()
    for process in psutil.process_iter():
        if process.pid == me:
            continue
        try:
            with process.oneshot():
                if process.status() in NOT_RUNNING:
                    continue
                if _mismatch(process, name, cmdline_contains) is None:
                    return None
        except UNREADABLE:
            continue
    wanted = []
    if name is not None:
        wanted.append(f"named {name!r}")
    if cmdline_contains is not None:
        wanted.append(f"with cmdline containing {cmdline_contains!r}")
    return f"no running process {' and '.join(wanted)}"


def _mismatch(
    process: psutil.Process, name: str | None, cmdline_contains: str | None
) -> str | None:
    """None when the process matches; cmdline is read only when the name does not decide.

    May raise psutil's NoSuchProcess (ZombieProcess) or AccessDenied: the caller decides.
    """
    argv: list[str] | None = None
    if name is not None:
        comm = process.name()
        if comm[:COMM_LEN] != name[:COMM_LEN]:
            argv = process.cmdline()
            if not argv or os.path.basename(argv[0]) != name:
                return f"is {comm!r}, not {name!r}"
    if cmdline_contains is not None:
        if argv is None:
            argv = process.cmdline()
        if cmdline_contains not in " ".join(argv):
            return f"cmdline does not contain {cmdline_contains!r}"
    return None

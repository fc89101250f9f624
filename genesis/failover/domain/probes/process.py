"""Process probe over Linux ``/proc`` (no psutil dependency).

``target`` is a process name, or a pidfile path when it contains "/"; ``check.pidfile`` and
``check.cmdline_contains`` add criteria. The failure stories each rule prevents:
- a zombie has exited and only waits for its parent to reap it: it is never "running";
- a pidfile left behind by a crash names a pid that is gone (stale) or, worse, that the kernel has
  since given to an unrelated process: with a name or cmdline criterion the pid must still match;
- the probing process's own command line may contain the very words it searches for (a worker
  started with ``--check-cmdline trading-engine``): it is excluded from name and cmdline scans.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.models import ProbeResult
from genesis.failover.domain.probes._result import run_bounded

PROC = Path("/proc")
# The kernel keeps TASK_COMM_LEN - 1 = 15 characters of a process name in comm.
COMM_LEN = 15
# Process states that are not running: Z zombie, X (or x on old kernels) dead.
DEAD_STATES = frozenset("ZXx")
_PID = re.compile(r"[0-9]+")


async def probe_process(check: CheckConfig, *, origin: str = "") -> ProbeResult:
    # Reading /proc is blocking file I/O, hundreds of files on a busy host: keep it off the loop.
    return await run_bounded(
        check, lambda _clock: asyncio.to_thread(check_process, check), origin=origin
    )


def check_process(check: CheckConfig) -> str | None:
    """None when a process matching every criterion runs, else why not."""
    if not (PROC / "self" / "stat").exists():
        return "process checks need Linux /proc"
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
    stat = _stat(pid)
    if stat is None:
        return f"stale pidfile {pidfile}: pid {pid} not running"
    comm, state = stat
    if state in DEAD_STATES:
        what = "zombie" if state == "Z" else "dead"
        return f"stale pidfile {pidfile}: pid {pid} not running ({what}, state {state})"
    mismatch = _mismatch(pid, comm, name, cmdline_contains)
    if mismatch is not None:
        return f"pidfile {pidfile}: pid {pid} {mismatch} (pid reused?)"
    return None


def _scan(name: str | None, cmdline_contains: str | None) -> str | None:
    me = os.getpid()
    for entry in os.listdir(PROC):
        if not entry.isdigit() or int(entry) == me:
            continue
        pid = int(entry)
        stat = _stat(pid)
        if stat is None or stat[1] in DEAD_STATES:
            continue
        if _mismatch(pid, stat[0], name, cmdline_contains) is None:
            return None
    wanted = []
    if name is not None:
        wanted.append(f"named {name!r}")
    if cmdline_contains is not None:
        wanted.append(f"with cmdline containing {cmdline_contains!r}")
    return f"no running process {' and '.join(wanted)}"


def _mismatch(pid: int, comm: str, name: str | None, cmdline_contains: str | None) -> str | None:
    """None when the process matches; cmdline is read only when comm does not decide."""
    argv: list[str] | None = None
    if name is not None and comm != name[:COMM_LEN]:
        argv = _argv(pid)
        if not argv or os.path.basename(argv[0]) != name:
            return f"is {comm!r}, not {name!r}"
    if cmdline_contains is not None:
        if argv is None:
            argv = _argv(pid)
        if cmdline_contains not in " ".join(argv):
            return f"cmdline does not contain {cmdline_contains!r}"
    return None


def _stat(pid: int) -> tuple[str, str] | None:
    """(comm, state) from /proc/<pid>/stat, or None when there is no such process.

    The line is ``pid (comm) S ...``; comm may itself hold ")" or spaces, so split at the LAST ")".
    """
    try:
        text = (PROC / str(pid) / "stat").read_bytes().decode(errors="replace")
    except OSError:
        return None
    start, end = text.find("("), text.rfind(")")
    if start < 0 or end < start or len(text) < end + 3:
        return None
    return text[start + 1 : end], text[end + 2]


def _argv(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    if not raw:
        return []
    return [arg.decode(errors="replace") for arg in raw.rstrip(b"\0").split(b"\0")]

"""Children that do not outlive their parent.

A lab server (Temporal dev server, BIND9) left behind by a killed test run or a killed `dev`
holds ports and CPU until someone notices. On Linux, PR_SET_PDEATHSIG asks the kernel to send the
child SIGTERM when the thread that started it exits; elsewhere this does nothing. Start labs from
the main thread (a worker thread's exit would count as the parent's). Started in a session of
its own, a lab is stopped with its children by signalling its process group.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from typing import Any

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """A ``preexec_fn`` for ``subprocess.Popen``."""
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def stop_process_group(proc: subprocess.Popen[Any], grace: float) -> None:
    """SIGTERM the process group ``proc`` leads (started with ``start_new_session=True``, so its
    own children go too), wait up to ``grace`` seconds, then SIGKILL it and wait. Nothing happens
    for a process that has already exited; a group that vanishes meanwhile is not an error."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

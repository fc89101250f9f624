"""Children that do not outlive their parent.

A lab server (Temporal dev server, BIND9) left behind by a killed test run or a killed `dev`
holds ports and CPU until someone notices. On Linux, PR_SET_PDEATHSIG asks the kernel to send the
child SIGTERM when the thread that started it exits; elsewhere this does nothing. Start labs from
the main thread (a worker thread's exit would count as the parent's).
"""

from __future__ import annotations

import ctypes
import signal
import sys

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

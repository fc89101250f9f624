"""A command hook for the crash tests: notes its start, waits for its release file, notes its end.

    blocking_hook.py LOG_FILE RELEASE_DIR

Appends ``start <hook> <pid>`` to LOG_FILE, waits until ``RELEASE_DIR/<hook>`` exists (the hook's
name comes from GENESIS_HOOK_NAME, as the worker sets it), then appends ``done <hook> <pid>`` and
exits 0. A test kills the worker while a named hook waits, and reads from the log how many times
each hook started and finished. It gives up after a minute, so nothing is left behind.
"""

from __future__ import annotations

import os
import sys
import time

GIVE_UP_SECONDS = 60.0


def note(log: str, word: str, name: str) -> None:
    with open(log, "a") as f:  # one short append: lines of concurrent runs do not mix
        f.write(f"{word} {name} {os.getpid()}\n")


def main() -> int:
    log, release_dir = sys.argv[1], sys.argv[2]
    name = os.environ["GENESIS_HOOK_NAME"]
    note(log, "start", name)
    release = os.path.join(release_dir, name)
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while not os.path.exists(release):
        if time.monotonic() > deadline:
            note(log, "gave-up", name)
            return 3
        time.sleep(0.02)
    note(log, "done", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

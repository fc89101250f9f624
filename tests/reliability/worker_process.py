"""The production worker (`genesis-failover -c FILE worker`) as a subprocess a test can SIGKILL.

    worker = WorkerProcess(config_file, env, log_file)
    await worker.start()        # returns once the worker polls its task queue
    worker.kill()               # SIGKILL by PID: no graceful shutdown, in-flight work is lost
    await worker.restart()      # a new process, same config and environment
    code, took = await worker.terminate()   # SIGTERM (a drain), its exit code and how long
    worker.log()                # everything every run wrote to stderr, for scanning

``signal()`` and ``wait_exit()`` are ``terminate()`` in two steps, for a test that acts while
the worker drains (a second signal, a hook released, the process watched).

Every run appends to the same log file. ``stop()`` ends whatever run is left (SIGTERM, then
SIGKILL), by PID.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from genesis.lab._proc import die_with_parent
from tests.support import require, venv_bin

# What `worker` logs once its Worker polls and the monitor is ensured (worker/main.py serve).
POLLING = "running on task queue"


class WorkerProcess:
    def __init__(self, config_file: Path, env: Mapping[str, str], log_file: Path) -> None:
        self.cli = require(venv_bin("genesis-failover"), "the genesis-failover console script")
        self.config_file = config_file
        self.env = dict(env)
        self.log_file = log_file
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0
        # When the first signal() of the current run was sent (time.monotonic()).
        self.signalled_at: float | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    async def start(self, within: float = 30) -> WorkerProcess:
        """Start a run and wait until it polls (its log says so), or fail with its log."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.runs += 1
        self.signalled_at = None
        seen = self.log().count(POLLING)
        self.proc = self._spawn()
        deadline = asyncio.get_running_loop().time() + within
        while self.log().count(POLLING) <= seen:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"worker exited with {self.proc.returncode} before polling:\n{self.log()}"
                )
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"worker not polling after {within}s:\n{self.log()}")
            await asyncio.sleep(0.05)
        return self

    def _spawn(self) -> subprocess.Popen[bytes]:
        with open(self.log_file, "ab") as log:
            log.write(f"--- run {self.runs} ---\n".encode())
            log.flush()
            return subprocess.Popen(
                [self.cli, "-c", str(self.config_file), "worker"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                preexec_fn=die_with_parent,  # a killed test run leaves no worker behind
            )

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a power cut would: nothing is flushed or reported."""
        assert self.proc is not None and self.proc.poll() is None, "not running"
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    async def restart(self, within: float = 30) -> WorkerProcess:
        return await self.start(within)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Send ``sig`` by PID, as systemd or docker stop does; the first one's time is kept."""
        assert self.running(), "not running"
        assert self.proc is not None
        os.kill(self.proc.pid, sig)
        if self.signalled_at is None:
            self.signalled_at = time.monotonic()

    async def wait_exit(self, within: float = 30) -> tuple[int, float]:
        """Wait (without blocking the event loop) for the run to exit: its exit code and the
        seconds since the first signal; fail with the log if it is still running after
        ``within`` (then it is SIGKILLed, so nothing is left behind)."""
        assert self.proc is not None, "not started"
        deadline = time.monotonic() + within
        while (code := self.proc.poll()) is None:
            if time.monotonic() > deadline:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise AssertionError(f"worker still running after {within}s:\n{self.log()}")
            await asyncio.sleep(0.02)
        since = self.signalled_at if self.signalled_at is not None else time.monotonic()
        return code, time.monotonic() - since

    async def terminate(self, within: float = 30) -> tuple[int, float]:
        """SIGTERM (the worker drains) and wait for the exit: its code and how long it took."""
        self.signal(signal.SIGTERM)
        return await self.wait_exit(within)

    def stop(self, timeout: float = 10) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""

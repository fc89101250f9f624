"""moto's server (``moto_server``) as a separate process on a free loopback port.

Starting it takes about a second, so one server is shared by the whole test session
(``shared_moto_server``, or the ``moto_server`` fixture); tests isolate themselves with
``MotoServer.reset()`` (moto's ``POST /moto-api/reset`` empties every backend). It is stopped by
its PID at the end of the session, and dies with the test process if that is killed.

moto is lenient where AWS is strict (DESIGN.md, "facts measured"): INSYNC at once,
invalid values and duplicate zones accepted, DELETE not matched against the current values, no
credential checks that work for Route53 reads. Tests must not rely on that leniency.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from genesis.lab._proc import die_with_parent
from genesis.lab.ports import free_port
from tests.support import require, venv_bin

__all__ = ["MotoServer", "moto_server", "shared_moto_server"]


class MotoServer:
    def __init__(self, log_path: Path | None = None, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._own_log = log_path is None
        self.log_path = (
            log_path or Path(tempfile.gettempdir()) / f"moto-{os.getpid()}-{self.port}.log"
        )
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, *, ready_timeout: float = 20.0) -> MotoServer:
        binary = require(venv_bin("moto_server"), "moto's server (pip install 'moto[server]')")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                [binary, "-H", "127.0.0.1", "-p", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail, code = self._log_tail(), self._proc.returncode
                self.stop()
                raise RuntimeError(f"moto_server exited with {code}: {tail}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        tail = self._log_tail()
        self.stop()
        raise RuntimeError(f"moto_server not answering on {self.url}: {tail}")

    def reset(self) -> None:
        """Forget every zone, record and change (all of moto's backends)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status != 200:
                raise RuntimeError(f"moto reset answered HTTP {response.status}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()  # by PID: only the process we started
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._own_log:
            self.log_path.unlink(missing_ok=True)

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"


_shared: MotoServer | None = None


def shared_moto_server(config: pytest.Config) -> MotoServer:
    """The session's moto server, started on first use and stopped when pytest ends.

    A function rather than only a fixture so a per-test fixture in any module can use it
    without every test module importing a second fixture.
    """
    global _shared
    if _shared is None:
        server = MotoServer().start()
        _shared = server

        def stop() -> None:
            global _shared
            server.stop()
            _shared = None

        config.add_cleanup(stop)
    return _shared


@pytest.fixture(scope="session")
def moto_server(pytestconfig: pytest.Config) -> Iterator[MotoServer]:
    yield shared_moto_server(pytestconfig)

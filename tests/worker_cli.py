"""The production worker (`genesis-failover -c FILE worker`) as a subprocess, with a minimal
site of its own, for tests about how it starts and stops (connection, TLS, API keys).

    config = site_config(tmp_path, address, task_queue, connect_wait_seconds=5)
    worker = Worker(config, tmp_path / "worker.log", env={"EXTRA": "..."})
    worker.wait_for(POLLING, within=30)

The site's DNS API and probe targets are addresses nothing listens on (127.0.0.1:9): these tests
are about Temporal, and the monitor's probes failing is of no consequence to them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.support import require, venv_bin, write_toml

POLLING = "running on task queue"
RETRYING = "trying again in"


def site_config(
    tmp_path: Path,
    address: str,
    task_queue: str,
    *,
    tls: Mapping[str, str] | None = None,
    **temporal: object,
) -> Path:
    """``temporal``: more ``[temporal]`` keys (strings and numbers); ``tls``: a
    ``[temporal.tls]`` table ({} for TLS with the system's roots)."""
    # A site of its own: the monitor's id is per site, and the session's dev server keeps the
    # monitors of earlier tests running.
    site = site_name(task_queue)
    table: dict[str, Any] = {"address": address, "task_queue": task_queue, **temporal}
    if tls is not None:
        table["tls"] = dict(tls)
    return write_toml(
        {
            "temporal": table,
            "site": {"name": site, "primary_ip": "192.0.2.10", "backup_ip": "192.0.2.20"},
            "dns": {
                "provider": "digitalocean",
                "records": [{"domain": "www.example.test"}],
                "digitalocean": {
                    "api_token_env": "START_LAB_DO_TOKEN",
                    "base_url": "http://127.0.0.1:9",
                },
            },
            "propagation": {"nameservers": ["127.0.0.1:9"]},
            "checks": [
                {
                    "name": "api",
                    "check_type": "tcp",
                    "target": "127.0.0.1:9",
                    "interval_seconds": 30,
                }
            ],
        },
        tmp_path / "worker.toml",
    )


class Worker:
    """The worker subprocess, its stderr in a file the test reads while it runs."""

    def __init__(
        self,
        config: Path,
        log: Path | None = None,
        env: Mapping[str, str | None] | None = None,
        command: str = "worker",
    ) -> None:
        """``log``: where its output goes (the config's name with .log); ``env``: see
        ``worker_env``."""
        cli = require(venv_bin("genesis-failover"), "the genesis-failover console script")
        self.env = worker_env(env)
        self.log_path = log or config.with_suffix(".log")
        self.started = time.monotonic()
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [cli, "-c", str(config), command],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, within: float) -> None:
        deadline = time.monotonic() + within
        while text not in self.log():
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} after {within} s:\n{self.log()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


def refused_at_once(worker: Worker, *, within: float = 15) -> str:
    """The worker's log once it has exited 1 without waiting (no "trying again", well inside
    any connect_wait_seconds): a server's refusal is not retried. No traceback either."""
    code = worker.proc.wait(timeout=120)
    elapsed = time.monotonic() - worker.started
    log = worker.log()
    assert code == 1, log
    assert RETRYING not in log, log
    assert elapsed < within, f"took {elapsed:.1f} s to refuse"
    assert "Traceback" not in log, log
    return log


def worker_env(extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """This process's environment without the operator's TEMPORAL_* settings (they would
    override the test's config), with the site's DNS token and ``extra`` (a None value: that
    variable unset)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    env["START_LAB_DO_TOKEN"] = "dop_v1_test_token"
    for name, value in (extra or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def site_name(task_queue: str) -> str:
    """The site ``site_config`` writes for ``task_queue``: its monitor is
    ``failover-monitor-<site>``."""
    return f"start-{task_queue}"


def run_cli(
    config: Path, *args: str, env: Mapping[str, str | None] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """A one-shot command (validate, status, ...) with ``worker_env``; its CompletedProcess."""
    cli = require(venv_bin("genesis-failover"), "the genesis-failover console script")
    return subprocess.run(
        [cli, "-c", str(config), *args],
        env=worker_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )

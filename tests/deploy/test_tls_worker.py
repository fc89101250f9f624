"""The production worker and the CLI over TLS and mutual TLS, end to end: `genesis-failover
worker` and `status` (subprocesses) through nginx terminating TLS in front of the real dev
server, with certificates from a CA made by the test (tests/deploy/conftest.py).

The failure stories: a worker that cannot use the certificates it is given (so a cluster that
requires TLS is out of reach), and a worker that, given the wrong ones, waits a minute and then
says "cannot reach" instead of saying at once which certificate is wrong.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from genesis.lab.temporal_dev import TemporalDevServer
from tests.deploy.conftest import LabPki
from tests.servers.tls_proxy import TlsProxy
from tests.worker_cli import POLLING, Worker, refused_at_once, run_cli, site_config

pytestmark = pytest.mark.integration


def start(tmp_path: Path, workers: list[Worker], config: Path) -> Worker:
    worker = Worker(config, tmp_path / f"worker-{len(workers)}.log")
    workers.append(worker)
    return worker


def test_the_worker_and_status_run_over_tls_with_the_configured_ca(
    tmp_path: Path, task_queue: str, workers: list[Worker], tls_proxy: TlsProxy, pki: LabPki
) -> None:
    config = site_config(tmp_path, tls_proxy.address, task_queue, tls=pki.config_table())
    worker = start(tmp_path, workers, config)
    worker.wait_for(POLLING, within=30)

    status = run_cli(config, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert '"state": "normal"' in status.stdout

    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=40) == 0, worker.log()


def test_the_worker_runs_over_mutual_tls_with_its_client_certificate(
    tmp_path: Path, task_queue: str, workers: list[Worker], mtls_proxy: TlsProxy, pki: LabPki
) -> None:
    config = site_config(
        tmp_path, mtls_proxy.address, task_queue, tls=pki.config_table(client=True)
    )
    worker = start(tmp_path, workers, config)
    worker.wait_for(POLLING, within=30)
    assert run_cli(config, "status").returncode == 0


def test_a_server_name_override_is_what_the_certificate_is_checked_against(
    tmp_path: Path, task_queue: str, workers: list[Worker], tls_proxy: TlsProxy, pki: LabPki
) -> None:
    # The lab's certificate names 127.0.0.1 and localhost: "localhost" passes, another fails.
    good = site_config(
        tmp_path,
        tls_proxy.address,
        task_queue,
        tls={**pki.config_table(), "server_name": "localhost"},
    )
    start(tmp_path, workers, good).wait_for(POLLING, within=30)

    (tmp_path / "wrong").mkdir()
    wrong = site_config(
        tmp_path / "wrong",
        tls_proxy.address,
        task_queue + "-x",
        connect_wait_seconds=60,
        tls={**pki.config_table(), "server_name": "temporal.wrong.example"},
    )
    log = refused_at_once(start(tmp_path, workers, wrong))
    assert "not valid for the name dialled" in log and "temporal.tls.server_name" in log


def test_a_server_certificate_from_another_ca_is_refused_at_once(
    tmp_path: Path, task_queue: str, workers: list[Worker], tls_proxy: TlsProxy, pki: LabPki
) -> None:
    config = site_config(
        tmp_path,
        tls_proxy.address,
        task_queue,
        connect_wait_seconds=60,
        tls={"server_ca_cert_path": str(pki.other_ca)},
    )
    log = refused_at_once(start(tmp_path, workers, config))
    assert f"Temporal at {tls_proxy.address}" in log
    assert "not signed by a CA this worker trusts" in log


def test_mutual_tls_without_a_client_certificate_is_refused_at_once(
    tmp_path: Path,
    task_queue: str,
    workers: list[Worker],
    dev_server: TemporalDevServer,
    make_tls_proxy: object,
    pki: LabPki,
) -> None:
    # TLS 1.2: the refusal is a handshake alert every time. Under TLS 1.3 the alert races the
    # connection's close, so about half the attempts only see "connection closed" and are
    # retried until one carries the alert (docs/deploy.md).
    proxy = make_tls_proxy(dev_server.address, mutual=True, protocols=("TLSv1.2",))  # type: ignore[operator]
    config = site_config(
        tmp_path, proxy.address, task_queue, connect_wait_seconds=60, tls=pki.config_table()
    )
    log = refused_at_once(start(tmp_path, workers, config))
    assert "client certificate required?" in log


def test_tls_to_a_plaintext_server_is_refused_at_once(
    tmp_path: Path,
    task_queue: str,
    workers: list[Worker],
    dev_server: TemporalDevServer,
    pki: LabPki,
) -> None:
    config = site_config(
        tmp_path, dev_server.address, task_queue, connect_wait_seconds=60, tls=pki.config_table()
    )
    log = refused_at_once(start(tmp_path, workers, config))
    assert "does not speak TLS (remove [temporal.tls]" in log


def test_plaintext_to_a_tls_port_asks_whether_tls_is_needed(
    tmp_path: Path, task_queue: str, workers: list[Worker], tls_proxy: TlsProxy
) -> None:
    # The server only ever closes the connection: nothing tells it from a server restarting,
    # so the worker waits, and says what may be missing when it gives up.
    config = site_config(tmp_path, tls_proxy.address, task_queue, connect_wait_seconds=2)
    worker = start(tmp_path, workers, config)
    assert worker.proc.wait(timeout=60) == 1
    last = worker.log().strip().splitlines()[-1]
    assert "does the server require TLS?" in last and "tried for" in last, last

"""Temporal Cloud API keys, end to end: the production worker and the CLI send the key from the
variable ``[temporal] api_key_env`` names, on every call, over TLS, and say so plainly when it is
refused or missing.

The dev server ignores API keys, so a test against it alone proves nothing about them. Here a
real nginx (tests/servers/grpc_auth_proxy.py) stands in front of the session's dev server and does
what Temporal Cloud does: it serves a call only when ``authorization`` is ``Bearer <key>`` and
answers anything else with gRPC status UNAUTHENTICATED. Its access log records, per call, whether
the key matched, so "the worker polls" also proves "the worker's polls carried the key".

The failure stories:
- the key is not sent, or sent on the first call only: the worker starts against the dev server
  but is refused by the cloud, with the site unwatched;
- a wrong (revoked, mistyped) key: the worker must stop at once saying the server refused it, not
  retry for connect_wait_seconds as if the server were down, and never print the key;
- the variable is not set in the unit file or compose service: ``validate`` must say which one.
"""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import time
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from temporalio.client import Client, WorkflowExecutionStatus

from genesis.failover.domain.config import monitor_workflow_id
from genesis.lab.temporal_dev import TemporalDevServer
from tests.servers.grpc_auth_proxy import DENIED_KEY, NO_KEY, GrpcAuthProxy, find_nginx
from tests.support import require
from tests.worker_cli import POLLING, Worker, refused_at_once, run_cli, site_config

KEY_ENV = "GENESIS_TEST_TEMPORAL_API_KEY"
# Long enough that a worker which wrongly retried a refused key would be caught by the timing
# assertion; a refusal must come in the time a Python process needs to start (a few seconds).
CONNECT_WAIT_SECONDS = 60
REFUSED_WITHIN = 15.0


@dataclass(frozen=True)
class KeyLab:
    """The proxy in front of the session's dev server, its keys, and the CA the worker trusts."""

    proxy: GrpcAuthProxy
    key: str  # served
    denied_key: str  # known, but without access to the namespace
    ca: Path
    dev_server: TemporalDevServer

    def __repr__(self) -> str:  # an assertion message must not print the key
        return f"KeyLab({self.proxy!r})"


@pytest.fixture(scope="module")
def lab_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the CA certificate the worker trusts, the proxy's certificate chain and key)."""
    directory = tmp_path_factory.mktemp("api-key-ca")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(str(directory / "ca.pem"))
    server.private_key_and_cert_chain_pem.write_to_path(str(directory / "server.pem"))
    (directory / "server.pem").chmod(0o600)
    return directory / "ca.pem", directory / "server.pem"


@pytest.fixture
def key_lab(
    tmp_path: Path, lab_ca: tuple[Path, Path], dev_server: TemporalDevServer
) -> Iterator[KeyLab]:
    nginx = require(find_nginx(), "nginx (Debian package nginx)")
    ca, server_pem = lab_ca
    key, denied = new_key(), new_key()
    proxy = GrpcAuthProxy(
        tmp_path / "proxy",
        dev_server.address,
        api_key=key,
        denied_key=denied,
        cert_file=server_pem,
        key_file=server_pem,
        nginx=nginx,
    ).start()
    try:
        yield KeyLab(proxy, key, denied, ca, dev_server)
    finally:
        proxy.stop()


def new_key() -> str:
    # Shaped like nothing else in the logs, so a search for it cannot match by accident.
    return f"tmprl-test-{secrets.token_urlsafe(40)}"


def key_site(tmp_path: Path, address: str, ca: Path) -> Path:
    """A minimal site (tests/worker_cli.py) whose worker reaches Temporal only through
    ``address``, with the key from ``KEY_ENV`` and the test CA; its own site and task queue."""
    return site_config(
        tmp_path,
        address,
        f"tq-apikey-{uuid.uuid4().hex[:10]}",
        api_key_env=KEY_ENV,
        connect_wait_seconds=CONNECT_WAIT_SECONDS,
        tls={"server_ca_cert_path": str(ca)},
    )


def site_of(config: Path) -> str:
    return str(tomllib.loads(config.read_text())["site"]["name"])


def key_env(key: str | None) -> dict[str, str | None]:
    """The key in ``KEY_ENV``; None: the variable unset."""
    return {KEY_ENV: key}


def assert_no_key(text: str, *keys: str) -> None:
    for key in keys:
        # Not `key not in text`: pytest would print the key in the failure message.
        assert text.find(key) == -1, "an API key appears in the output"


def refused_key_text(text: str, lab: KeyLab) -> bool:
    """The operator is told where and why: the address, and that the key was refused."""
    lowered = text.lower()
    return lab.proxy.address in text and ("unauthenticated" in lowered or "refused" in lowered)


async def test_the_worker_sends_the_key_on_every_call_and_runs_the_monitor(
    tmp_path: Path, key_lab: KeyLab, workers: list[Worker], dev_client: Client
) -> None:
    config = key_site(tmp_path, key_lab.proxy.address, key_lab.ca)
    worker = Worker(config, env=key_env(key_lab.key))
    workers.append(worker)
    worker.wait_for(POLLING, within=60)

    # The monitor answers a query: only a worker polling its task queue can, and the only one is
    # behind the proxy. The query goes to the dev server directly (no key), as an operator's
    # `temporal workflow query` would go to the cluster.
    handle = dev_client.get_workflow_handle(monitor_workflow_id(site_of(config)))
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    status = await handle.query("status")
    assert status["state"] == "normal", status

    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=60) == 0, worker.log()

    calls = key_lab.proxy.calls()
    methods = {call.method.rsplit("/", 1)[-1] for call in calls}
    # Connect, the namespace check, starting the monitor, and the worker's own task traffic:
    # the key must ride on all of them, not only on the first call.
    assert {"GetSystemInfo", "DescribeNamespace", "RespondWorkflowTaskCompleted"} <= methods, (
        methods
    )
    refused = [call for call in calls if not call.key_ok]
    assert refused == [], refused
    # No traceback but the monitor's own work: its DNS lookup fails here (nothing serves the
    # provider's API) and the SDK logs each failed activity with its traceback.
    log = worker.log()
    assert log.count("Traceback") == log.count("Completing activity as failed"), log
    assert_no_key(worker.log(), key_lab.key)
    for path in key_lab.proxy.log_files():
        assert_no_key(path.read_text(errors="replace"), key_lab.key)
    # The proxy drops the header: the dev server behind it never saw the key either.
    assert_no_key(key_lab.dev_server.log_file.read_text(errors="replace"), key_lab.key)


def test_a_wrong_key_stops_the_worker_at_once_without_printing_either_key(
    tmp_path: Path, key_lab: KeyLab, workers: list[Worker]
) -> None:
    config = key_site(tmp_path, key_lab.proxy.address, key_lab.ca)
    wrong = new_key()
    worker = Worker(config, env=key_env(wrong))
    workers.append(worker)
    # Refused, not unreachable: no retries, and done long before connect_wait_seconds.
    log = refused_at_once(worker, within=REFUSED_WITHIN)
    last = log.strip().splitlines()[-1]
    assert refused_key_text(last, key_lab), last
    assert_no_key(log, wrong, key_lab.key)
    # It was the key the proxy refused (TLS and HTTP/2 were fine): one call, status 16.
    assert [(c.key, c.grpc_status) for c in key_lab.proxy.calls()] == [(NO_KEY, "16")]
    for path in key_lab.proxy.log_files():
        assert_no_key(path.read_text(errors="replace"), wrong, key_lab.key)


def test_a_key_without_access_to_the_namespace_is_refused_at_once(
    tmp_path: Path, key_lab: KeyLab, workers: list[Worker]
) -> None:
    """A valid key of a service account that was not given this namespace: Client.connect
    succeeds (the server's version needs no namespace), the namespace check is refused."""
    config = key_site(tmp_path, key_lab.proxy.address, key_lab.ca)
    worker = Worker(config, env=key_env(key_lab.denied_key))
    workers.append(worker)
    # Refused, not unreachable: no retries, and done long before connect_wait_seconds.
    log = refused_at_once(worker, within=REFUSED_WITHIN)
    last = log.strip().splitlines()[-1]
    assert key_lab.proxy.address in last and "namespace 'default'" in last, last
    assert "refused" in last.lower(), last
    assert_no_key(log, key_lab.denied_key, key_lab.key)
    calls = [(c.method.rsplit("/", 1)[-1], c.key, c.grpc_status) for c in key_lab.proxy.calls()]
    assert calls == [
        ("GetSystemInfo", DENIED_KEY, "-"),
        ("DescribeNamespace", DENIED_KEY, "7"),
    ], calls


@pytest.mark.parametrize("value", [None, "   "], ids=["unset", "blank"])
@pytest.mark.parametrize("command", ["validate", "worker", "status"])
def test_an_unset_key_variable_is_a_config_error_naming_it(
    tmp_path: Path, lab_ca: tuple[Path, Path], command: str, value: str | None
) -> None:
    # No server needed: the variable is read before anything connects (nothing listens here).
    config = key_site(tmp_path, "127.0.0.1:9", lab_ca[0])
    result = run_cli(config, command, env=key_env(value))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert KEY_ENV in result.stderr and "temporal.api_key_env" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_the_cli_sends_the_key_and_names_a_refused_one(
    tmp_path: Path, key_lab: KeyLab, workers: list[Worker]
) -> None:
    config = key_site(tmp_path, key_lab.proxy.address, key_lab.ca)
    worker = Worker(config, env=key_env(key_lab.key))
    workers.append(worker)
    worker.wait_for(POLLING, within=60)

    def status(key: str) -> tuple[subprocess.CompletedProcess[str], float]:
        began = time.monotonic()
        done = run_cli(config, "--json", "status", env=key_env(key))
        return done, time.monotonic() - began

    # The right key: the status comes back through the proxy from the running monitor.
    before = len(key_lab.proxy.calls())
    ok, _ = status(key_lab.key)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["state"] == "normal", ok.stdout
    assert all(call.key_ok for call in key_lab.proxy.calls()[before:])
    assert_no_key(ok.stdout + ok.stderr, key_lab.key)

    # A wrong key: exit 1 at once, saying where and why, printing neither key.
    wrong = new_key()
    refused, elapsed = status(wrong)
    assert refused.returncode == 1, (refused.stdout, refused.stderr)
    assert refused_key_text(refused.stderr, key_lab), refused.stderr
    assert elapsed < REFUSED_WITHIN, f"took {elapsed:.1f} s"
    assert "Traceback" not in refused.stderr
    assert_no_key(refused.stdout + refused.stderr, wrong, key_lab.key)

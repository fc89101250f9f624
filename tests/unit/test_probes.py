"""The probes against real things on loopback: HTTP(S) servers, sockets, SQLite files, a real
PostgreSQL server and real child processes. No mocks: each fake speaks the real wire format."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import pytest

from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.models import ProbeResult
from genesis.failover.domain.probes import new_http_client, run_probe, run_probes
from tests.servers.postgres import Postgres, postgres_fixture  # noqa: F401
from tests.support import unavailable

RequireBinary = Callable[[str, str], str]


def make_check(check_type: str, target: str, **extra: Any) -> CheckConfig:
    data = {"name": "under-test", "check_type": check_type, "target": target, "timeout_seconds": 3}
    return CheckConfig.model_validate({**data, **extra})


def free_port() -> int:
    """A port nothing listens on (bound, read, released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def assert_unhealthy(result: ProbeResult) -> str:
    assert result.healthy is False
    assert result.error
    assert "\n" not in result.error
    return result.error


# --- HTTP servers --------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path == "/ok":
            self._send(200, b"status: green")
        elif url.path == "/unavailable":
            self._send(503, b"maintenance")
        elif url.path == "/slow":
            time.sleep(float(query["s"][0]))
            self._send(200, b"slow but fine")
        elif url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", query["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, b"no such page")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(tls: ssl.SSLContext | None = None) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def http_base() -> Iterator[str]:
    with serving() as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def https_base(require_binary: RequireBinary) -> Iterator[str]:
    openssl = require_binary("openssl", "the openssl CLI (Debian package openssl)")
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True,
        )  # fmt: skip
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)
        with serving(tls) as port:
            yield f"https://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """Accepts TCP connections (the kernel's backlog does) and never answers a byte."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


# --- HTTP ----------------------------------------------------------------------------------------


async def test_http_200_is_healthy_and_result_is_complete(http_base: str) -> None:
    result = await run_probe(make_check("http", f"{http_base}/ok"), origin="worker-a")
    assert result.healthy is True
    assert result.error is None
    assert result.check_name == "under-test"
    assert result.origin == "worker-a"
    assert 0 < result.latency_ms < 3000
    assert result.checked_at.tzinfo is not None
    assert abs(datetime.now(UTC) - result.checked_at) < timedelta(seconds=10)


async def test_http_503_is_unhealthy_and_the_error_names_the_status(http_base: str) -> None:
    result = await run_probe(make_check("http", f"{http_base}/unavailable"))
    assert assert_unhealthy(result) == "HTTP 503 (expected 2xx)"


async def test_http_expected_status_replaces_2xx(http_base: str) -> None:
    ok = await run_probe(make_check("http", f"{http_base}/unavailable", expected_status=[503]))
    assert ok.healthy is True
    bad = await run_probe(make_check("http", f"{http_base}/ok", expected_status=[204, 301]))
    assert assert_unhealthy(bad) == "HTTP 200 (expected 204, 301)"


async def test_http_body_must_contain_the_text(http_base: str) -> None:
    found = await run_probe(make_check("http", f"{http_base}/ok", body_contains="green"))
    assert found.healthy is True
    missing = await run_probe(make_check("http", f"{http_base}/ok", body_contains="red"))
    assert "body does not contain 'red'" in assert_unhealthy(missing)


async def test_http_slower_than_max_latency_is_unhealthy(http_base: str) -> None:
    slow = await run_probe(make_check("http", f"{http_base}/slow?s=0.3", max_latency_ms=100))
    assert re.fullmatch(r"latency \d+ms above 100ms", assert_unhealthy(slow))
    assert slow.latency_ms >= 300
    fast_enough = await run_probe(
        make_check("http", f"{http_base}/slow?s=0.3", max_latency_ms=2500)
    )
    assert fast_enough.healthy is True


async def test_http_connection_refused() -> None:
    result = await run_probe(make_check("http", f"http://127.0.0.1:{free_port()}/"))
    assert assert_unhealthy(result) == "connection refused"


async def test_http_timeout_bounds_the_whole_probe(silent_port: int) -> None:
    started = time.perf_counter()
    result = await run_probe(
        make_check("http", f"http://127.0.0.1:{silent_port}/", timeout_seconds=0.5)
    )
    elapsed = time.perf_counter() - started
    assert assert_unhealthy(result) == "timed out after 0.5s"
    assert elapsed < 0.5 + 1.0
    assert result.latency_ms >= 500


async def test_http_same_host_redirect_is_followed_and_final_status_counts(
    http_base: str,
) -> None:
    to_ok = await run_probe(make_check("http", f"{http_base}/redirect?to=/ok"))
    assert to_ok.healthy is True
    to_503 = await run_probe(make_check("http", f"{http_base}/redirect?to=/unavailable"))
    assert assert_unhealthy(to_503) == "HTTP 503 (expected 2xx)"


async def test_http_redirect_to_another_host_is_not_followed(http_base: str) -> None:
    # "localhost" is the same server under another host name: had the probe followed the
    # redirect it would have found a 200 there.
    port = urlparse(http_base).port
    target = quote(f"http://localhost:{port}/ok", safe="")
    result = await run_probe(make_check("http", f"{http_base}/redirect?to={target}"))
    error = assert_unhealthy(result)
    assert error.startswith("HTTP 302 redirects to another host (localhost)")


async def test_https_self_signed_fails_verification_unless_verify_tls_false(
    https_base: str,
) -> None:
    verified = await run_probe(make_check("http", f"{https_base}/ok"))
    assert "certificate verify failed" in assert_unhealthy(verified)
    unverified = await run_probe(make_check("http", f"{https_base}/ok", verify_tls=False))
    assert unverified.healthy is True, unverified.error


async def test_shared_client_is_never_used_for_unverified_checks(https_base: str) -> None:
    checks = [
        make_check("http", f"{https_base}/ok", name="verified"),
        make_check("http", f"{https_base}/ok", name="unverified", verify_tls=False),
        make_check("http", f"{https_base}/ok", name="verified-again"),
    ]
    async with new_http_client() as client:
        results = await run_probes(checks, http_client=client)
    assert [r.check_name for r in results] == ["verified", "unverified", "verified-again"]
    assert [r.healthy for r in results] == [False, True, False]


# --- TCP -----------------------------------------------------------------------------------------


async def test_tcp_listening_port_is_healthy() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        result = await run_probe(make_check("tcp", f"127.0.0.1:{port}"))
        assert result.healthy is True, result.error
        # The probe closed its connection: the accepted socket reads EOF.
        listener.settimeout(2)
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(2)
            assert conn.recv(1) == b""


async def test_tcp_closed_port_is_connection_refused() -> None:
    result = await run_probe(make_check("tcp", f"127.0.0.1:{free_port()}"))
    assert assert_unhealthy(result) == "connection refused"


async def test_tcp_host_name_tries_each_address() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        result = await run_probe(make_check("tcp", f"localhost:{port}"))
        assert result.healthy is True, result.error
    refused = await run_probe(make_check("tcp", f"localhost:{free_port()}"))
    assert assert_unhealthy(refused) == "connection refused"


async def test_tcp_bracketed_ipv6_target() -> None:
    try:
        listener = socket.socket(socket.AF_INET6)
        listener.bind(("::1", 0))
    except OSError as exc:
        unavailable(f"no IPv6 loopback here: {exc}")
    with listener:
        listener.listen(1)
        port = listener.getsockname()[1]
        result = await run_probe(make_check("tcp", f"[::1]:{port}"))
        assert result.healthy is True, result.error


def entries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# --- SQLite --------------------------------------------------------------------------------------


async def test_sqlite_existing_database_is_healthy_and_untouched(tmp_path: Path) -> None:
    db = tmp_path / "genesis.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
        conn.commit()
    before = db.read_bytes()
    result = await run_probe(make_check("database", str(db)))
    assert result.healthy is True, result.error
    assert db.read_bytes() == before
    assert entries(tmp_path) == ["genesis.db"]


async def test_sqlite_missing_file_is_unhealthy_and_never_created(tmp_path: Path) -> None:
    db = tmp_path / "missing.db"
    result = await run_probe(make_check("database", str(db)))
    assert assert_unhealthy(result) == f"database file not found: {db}"
    assert not db.exists()
    assert entries(tmp_path) == []


async def test_sqlite_garbage_file_is_unhealthy(tmp_path: Path) -> None:
    db = tmp_path / "garbage.db"
    db.write_bytes(b"this is not a database, it is an orders export\n" * 200)
    result = await run_probe(make_check("database", str(db)))
    assert "file is not a database" in assert_unhealthy(result)


async def test_sqlite_directory_is_unhealthy(tmp_path: Path) -> None:
    result = await run_probe(make_check("database", str(tmp_path)))
    assert assert_unhealthy(result) == f"database path is a directory: {tmp_path}"


# --- PostgreSQL ----------------------------------------------------------------------------------


# The server fixture (tests/servers/postgres.py) is shared with the readiness gate tests.


async def test_postgres_select_1_with_password_from_env(
    postgres: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GFO_TEST_PG_PASSWORD", postgres.password)
    check = make_check("database", postgres.dsn(), password_env="GFO_TEST_PG_PASSWORD")
    result = await run_probe(check)
    assert result.healthy is True, result.error


async def test_postgres_wrong_password_is_unhealthy_and_never_echoed(
    postgres: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "wrong-" + secrets.token_urlsafe(12)
    monkeypatch.setenv("GFO_TEST_PG_PASSWORD", wrong)
    check = make_check("database", postgres.dsn(), password_env="GFO_TEST_PG_PASSWORD")
    result = await run_probe(check)
    error = assert_unhealthy(result)
    assert "password authentication failed" in error
    assert wrong not in error
    assert postgres.password not in error


async def test_postgres_password_env_unset_is_unhealthy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GFO_TEST_PG_UNSET", raising=False)
    check = make_check(
        "database", "postgresql://genesis@127.0.0.1:5432/postgres", password_env="GFO_TEST_PG_UNSET"
    )
    result = await run_probe(check)
    assert assert_unhealthy(result) == "environment variable GFO_TEST_PG_UNSET is not set"


async def test_postgres_unreachable_port_is_unhealthy(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cret-" + secrets.token_urlsafe(8)
    monkeypatch.setenv("GFO_TEST_PG_PASSWORD", secret)
    check = make_check(
        "database",
        f"postgresql://genesis@127.0.0.1:{free_port()}/postgres",
        password_env="GFO_TEST_PG_PASSWORD",
    )
    result = await run_probe(check)
    error = assert_unhealthy(result)
    assert "refused" in error.lower()
    assert secret not in error


# --- Processes -----------------------------------------------------------------------------------


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``sleep`` under a unique name (a symlink: the kernel takes comm from the path run)."""
    sleep = shutil.which("sleep")
    assert sleep is not None
    children: list[subprocess.Popen[bytes]] = []

    def start(
        name: str, *args: str, argv0: str | None = None, seconds: str = "60"
    ) -> subprocess.Popen[bytes]:
        link = tmp_path / name
        if not link.exists():
            link.symlink_to(sleep)
        argv = [argv0 or str(link), seconds, *args]
        child = subprocess.Popen(argv, executable=link)
        children.append(child)
        return child

    yield start
    for child in children:
        child.kill()
        child.wait()


def unique(prefix: str = "gfp") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def write_pidfile(path: Path, pid: int) -> Path:
    path.write_text(f"{pid}\n")
    return path


def wait_for_state(pid: int, state: str) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat[stat.rindex(")") + 2] == state:
            return
        time.sleep(0.005)
    raise AssertionError(f"pid {pid} never reached state {state}")


async def test_process_by_pidfile_name_and_cmdline_is_healthy(spawn: Any, tmp_path: Path) -> None:
    name, marker = unique(), f"60.{secrets.randbelow(10**6):06d}"
    child = spawn(name, seconds=marker)
    pidfile = write_pidfile(tmp_path / "svc.pid", child.pid)
    by_pidfile = await run_probe(make_check("process", str(pidfile)))
    by_name = await run_probe(make_check("process", name))
    by_cmdline = await run_probe(make_check("process", name, cmdline_contains=marker))
    all_three = await run_probe(
        make_check("process", name, pidfile=str(pidfile), cmdline_contains=marker)
    )
    for result in (by_pidfile, by_name, by_cmdline, all_three):
        assert result.healthy is True, result.error
    other_marker = await run_probe(make_check("process", name, cmdline_contains="61.5"))
    assert "no running process named" in assert_unhealthy(other_marker)


async def test_process_long_name_matches_truncated_comm(spawn: Any) -> None:
    name = unique("gfp-long-service-name-")  # longer than the 15 characters comm keeps
    spawn(name, argv0="not-the-name")  # argv[0] says nothing: only comm can match
    result = await run_probe(make_check("process", name))
    assert result.healthy is True, result.error


async def test_process_killed_and_reaped_is_a_stale_pidfile(spawn: Any, tmp_path: Path) -> None:
    name = unique()
    child = spawn(name)
    pidfile = write_pidfile(tmp_path / "svc.pid", child.pid)
    child.kill()
    child.wait()
    stale = await run_probe(make_check("process", str(pidfile)))
    assert assert_unhealthy(stale) == f"stale pidfile {pidfile}: pid {child.pid} not running"
    by_name = await run_probe(make_check("process", name))
    assert assert_unhealthy(by_name) == f"no running process named {name!r}"


async def test_zombie_process_is_not_alive(spawn: Any, tmp_path: Path) -> None:
    name = unique()
    child = spawn(name)
    pidfile = write_pidfile(tmp_path / "svc.pid", child.pid)
    os.kill(child.pid, signal.SIGKILL)  # and no wait(): it stays a zombie until reaped
    wait_for_state(child.pid, "Z")
    by_pidfile = await run_probe(make_check("process", str(pidfile)))
    assert "not running (zombie" in assert_unhealthy(by_pidfile)
    by_name = await run_probe(make_check("process", name))
    assert assert_unhealthy(by_name) == f"no running process named {name!r}"


async def test_garbage_and_missing_pidfiles_are_unhealthy(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pid"
    garbage.write_text("not-a-pid\n")
    result = await run_probe(make_check("process", str(garbage)))
    assert assert_unhealthy(result) == f"pidfile {garbage} does not hold a pid: 'not-a-pid'"
    missing = tmp_path / "missing.pid"
    result = await run_probe(make_check("process", str(missing)))
    assert assert_unhealthy(result) == f"pidfile not found: {missing}"


async def test_pid_reused_by_another_process_is_unhealthy(spawn: Any, tmp_path: Path) -> None:
    # The pidfile's pid is alive, but it is some other program now.
    impostor = spawn(unique())
    pidfile = write_pidfile(tmp_path / "svc.pid", impostor.pid)
    wanted = unique("gfp-svc-")
    by_name = await run_probe(make_check("process", wanted, pidfile=str(pidfile)))
    error = assert_unhealthy(by_name)
    assert error.startswith(f"pidfile {pidfile}: pid {impostor.pid} is ")
    assert error.endswith(f"not {wanted!r} (pid reused?)")
    by_cmdline = await run_probe(
        make_check("process", str(pidfile), cmdline_contains="--trading-engine")
    )
    assert "cmdline does not contain '--trading-engine' (pid reused?)" in assert_unhealthy(
        by_cmdline
    )


@contextlib.contextmanager
def own_process_named(name: str) -> Iterator[None]:
    """Rename this very process (its comm, as ps shows it) for the duration."""
    comm = Path("/proc/self/comm")
    original = comm.read_text().rstrip("\n")
    comm.write_text(name)
    try:
        assert comm.read_text().rstrip("\n") == name
        yield
    finally:
        comm.write_text(original)


async def test_probing_process_does_not_match_itself() -> None:
    name = unique()
    with own_process_named(name):
        result = await run_probe(make_check("process", name))
    assert assert_unhealthy(result) == f"no running process named {name!r}"


# --- run_probes ----------------------------------------------------------------------------------


async def test_run_probes_runs_concurrently_and_keeps_input_order(
    http_base: str, tmp_path: Path
) -> None:
    checks = [
        make_check("http", f"{http_base}/slow?s=1", name="slow-a"),
        make_check("tcp", f"127.0.0.1:{free_port()}", name="closed"),
        make_check("http", f"{http_base}/slow?s=1", name="slow-b"),
        make_check("database", str(tmp_path / "missing.db"), name="no-db"),
    ]
    started = time.perf_counter()
    results = await run_probes(checks, origin="queue-eu")
    elapsed = time.perf_counter() - started
    assert [r.check_name for r in results] == ["slow-a", "closed", "slow-b", "no-db"]
    assert [r.healthy for r in results] == [True, False, True, False]
    assert {r.origin for r in results} == {"queue-eu"}
    assert elapsed < 1.8  # two 1 s probes, run one after the other, would take 2 s

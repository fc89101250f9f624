"""Backup checks and the primary's checks as gates, against a loopback HTTP server and closed
ports: the verdict, asking again, concurrency and the order of the results."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genesis.failover.domain.config import CheckConfig, GatesSettings
from genesis.failover.domain.gates import check_failover_gates, check_primary_now
from genesis.lab.ports import free_port
from tests.emulators.loopback import LoopbackHandler, LoopbackHTTPServer

SLOW_SECONDS = 0.5


class Backend(LoopbackHTTPServer[int]):
    """/ok answers 200, /down 503, /slow 200 after SLOW_SECONDS; /flaky answers each queued
    fault's status first, then 200."""

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.hits: Counter[str] = Counter()

    def fail_next(self, status: int, count: int = 1) -> None:
        self._queue_fault(status, count)


class _Handler(LoopbackHandler):
    owner: Backend

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        with self.owner._lock:
            self.owner.hits[self.path] += 1
        status = {"/ok": 200, "/down": 503, "/slow": 200, "/flaky": 200}.get(self.path, 404)
        if self.path == "/flaky":
            status = self.owner.take_fault() or status
        if self.path == "/slow":
            self.owner.hold(SLOW_SECONDS)
        self.send(status, b"backup", {"Content-Type": "text/plain"})


@pytest.fixture
def backend() -> Iterator[Backend]:
    with Backend() as server:
        yield server


def check(name: str, check_type: str, target: str, **extra: Any) -> CheckConfig:
    data = {"name": name, "check_type": check_type, "target": target, "timeout_seconds": 3}
    return CheckConfig.model_validate({**data, **extra})


def gates(*checks: CheckConfig, **extra: Any) -> GatesSettings:
    return GatesSettings.model_validate(
        {"backup_checks": list(checks), "retry_interval_seconds": 0, **extra}
    )


async def test_healthy_backup_check_passes(backend: Backend) -> None:
    [result] = await check_failover_gates(gates(check("api", "http", f"{backend.origin}/ok")))
    assert (result.name, result.kind, result.ok, result.attempts) == (
        "api",
        "backup_check",
        True,
        1,
    )
    assert re.fullmatch(r"healthy in \d+ ms", result.detail), result.detail
    assert result.skipped is False


async def test_503_fails_with_the_reason_after_every_attempt(backend: Backend) -> None:
    [result] = await check_failover_gates(
        gates(check("backup_api", "http", f"{backend.origin}/down"), attempts=3)
    )
    assert (result.ok, result.detail) == (False, "HTTP 503 (expected 2xx)")
    assert result.attempts == 3
    assert backend.hits["/down"] == 3


async def test_a_check_failing_once_then_passing_is_ok_on_the_second_attempt(
    backend: Backend,
) -> None:
    backend.fail_next(503)
    [result] = await check_failover_gates(
        gates(check("api", "http", f"{backend.origin}/flaky"), attempts=3)
    )
    assert result.ok is True, result.detail
    assert result.attempts == 2
    assert backend.hits["/flaky"] == 2  # a passing attempt ends it


async def test_closed_tcp_port_fails_after_attempts_spaced_by_the_interval() -> None:
    closed = check("db_port", "tcp", f"127.0.0.1:{free_port()}")
    started = time.perf_counter()
    [result] = await check_failover_gates(gates(closed, attempts=3, retry_interval_seconds=0.2))
    elapsed = time.perf_counter() - started
    assert (result.ok, result.detail, result.attempts) == (False, "connection refused", 3)
    assert 0.4 <= elapsed < 1.5


async def test_gates_run_concurrently_and_keep_config_order(
    backend: Backend, tmp_path: Path
) -> None:
    db = tmp_path / "replica.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE lag AS SELECT 4 AS seconds")
        conn.commit()
    settings = gates(
        check("slow-a", "http", f"{backend.origin}/slow"),
        check("down", "http", f"{backend.origin}/down"),
        check("slow-b", "http", f"{backend.origin}/slow"),
        replication_lag={"target": str(db), "query": "SELECT seconds FROM lag", "max_value": 5},
        attempts=1,
    )
    started = time.perf_counter()
    results = await check_failover_gates(settings, origin="worker-a/queue")
    elapsed = time.perf_counter() - started
    assert [(r.name, r.kind, r.ok) for r in results] == [
        ("slow-a", "backup_check", True),
        ("down", "backup_check", False),
        ("slow-b", "backup_check", True),
        ("replication_lag", "replication_lag", True),
    ]
    assert results[3].value == 4
    assert elapsed < 2 * SLOW_SECONDS  # one after the other, the two slow checks take 1 s


async def test_no_gates_configured_answers_nothing() -> None:
    assert await check_failover_gates(GatesSettings()) == []


async def test_primary_now_probes_each_check_with_its_own_kind(backend: Backend) -> None:
    backend.fail_next(503)
    checks = [
        check("web", "http", f"{backend.origin}/ok"),
        check("flaky", "http", f"{backend.origin}/flaky"),
        check("db_port", "tcp", f"127.0.0.1:{free_port()}"),
    ]
    results = await check_primary_now(checks, attempts=2, retry_interval_seconds=0)
    assert [(r.name, r.kind, r.ok, r.attempts) for r in results] == [
        ("web", "primary_check", True, 1),
        ("flaky", "primary_check", True, 2),
        ("db_port", "primary_check", False, 2),
    ]
    assert results[2].detail == "connection refused"


async def test_primary_now_with_one_attempt_asks_once(backend: Backend) -> None:
    [result] = await check_primary_now([check("web", "http", f"{backend.origin}/down")], attempts=1)
    assert (result.kind, result.ok, result.attempts) == ("primary_check", False, 1)
    assert backend.hits["/down"] == 1

"""The replication lag gate against real SQLite files: the number, the ceiling, the shapes a
query can return, and the guarantees that the gate never writes and never runs past its bound."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any

from genesis.failover.domain.config import GatesSettings, ReplicationLagGate
from genesis.failover.domain.gates import check_failover_gates, read_replication_lag

SELECT_LAG = "SELECT seconds FROM lag"
# Runs until something stops it; it reads the lag table first, so it holds a read lock meanwhile.
RUNAWAY = (
    "WITH RECURSIVE c(x) AS (SELECT seconds FROM lag UNION ALL SELECT x + 1 FROM c) "
    "SELECT max(x) FROM c"
)


def lag_db(path: Path, *values: Any) -> Path:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE lag (seconds)")
        conn.executemany("INSERT INTO lag VALUES (?)", [(v,) for v in values])
        conn.commit()
    return path


def gate(db: Path, query: str = SELECT_LAG, **extra: Any) -> ReplicationLagGate:
    return ReplicationLagGate.model_validate(
        {"target": str(db), "query": query, "max_value": 30, **extra}
    )


def entries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def rows(db: Path) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT seconds FROM lag").fetchall()


async def test_lag_within_the_ceiling_passes_with_value_and_limit(tmp_path: Path) -> None:
    result = await read_replication_lag(gate(lag_db(tmp_path / "r.db", 12.5)))
    assert result.ok is True
    assert (result.name, result.kind) == ("replication_lag", "replication_lag")
    assert (result.value, result.limit) == (12.5, 30)
    assert result.detail == "replication lag 12.5 <= max 30"


async def test_lag_above_the_ceiling_fails(tmp_path: Path) -> None:
    result = await read_replication_lag(gate(lag_db(tmp_path / "r.db", 45)))
    assert result.ok is False
    assert result.detail == "replication lag 45 > max 30"
    assert (result.value, result.limit) == (45, 30)


async def test_lag_exactly_at_the_ceiling_passes(tmp_path: Path) -> None:
    result = await read_replication_lag(gate(lag_db(tmp_path / "r.db", 30)))
    assert result.ok is True, result.detail
    assert result.value == 30


async def test_null_fails_and_is_asked_again(tmp_path: Path) -> None:
    db = lag_db(tmp_path / "r.db", None)
    settings = GatesSettings(replication_lag=gate(db), attempts=2, retry_interval_seconds=0)
    [result] = await check_failover_gates(settings)
    assert (result.ok, result.detail) == (False, "query returned NULL")
    assert result.value is None
    # A replica that has replayed nothing yet says NULL: that may change, so it was asked twice.
    assert result.attempts == 2


async def test_no_row_fails(tmp_path: Path) -> None:
    result = await read_replication_lag(gate(lag_db(tmp_path / "r.db")))
    assert (result.ok, result.detail) == (False, "query returned no row")


async def test_more_than_one_row_fails(tmp_path: Path) -> None:
    result = await read_replication_lag(gate(lag_db(tmp_path / "r.db", 1, 2)))
    assert (result.ok, result.detail) == (False, "query returned more than one row")


async def test_text_is_refused_at_once_even_when_it_looks_like_a_number(tmp_path: Path) -> None:
    db = lag_db(tmp_path / "r.db", "12")
    settings = GatesSettings(replication_lag=gate(db), attempts=3, retry_interval_seconds=0)
    [result] = await check_failover_gates(settings)
    assert result.ok is False
    assert result.detail == "query returned text '12', not a number (cast it in the query)"
    assert result.attempts == 1  # the same query returns text again: no point asking


async def test_blob_is_refused(tmp_path: Path) -> None:
    result = await read_replication_lag(gate(lag_db(tmp_path / "r.db", b"\x01")))
    assert (result.ok, result.detail) == (False, "query returned bytes, not a number")


async def test_missing_file_is_reported_and_never_created(tmp_path: Path) -> None:
    db = tmp_path / "missing.db"
    result = await read_replication_lag(gate(db))
    assert (result.ok, result.detail) == (False, f"database file not found: {db}")
    assert entries(tmp_path) == []


async def test_a_write_statement_fails_and_changes_nothing(tmp_path: Path) -> None:
    db = lag_db(tmp_path / "r.db", 12)
    settings = GatesSettings(
        replication_lag=gate(db, "DELETE FROM lag"), attempts=3, retry_interval_seconds=0
    )
    [result] = await check_failover_gates(settings)
    assert result.ok is False
    assert result.detail == "OperationalError: attempt to write a readonly database"
    assert result.attempts == 1
    assert rows(db) == [(12,)]
    assert entries(tmp_path) == ["r.db"]  # no journal left behind


async def test_a_runaway_query_is_stopped_at_the_timeout(tmp_path: Path) -> None:
    db = lag_db(tmp_path / "r.db", 1)
    started = time.perf_counter()
    result = await read_replication_lag(gate(db, RUNAWAY, timeout_seconds=0.5))
    elapsed = time.perf_counter() - started
    assert (result.ok, result.detail) == (False, "timed out after 0.5s")
    assert 0.5 <= elapsed < 1.3
    # Stopped, not merely abandoned: a query still running would hold its read lock, and this
    # commit would fail with "database is locked" after waiting 2 s.
    with contextlib.closing(sqlite3.connect(db, timeout=2)) as conn:
        conn.execute("UPDATE lag SET seconds = 2")
        conn.commit()
    assert rows(db) == [(2,)]


async def test_a_locked_database_is_bounded_too(tmp_path: Path) -> None:
    db = lag_db(tmp_path / "r.db", 1)
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as writer:
        writer.execute("BEGIN EXCLUSIVE")  # what a long restore or migration does
        started = time.perf_counter()
        result = await read_replication_lag(gate(db, timeout_seconds=0.3))
        elapsed = time.perf_counter() - started
        writer.execute("ROLLBACK")
    assert result.ok is False
    assert result.detail in ("timed out after 0.3s", "OperationalError: database is locked")
    assert elapsed < 0.3 + 0.5


async def test_the_detail_names_the_gate(tmp_path: Path) -> None:
    db = lag_db(tmp_path / "r.db", 4096)
    result = await read_replication_lag(gate(db, name="wal_bytes_behind", max_value=1024))
    assert result.name == "wal_bytes_behind"
    assert result.detail == "wal bytes behind 4096 > max 1024"

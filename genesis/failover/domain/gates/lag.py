"""The replication lag gate: one number read from the backup's database, under a ceiling.

The query runs where it can never write. It is typed by hand into a config file and run against
the backup that is about to take production traffic: a mistyped ``UPDATE`` or ``DELETE`` must
fail, not damage the very database the failover relies on.
- SQLite is opened through a ``file:...?mode=ro`` URI (as the database probe does): a write fails
  with "attempt to write a readonly database", and a missing file is never created.
- PostgreSQL runs the query in a READ ONLY transaction that is never committed: a write fails
  with "cannot execute UPDATE in a read-only transaction".

Both are bounded by ``gate.timeout_seconds``, and the bound stops the query itself, not only the
wait for it: a runaway query left running would hold its locks (and a CPU) on the backup after
the gate had answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sqlite3
import threading
import urllib.parse
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from genesis.failover.domain.config import ReplicationLagGate
from genesis.failover.domain.errors import ConfigError
from genesis.failover.domain.models import GateResult
from genesis.failover.domain.probes._result import describe_error, scrub
from genesis.failover.domain.probes.database import PSYCOPG_MISSING
from genesis.failover.domain.secrets import secret_from_env

__all__ = ["Answer", "read_lag"]


class Answer(NamedTuple):
    """A gate's verdict, and whether asking again could change it."""

    result: GateResult
    # An unset variable, a query returning text, a write refused: the same question gets the
    # same answer, so the retry loop stops here.
    final: bool = False


class _Refused(Exception):
    """A reading that is not a number under the ceiling, with the reason in one line."""

    def __init__(self, detail: str, *, final: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.final = final


async def read_lag(gate: ReplicationLagGate, environ: Mapping[str, str]) -> Answer:
    def failed(detail: str, final: bool = False) -> Answer:
        result = GateResult(name=gate.name, kind="replication_lag", ok=False, detail=detail)
        return Answer(result, final=final)

    password: str | None = None
    if gate.is_postgres and gate.password_env:
        try:
            password = secret_from_env(
                environ,
                gate.password_env,
                field="gates.replication_lag.password_env",
                holds="the password of the user in gates.replication_lag.target",
            )
        except ConfigError as exc:
            return failed(str(exc), final=True)
    secrets = [password] if password else []
    bound = asyncio.timeout(gate.timeout_seconds)
    try:
        async with bound:
            if gate.is_postgres:
                rows = await _postgres_rows(gate, password)
            else:
                rows = await _sqlite_rows(gate)
        value = _number(rows)
    except _Refused as refused:
        return failed(scrub(refused.detail, secrets), refused.final)
    except TimeoutError as exc:
        if bound.expired():
            return failed(f"timed out after {gate.timeout_seconds:g}s")
        return failed(describe_error(exc, secrets=secrets))
    except Exception as exc:
        # The password is scrubbed from whatever the driver chose to echo back.
        return failed(describe_error(exc, secrets=secrets), _is_final(exc))
    ok = value <= gate.max_value
    what = gate.name.replace("_", " ")
    detail = f"{what} {_fmt(value)} {'<=' if ok else '>'} max {_fmt(gate.max_value)}"
    result = GateResult(
        name=gate.name,
        kind="replication_lag",
        ok=ok,
        detail=detail,
        value=value,
        limit=gate.max_value,
    )
    return Answer(result)


def _number(rows: list[Any]) -> float:
    """The first column of the one row, as a finite float; else why not."""
    if not rows:
        raise _Refused("query returned no row")
    if len(rows) > 1:
        raise _Refused("query returned more than one row", final=True)
    first = rows[0][0]
    if first is None:
        # A replica that has replayed nothing yet says NULL: asking again may help.
        raise _Refused("query returned NULL")
    if isinstance(first, bool) or not isinstance(first, int | float | Decimal):
        raise _Refused(_not_a_number(first), final=True)
    value = float(first)
    if not math.isfinite(value):
        # NaN compares as "not above" any ceiling: it would pass the gate.
        raise _Refused(f"query returned {first}, not a finite number", final=True)
    return value


def _not_a_number(first: object) -> str:
    if isinstance(first, timedelta):
        return "query returned an interval, not a number (use EXTRACT(EPOCH FROM ...))"
    if isinstance(first, str):
        # Text compares as text ("9" > "30"): the query must say what number it means.
        return f"query returned text {first[:40]!r}, not a number (cast it in the query)"
    if isinstance(first, bool):
        return "query returned a boolean, not a number"
    if isinstance(first, bytes | bytearray | memoryview):
        return "query returned bytes, not a number"
    return f"query returned a value of type {type(first).__name__}, not a number"


def _fmt(number: float) -> str:
    return format(number, ".12g")


def _is_final(exc: Exception) -> bool:
    """A write refused, a syntax error, an unknown table: the same query fails the same way."""
    sqlstate = getattr(exc, "sqlstate", None)  # psycopg
    if isinstance(sqlstate, str):
        return sqlstate == "25006" or sqlstate.startswith("42")
    return getattr(exc, "sqlite_errorname", None) in ("SQLITE_READONLY", "SQLITE_ERROR")


async def _sqlite_rows(gate: ReplicationLagGate) -> list[Any]:
    path = Path(gate.target)
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro"
    stop = threading.Event()
    opened: list[sqlite3.Connection] = []

    def fetch() -> list[Any]:
        # Clear messages first; mode=ro is what guarantees a missing file is never created.
        if not path.exists():
            raise _Refused(f"database file not found: {gate.target}")
        if path.is_dir():
            raise _Refused(f"database path is a directory: {gate.target}", final=True)
        conn = sqlite3.connect(uri, uri=True, timeout=gate.timeout_seconds, check_same_thread=False)
        opened.append(conn)
        try:
            # The statement looks for the stop itself every 1000 VM steps: interrupt() alone is
            # lost when it lands before the statement starts (a busy thread pool).
            conn.set_progress_handler(stop.is_set, 1000)
            return conn.execute(gate.query).fetchmany(2)
        finally:
            conn.close()

    work = asyncio.ensure_future(asyncio.to_thread(fetch))
    work.add_done_callback(lambda task: task.cancelled() or task.exception())
    try:
        # Shielded: a thread cannot be cancelled; the bound passing stops the statement instead.
        return await asyncio.shield(work)
    finally:
        if not work.done():  # the bound passed, or the caller gave up
            stop.set()
            for conn in opened:
                with contextlib.suppress(sqlite3.Error):
                    conn.interrupt()


async def _postgres_rows(gate: ReplicationLagGate, password: str | None) -> list[Any]:
    try:
        import psycopg
    except ImportError:
        raise _Refused(PSYCOPG_MISSING, final=True) from None
    conn = await psycopg.AsyncConnection.connect(
        gate.target,
        # libpq counts whole seconds; the outer asyncio bound is exact.
        connect_timeout=max(1, math.ceil(gate.timeout_seconds)),
        password=password,  # None is dropped: libpq then uses PGPASSWORD or .pgpass
    )
    try:
        # The first statement opens "BEGIN READ ONLY"; the transaction is never committed.
        await conn.set_read_only(True)
        # The server stops the query too: a client giving up does not always reach it.
        await conn.execute(
            "SELECT set_config('statement_timeout', %s, true)",
            [str(max(1, round(gate.timeout_seconds * 1000)))],
        )
        try:
            cursor = await conn.execute(gate.query)
        except psycopg.errors.QueryCanceled as exc:
            if "statement timeout" in str(exc):
                raise _Refused(f"timed out after {gate.timeout_seconds:g}s") from exc
            raise
        if cursor.description is None:
            raise _Refused("query returned no result (is it a SELECT?)", final=True)
        return list(await cursor.fetchmany(2))
    finally:
        await conn.close()  # closing without COMMIT rolls the transaction back

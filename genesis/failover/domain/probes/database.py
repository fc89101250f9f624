"""Database probe: PostgreSQL by DSN (psycopg 3, optional extra) or a SQLite file by path.

SQLite is opened read-only through a ``file:...?mode=ro`` URI. A plain ``sqlite3.connect(path)``
creates a missing file: the probe would then report a freshly created, empty database as a healthy
primary, and the application would later find an empty database where its data used to be.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import sqlite3
import urllib.parse
from pathlib import Path

from genesis.failover.domain.config import CheckConfig
from genesis.failover.domain.models import ProbeResult
from genesis.failover.domain.probes._result import Stopwatch, run_bounded

_POSTGRES = re.compile(r"^postgres(ql)?://")
PSYCOPG_MISSING = "psycopg is not installed (pip install 'genesis-failover[postgres]')"


async def probe_database(check: CheckConfig, *, origin: str = "") -> ProbeResult:
    if _POSTGRES.match(check.target):
        return await _probe_postgres(check, origin=origin)
    return await run_bounded(
        check, lambda _clock: asyncio.to_thread(_sqlite_select, check), origin=origin
    )


async def _probe_postgres(check: CheckConfig, *, origin: str) -> ProbeResult:
    password: str | None = None
    if check.password_env:
        password = os.environ.get(check.password_env)

    async def body(_clock: Stopwatch) -> str | None:
        if check.password_env and password is None:
            return f"environment variable {check.password_env} is not set"
        try:
            import psycopg
        except ImportError:
            return PSYCOPG_MISSING
        conn = await psycopg.AsyncConnection.connect(
            check.target,
            autocommit=True,
            # libpq counts whole seconds (and treats 1 as 2); the probe's own bound is exact.
            connect_timeout=max(1, math.ceil(check.timeout_seconds)),
            password=password,  # None is dropped: libpq then uses the DSN, PGPASSWORD, .pgpass
        )
        async with conn:
            await conn.execute("SELECT 1")
        return None

    # The password is scrubbed from any error text, whatever the driver chose to echo back.
    return await run_bounded(check, body, origin=origin, secrets=[password] if password else [])


def _sqlite_select(check: CheckConfig) -> str | None:
    path = Path(check.target)
    # These two checks give clear messages; mode=ro below is what guarantees nothing is created
    # even if the file disappears between them and the open.
    if not path.exists():
        return f"database file not found: {check.target}"
    if path.is_dir():
        return f"database path is a directory: {check.target}"
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=check.timeout_seconds)
    try:
        # SELECT 1 alone never reads the file, so a truncated or overwritten database would pass.
        # Counting sqlite_master reads the header and the schema page: cheap, and it fails with
        # "file is not a database" on garbage. (PRAGMA quick_check reads everything: too slow.)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        conn.close()
    return None

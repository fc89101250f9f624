"""The replication lag gate against a real PostgreSQL server (tests/servers/postgres.py): the
password from the environment, the read-only transaction, and the bound on a slow query."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from genesis.failover.domain.config import GatesSettings, ReplicationLagGate
from genesis.failover.domain.gates import check_failover_gates, read_replication_lag
from genesis.lab.ports import free_port
from tests.servers.postgres import Postgres, postgres_fixture  # noqa: F401

PASSWORD_ENV = "GFO_TEST_LAG_PASSWORD"


@pytest.fixture(scope="module")
def lag_table(postgres: Postgres) -> Iterator[str]:
    """A table the gate's role may read AND update: only the read-only transaction stops a
    write, not a missing privilege."""
    with postgres.superuser() as conn:
        conn.execute("CREATE TABLE lag (seconds numeric)")
        conn.execute(f"GRANT SELECT, UPDATE, DELETE ON lag TO {postgres.role}")
    yield "lag"
    with postgres.superuser() as conn:
        conn.execute("DROP TABLE lag")


def set_lag(postgres: Postgres, *values: Any) -> None:
    with postgres.superuser() as conn:
        conn.execute("DELETE FROM lag")
        for value in values:
            conn.execute("INSERT INTO lag VALUES (%s)", [value])


def lag_rows(postgres: Postgres) -> list[Any]:
    with postgres.superuser() as conn:
        return [row[0] for row in conn.execute("SELECT seconds FROM lag ORDER BY 1")]


def gate(postgres: Postgres, query: str, **extra: Any) -> ReplicationLagGate:
    data = {
        "target": postgres.dsn(),
        "query": query,
        "max_value": 30,
        "password_env": PASSWORD_ENV,
        **extra,
    }
    return ReplicationLagGate.model_validate(data)


def env(postgres: Postgres) -> dict[str, str]:
    return {PASSWORD_ENV: postgres.password}


async def test_lag_under_the_ceiling_with_the_password_from_environ(postgres: Postgres) -> None:
    result = await read_replication_lag(
        gate(postgres, "SELECT 12.5::numeric"), environ=env(postgres)
    )
    assert result.ok is True, result.detail
    assert (result.value, result.limit) == (12.5, 30)
    assert result.detail == "replication lag 12.5 <= max 30"


async def test_lag_over_the_ceiling_read_from_a_table(postgres: Postgres, lag_table: str) -> None:
    set_lag(postgres, 45)
    result = await read_replication_lag(
        gate(postgres, f"SELECT seconds FROM {lag_table}"), environ=env(postgres)
    )
    assert (result.ok, result.detail) == (False, "replication lag 45 > max 30")
    assert result.value == 45


async def test_password_from_os_environ_by_default(
    postgres: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    result = await read_replication_lag(gate(postgres, "SELECT 3"))
    assert result.ok is True, result.detail
    assert result.value == 3


async def test_wrong_password_fails_without_echoing_it(postgres: Postgres) -> None:
    wrong = "wrong-" + secrets.token_urlsafe(12)
    result = await read_replication_lag(gate(postgres, "SELECT 1"), environ={PASSWORD_ENV: wrong})
    assert result.ok is False
    assert "password authentication failed" in result.detail
    assert wrong not in result.detail
    assert postgres.password not in result.detail


async def test_unset_password_variable_fails_at_once_naming_it(postgres: Postgres) -> None:
    settings = GatesSettings(
        replication_lag=gate(postgres, "SELECT 1"), attempts=3, retry_interval_seconds=0
    )
    [result] = await check_failover_gates(settings, environ={})
    assert result.ok is False
    assert result.detail.startswith(f"environment variable {PASSWORD_ENV} ")
    assert "gates.replication_lag.password_env" in result.detail
    assert result.attempts == 1


async def test_an_update_is_refused_as_read_only_and_nothing_changes(
    postgres: Postgres, lag_table: str
) -> None:
    set_lag(postgres, 7)
    settings = GatesSettings(
        replication_lag=gate(postgres, f"UPDATE {lag_table} SET seconds = 0 RETURNING seconds"),
        attempts=3,
        retry_interval_seconds=0,
    )
    [result] = await check_failover_gates(settings, environ=env(postgres))
    assert result.ok is False
    assert result.detail == (
        "ReadOnlySqlTransaction: cannot execute UPDATE in a read-only transaction"
    )
    assert result.attempts == 1  # the same statement is refused the same way
    assert lag_rows(postgres) == [7]


async def test_a_slow_query_is_stopped_at_the_timeout_on_the_server_too(
    postgres: Postgres,
) -> None:
    started = time.perf_counter()
    result = await read_replication_lag(
        gate(postgres, "SELECT pg_sleep(10)", timeout_seconds=1), environ=env(postgres)
    )
    elapsed = time.perf_counter() - started
    assert (result.ok, result.detail) == (False, "timed out after 1s")
    assert 1.0 <= elapsed < 2.0
    # The server is not left sleeping on the gate's behalf.
    deadline = time.monotonic() + 2
    while True:
        with postgres.superuser() as conn:
            running = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(10)' "
                "AND state = 'active'"
            ).fetchone()
        if running == (0,) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert running == (0,)


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("SELECT true", "query returned a boolean, not a number"),
        ("SELECT '12'::text", "query returned text '12', not a number (cast it in the query)"),
        (
            "SELECT interval '5 seconds'",
            "query returned an interval, not a number (use EXTRACT(EPOCH FROM ...))",
        ),
        ("SELECT 'NaN'::float8", "query returned nan, not a finite number"),
        ("SELECT NULL::numeric", "query returned NULL"),
        ("SELECT 1 WHERE false", "query returned no row"),
    ],
)
async def test_what_is_not_one_number_fails(postgres: Postgres, query: str, detail: str) -> None:
    result = await read_replication_lag(gate(postgres, query), environ=env(postgres))
    assert (result.ok, result.detail) == (False, detail)
    assert result.value is None


async def test_an_unreachable_server_fails_without_the_password(postgres: Postgres) -> None:
    target = f"postgresql://{postgres.role}@127.0.0.1:{free_port()}/postgres"
    result = await read_replication_lag(
        gate(postgres, "SELECT 1", target=target), environ=env(postgres)
    )
    assert result.ok is False
    assert "refused" in result.detail.lower()
    assert postgres.password not in result.detail

"""A real PostgreSQL server on a free loopback port, one per test module that uses it.

Use it from any test directory by importing the fixture into the test module (a conftest.py is
seen only by the tests below it):

    from tests.servers.postgres import Postgres, postgres_fixture  # noqa: F401

and ask for ``postgres: Postgres``. The server has a login role with a password (SCRAM over TCP,
as in production) and trust on its private Unix socket, which ``superuser()`` uses for setup
that the role under test must not be able to do itself.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from genesis.lab.ports import free_port
from tests.support import require

if TYPE_CHECKING:
    import psycopg

__all__ = ["Postgres", "postgres_fixture"]


@dataclass
class Postgres:
    port: int
    role: str
    password: str
    socket_dir: Path

    def dsn(self, port: int | None = None) -> str:
        return f"postgresql://{self.role}@127.0.0.1:{port or self.port}/postgres"

    def superuser(self) -> psycopg.Connection[Any]:
        """An autocommit connection as the ``postgres`` superuser, over the private socket."""
        import psycopg

        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user="postgres",
            dbname="postgres",
            autocommit=True,
        )


def _postgres_bindir() -> Path:
    def version(initdb: str) -> int:
        return int(Path(initdb).parent.parent.name)

    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    initdb = debian[-1] if debian else None
    what = "a PostgreSQL server (Debian package postgresql)"
    initdb = require(initdb or "initdb", what)
    bindir = Path(initdb).parent
    require(str(bindir / "postgres"), what)
    return bindir


@pytest.fixture(scope="module", name="postgres")
def postgres_fixture() -> Iterator[Postgres]:
    bindir = _postgres_bindir()
    as_user: dict[str, Any] = {}
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as an ordinary user
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pw = pwd.getpwnam("nobody")
        as_user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
    base = Path(tempfile.mkdtemp(prefix="gfo-pg-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        if as_user:
            os.chown(base, as_user["user"], as_user["group"])
        data = base / "data"
        subprocess.run(
            [bindir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync",
             "-E", "UTF8"],
            check=True, capture_output=True, cwd=base, **as_user,
        )  # fmt: skip
        # Password (SCRAM) authentication over TCP, as in production; trust on the private socket
        # only, for the fixture's own setup.
        (data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
        )
        port = free_port()
        log = (base / "server.log").open("wb")
        server = subprocess.Popen(
            [bindir / "postgres", "-D", data, "-p", str(port), "-k", base,
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
            stdout=log, stderr=subprocess.STDOUT, cwd=base, **as_user,
        )  # fmt: skip
        log.close()
        _wait_ready(server, data / "postmaster.pid", base / "server.log")
        role, password = "genesis_probe", secrets.token_urlsafe(18)
        from psycopg import sql

        pg = Postgres(port=port, role=role, password=password, socket_dir=base)
        with pg.superuser() as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
        yield pg
    finally:
        if server is not None:  # stop by PID: SIGINT is PostgreSQL's "fast" shutdown
            server.send_signal(signal.SIGINT)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(base, ignore_errors=True)


def _wait_ready(server: subprocess.Popen[bytes], pidfile: Path, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"postgres exited with {server.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(FileNotFoundError):
            lines = pidfile.read_text().splitlines()
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return
        time.sleep(0.02)
    pytest.fail(f"postgres not ready after 20 s: {log.read_text()[-2000:]}")

"""A real PostgreSQL for the tenant-isolation tests: one private server per session on
loopback (pytest-postgresql's executor), one fresh database with the migrations applied
per module (its janitor), and connections as the roles the platform uses.

When the suite runs as root, the server runs as the `postgres` user (`tests/support/pg_ctl`)
in a data folder that user owns. Nothing is skipped: a missing PostgreSQL fails the
session with what to install (`scripts/test-services.sh` installs it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import port_for
import psycopg
import pytest
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor

from db.migrate import apply

PG_CTL = Path(__file__).resolve().parents[1] / "support" / "pg_ctl"
SUPERUSER = "postgres"
APP_USER, APP_PASSWORD = "app_login", "app-login-test-password"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgreSQLExecutor]:
    if not any(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")) and not shutil.which("pg_ctl"):
        pytest.fail("PostgreSQL is not installed: run scripts/test-services.sh (make test does)")
    folder = Path(tempfile.mkdtemp(prefix="hse-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    executor = PostgreSQLExecutor(
        executable=str(PG_CTL), host="127.0.0.1", port=port_for.select_random(),
        datadir=str(folder / "data"), unixsocketdir=str(folder), logfile=str(folder / "server.log"),
        startparams="-w", dbname="postgres", user=SUPERUSER,
        postgres_options="-c max_connections=200 -c fsync=off -c synchronous_commit=off",
    )
    executor.start()
    try:
        yield executor
    finally:
        executor.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _dsn(server: PostgreSQLExecutor, dbname: str, user: str, password: str | None = None) -> str:
    auth = f"{user}:{password}" if password else user
    return f"postgresql://{auth}@{server.host}:{server.port}/{dbname}"


@pytest.fixture(scope="module")
def tenant_db(pg_server: PostgreSQLExecutor, request) -> Iterator[dict[str, str]]:
    """A fresh database with the migrations applied; DSNs of its owner and its app login."""
    dbname = f"hse_{request.module.__name__.rsplit('.', 1)[-1]}"
    janitor = DatabaseJanitor(user=SUPERUSER, host=pg_server.host, port=pg_server.port, dbname=dbname,
                              password=None)
    janitor.init()
    try:
        admin = _dsn(pg_server, dbname, SUPERUSER)
        with psycopg.connect(admin) as conn:
            apply(conn)
            conn.execute(f"DROP ROLE IF EXISTS {APP_USER}")
            conn.execute(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{APP_PASSWORD}' IN ROLE hse_app")
        yield {"admin": admin, "app": _dsn(pg_server, dbname, APP_USER, APP_PASSWORD)}
    finally:
        with psycopg.connect(_dsn(pg_server, "postgres", SUPERUSER), autocommit=True) as conn:
            conn.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{dbname}'")
        janitor.drop()

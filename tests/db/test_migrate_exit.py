"""The migration runner's exit status: 0 applied (or nothing to apply), 1 on a migration or
connection error (one line on stderr), 2 on a usage error; the same through `python -m`."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest

from db import migrate

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"


@pytest.fixture
def connected(monkeypatch):
    """`psycopg.connect` answers a connection that is never used (apply is replaced)."""
    monkeypatch.setattr(migrate.psycopg, "connect", lambda dsn: contextlib.nullcontext(object()))


@pytest.mark.parametrize("versions,line", [([1, 2], "applied 2 migration(s): 1, 2"), ([], "applied 0 migration(s): none")])
def test_success_is_0(connected, monkeypatch, capsys, versions, line):
    monkeypatch.setattr(migrate, "apply", lambda conn: versions)
    assert migrate.main(["--dsn", "postgresql://x"]) == 0
    assert capsys.readouterr().out.strip() == line


def test_a_changed_migration_is_1(connected, monkeypatch, capsys):
    def changed(conn):
        raise migrate.MigrationError("0001_tenant_isolation.sql changed after it was applied; add a new migration "
                                     "instead of editing an applied one")

    monkeypatch.setattr(migrate, "apply", changed)
    assert migrate.main(["--dsn", "postgresql://x"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("error: 0001_tenant_isolation.sql changed after it was applied; add a new migration "
                            "instead of editing an applied one\n")


def test_an_unreachable_database_is_1(capsys):
    assert migrate.main(["--dsn", UNREACHABLE]) == 1
    assert capsys.readouterr().err.startswith("error: ")


def test_a_missing_dsn_is_a_usage_error():
    with pytest.raises(SystemExit) as raised:
        migrate.main([])
    assert raised.value.code == 2


def test_the_module_exits_with_the_status():
    result = subprocess.run([sys.executable, "-m", "db.migrate", "--dsn", UNREACHABLE], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("error: ")

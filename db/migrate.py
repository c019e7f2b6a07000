"""Apply the SQL migrations in `db/migrations/` in order, each once.

    python -m db.migrate --dsn "postgresql://hse_admin@<writer endpoint>:5432/hse?sslmode=verify-full"

Plain SQL files named `NNNN_<what>.sql` are the whole contract: a reviewer reads the
SQL that runs, and the runner is small enough to read too. Each file runs in its own
transaction and is recorded with its checksum in `public.schema_migrations`; a file
that changed after it was applied stops the run (write a new migration instead).
The migrations run against the primary's writer as the master user; the replicas
receive them through replication.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import psycopg

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(Exception):
    """A migration folder or history that cannot be applied safely."""


@dataclass(frozen=True)
class Migration:
    version: int
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(folder: Path = MIGRATIONS) -> list[Migration]:
    """The migrations in version order; a misnamed file or a repeated version is an error."""
    found: dict[int, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_<what>.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{path.name}: version {version} is also {found[version].path.name}")
        found[version] = Migration(version, path)
    return [found[v] for v in sorted(found)]


def apply(conn: psycopg.Connection, folder: Path = MIGRATIONS) -> list[int]:
    """Apply every migration not yet applied; return the versions applied now."""
    conn.autocommit = True
    conn.execute("""CREATE TABLE IF NOT EXISTS public.schema_migrations (
                        version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now())""")
    applied = {v: c for v, c in conn.execute("SELECT version, checksum FROM public.schema_migrations")}
    done = []
    for migration in discover(folder):
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise MigrationError(f"{migration.path.name} changed after it was applied; "
                                     "add a new migration instead of editing an applied one")
            continue
        with conn.transaction():
            conn.execute(migration.sql)
            conn.execute("INSERT INTO public.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                         (migration.version, migration.path.name, migration.checksum))
        done.append(migration.version)
    return done


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db.migrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True, help="libpq connection string of the primary's writer")
    args = parser.parse_args(argv)
    try:
        with psycopg.connect(args.dsn) as conn:
            versions = apply(conn)
    except (MigrationError, psycopg.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"applied {len(versions)} migration(s): {', '.join(map(str, versions)) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

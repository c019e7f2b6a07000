"""Row-level security on a real PostgreSQL: a tenant sees and changes only its own rows,
a session without a tenant sees nothing, and the application role has no way around it."""

from __future__ import annotations

import random
import threading
import uuid
from pathlib import Path

import psycopg
import pytest

from db.migrate import MIGRATIONS, MigrationError, apply, discover

TENANTS = {name: uuid.UUID(int=i + 1) for i, name in enumerate(("acme", "globex", "initech", "umbrella"))}
INCIDENTS_PER_TENANT = {"acme": 5, "globex": 3, "initech": 7, "umbrella": 4}


@pytest.fixture(scope="module")
def seeded(tenant_db) -> dict[str, str]:
    """Four tenants with users and incidents, written by the owner of the database."""
    with psycopg.connect(tenant_db["admin"]) as conn:
        for name, tenant in TENANTS.items():
            conn.execute("INSERT INTO app.organizations (tenant_id, name, region) VALUES (%s, %s, 'us-east')",
                         (tenant, name))
            (user_id,) = conn.execute("INSERT INTO app.users (tenant_id, email) VALUES (%s, %s) RETURNING id",
                                      (tenant, f"safety@{name}.example")).fetchone()
            for i in range(INCIDENTS_PER_TENANT[name]):
                conn.execute("INSERT INTO app.incidents (tenant_id, reported_by, title, severity) "
                             "VALUES (%s, %s, %s, %s)", (tenant, user_id, f"{name} incident {i}", 1 + i % 5))
    return tenant_db


def app_session(dsn: str, tenant: uuid.UUID | str | None = None) -> psycopg.Connection:
    conn = psycopg.connect(dsn, autocommit=True)
    if tenant is not None:
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant),))
    return conn


def test_without_a_tenant_a_session_sees_nothing_and_writes_nothing(seeded) -> None:
    with app_session(seeded["app"]) as conn:
        for table in ("organizations", "users", "incidents", "incident_counts"):
            assert conn.execute(f"SELECT count(*) FROM app.{table}").fetchone() == (0,), table
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO app.incidents (tenant_id, title, severity) VALUES (%s, 'x', 1)",
                         (TENANTS["acme"],))
        assert conn.execute("UPDATE app.incidents SET title = 'x'").rowcount == 0
        assert conn.execute("DELETE FROM app.incidents").rowcount == 0


@pytest.mark.parametrize("name", sorted(TENANTS))
def test_a_tenant_sees_exactly_its_own_rows(seeded, name) -> None:
    tenant = TENANTS[name]
    with app_session(seeded["app"], tenant) as conn:
        rows = conn.execute("SELECT tenant_id FROM app.incidents").fetchall()
        assert len(rows) == INCIDENTS_PER_TENANT[name]
        assert {r[0] for r in rows} == {tenant}
        assert conn.execute("SELECT name FROM app.organizations").fetchall() == [(name,)]
        assert conn.execute("SELECT sum(incidents) FROM app.incident_counts").fetchone() == \
            (INCIDENTS_PER_TENANT[name],)


def test_a_tenant_cannot_touch_another_tenants_rows(seeded) -> None:
    acme, globex = TENANTS["acme"], TENANTS["globex"]
    with app_session(seeded["app"], acme) as conn:
        assert conn.execute("UPDATE app.incidents SET title = 'hijacked' WHERE tenant_id = %s", (globex,)).rowcount == 0
        assert conn.execute("DELETE FROM app.incidents WHERE tenant_id = %s", (globex,)).rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO app.incidents (tenant_id, title, severity) VALUES (%s, 'planted', 1)", (globex,))
        # Moving one of its own rows into another tenant is refused too (WITH CHECK).
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("UPDATE app.incidents SET tenant_id = %s WHERE id = (SELECT min(id) FROM app.incidents)",
                         (globex,))
    with app_session(seeded["app"], globex) as conn:
        titles = [r[0] for r in conn.execute("SELECT title FROM app.incidents")]
        assert len(titles) == INCIDENTS_PER_TENANT["globex"] and "hijacked" not in titles and "planted" not in titles


def test_a_tenant_writes_its_own_rows(seeded) -> None:
    initech = TENANTS["initech"]
    with app_session(seeded["app"], initech) as conn:
        with conn.transaction():
            (new_id,) = conn.execute("INSERT INTO app.incidents (tenant_id, title, severity) VALUES (%s, 'new', 2) "
                                     "RETURNING id", (initech,)).fetchone()
            assert conn.execute("UPDATE app.incidents SET severity = 3 WHERE id = %s", (new_id,)).rowcount == 1
            assert conn.execute("DELETE FROM app.incidents WHERE id = %s", (new_id,)).rowcount == 1


def test_a_malformed_tenant_fails_instead_of_matching(seeded) -> None:
    with app_session(seeded["app"], "not-a-uuid' OR true --") as conn:
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            conn.execute("SELECT count(*) FROM app.incidents")


@pytest.mark.parametrize("statement,error", [
    ("SET ROLE hse_owner", psycopg.errors.InsufficientPrivilege),
    ("SET ROLE postgres", psycopg.errors.InsufficientPrivilege),
    ("SET SESSION AUTHORIZATION postgres", psycopg.errors.InsufficientPrivilege),
    ("ALTER TABLE app.incidents DISABLE ROW LEVEL SECURITY", psycopg.errors.InsufficientPrivilege),
    ("ALTER TABLE app.incidents NO FORCE ROW LEVEL SECURITY", psycopg.errors.InsufficientPrivilege),
    ("DROP POLICY tenant_select ON app.incidents", psycopg.errors.InsufficientPrivilege),
    ("CREATE VIEW app.everything AS SELECT * FROM app.incidents", psycopg.errors.InsufficientPrivilege),
    ("CREATE VIEW public.everything AS SELECT * FROM app.incidents", psycopg.errors.InsufficientPrivilege),
    ("CREATE FUNCTION app.peek() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM app.incidents'",
     psycopg.errors.InsufficientPrivilege),
    ("CREATE TEMP VIEW everything AS SELECT * FROM app.incidents", None),
])
def test_the_application_role_has_no_way_around_the_policies(seeded, statement, error) -> None:
    with app_session(seeded["app"], TENANTS["acme"]) as conn:
        if error is not None:
            with pytest.raises(error):
                conn.execute(statement)
        else:
            # What the role may create (a temporary view) runs with its own rights: still filtered.
            conn.execute(statement)
            assert {r[0] for r in conn.execute("SELECT tenant_id FROM everything")} == {TENANTS["acme"]}


def test_turning_row_security_off_fails_rather_than_bypassing(seeded) -> None:
    with app_session(seeded["app"], TENANTS["acme"]) as conn:
        conn.execute("SET row_security = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("SELECT count(*) FROM app.incidents")


def test_the_roles_are_what_the_isolation_relies_on(seeded) -> None:
    with psycopg.connect(seeded["admin"]) as conn:
        rows = conn.execute("SELECT rolname, rolsuper, rolbypassrls, rolcanlogin FROM pg_roles "
                            "WHERE rolname IN ('hse_app', 'hse_owner', 'app_login') ORDER BY rolname").fetchall()
        assert rows == [("app_login", False, False, True), ("hse_app", False, False, False),
                        ("hse_owner", False, False, False)]
        owners = conn.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'app'").fetchall()
        assert owners == [("hse_owner",)]
        forced = conn.execute("SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                              "WHERE relnamespace = 'app'::regnamespace AND relkind = 'r' ORDER BY relname").fetchall()
        assert forced == [("incidents", True, True), ("organizations", True, True), ("users", True, True)]
        policies = conn.execute("SELECT tablename, cmd FROM pg_policies WHERE schemaname = 'app' "
                                "ORDER BY tablename, cmd").fetchall()
        assert policies == [(t, c) for t in ("incidents", "organizations", "users")
                            for c in ("DELETE", "INSERT", "SELECT", "UPDATE")]


def test_many_tenants_in_concurrent_sessions_never_see_each_other(seeded) -> None:
    """Threads with their own connections, each switching tenants per transaction as a pooled app does."""
    threads, queries_per_thread = 16, 400
    seen = {"queries": 0, "rows": 0, "cross_tenant_rows": 0}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        queries = rows = cross = 0
        try:
            # Autocommit, so that each `transaction()` is a real transaction and not a savepoint of
            # an implicit one: a local setting lasts until the end of the outermost transaction.
            with psycopg.connect(seeded["app"], autocommit=True) as conn:
                for _ in range(queries_per_thread):
                    name = rng.choice(sorted(TENANTS))
                    with conn.transaction():
                        # SET LOCAL semantics: the tenant lasts for this transaction only.
                        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(TENANTS[name]),))
                        result = conn.execute("SELECT tenant_id FROM app.incidents").fetchall()
                    queries += 1
                    rows += len(result)
                    cross += sum(1 for (tenant,) in result if tenant != TENANTS[name])
                    # Outside the transaction the setting is gone again.
                    if conn.execute("SELECT count(*) FROM app.incidents").fetchone() != (0,):
                        cross += 1
                    queries += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        with lock:
            seen["queries"] += queries
            seen["rows"] += rows
            seen["cross_tenant_rows"] += cross

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=300)
    print(f"\nRLS concurrency: {threads} sessions, {seen['queries']} queries tried, {seen['rows']} rows returned, "
          f"{seen['cross_tenant_rows']} cross-tenant rows seen")
    assert errors == []
    assert seen["queries"] == threads * queries_per_thread * 2
    assert seen["rows"] > 0 and seen["cross_tenant_rows"] == 0


# -- the migration runner ------------------------------------------------------------------
def test_applying_again_changes_nothing(seeded) -> None:
    with psycopg.connect(seeded["admin"]) as conn:
        assert apply(conn) == []
        assert conn.execute("SELECT version, name FROM public.schema_migrations ORDER BY version").fetchall() == \
            [(1, "0001_tenant_isolation.sql"), (2, "0002_region_is_any_stack.sql")]


def test_an_edited_applied_migration_stops_the_run(seeded, tmp_path: Path) -> None:
    edited = tmp_path / "migrations"
    edited.mkdir()
    for migration in discover(MIGRATIONS):
        (edited / migration.path.name).write_text(migration.sql + "\n-- edited\n")
    with psycopg.connect(seeded["admin"]) as conn:
        with pytest.raises(MigrationError, match="0001_tenant_isolation.sql changed after it was applied"):
            apply(conn, edited)


@pytest.mark.parametrize("files,message", [
    (["1_short.sql"], "1_short.sql: migration files are named NNNN_<what>.sql"),
    (["0002_a.sql", "0002_b.sql"], "0002_b.sql: version 2 is also 0002_a.sql"),
])
def test_misnamed_or_repeated_migrations_are_refused(tmp_path: Path, files, message) -> None:
    for name in files:
        (tmp_path / name).write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=message.replace("<", ".").replace(">", ".")):
        discover(tmp_path)


def test_a_tenant_may_be_homed_in_any_stack_and_only_a_stack_name(tenant_db) -> None:
    import re

    from infra.config.base import STACK_NAME

    # The database's rule is the stack files' rule, character for character.
    sql = (MIGRATIONS / "0002_region_is_any_stack.sql").read_text()
    assert re.search(r"CHECK \(region ~ '([^']+)'\)", sql).group(1) == STACK_NAME.pattern
    with psycopg.connect(tenant_db["admin"]) as conn:
        for region in ("au", "us-east", "a" * 20):  # the README's fourth region; both ends of the length
            tenant = uuid.uuid4()
            conn.execute("INSERT INTO app.organizations (tenant_id, name, region) VALUES (%s, 'x', %s)",
                         (tenant, region))
            conn.execute("DELETE FROM app.organizations WHERE tenant_id = %s", (tenant,))
        for region in ("US-East", "us_east", "a", "a" * 21, "us-east-", ""):
            with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
                conn.execute("INSERT INTO app.organizations (tenant_id, name, region) VALUES (%s, 'x', %s)",
                             (uuid.uuid4(), region))

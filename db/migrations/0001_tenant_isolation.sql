-- Tenant isolation with PostgreSQL row-level security.
--
-- One shared database; every tenant-scoped row carries its tenant_id. The application
-- connects as a member of hse_app, which owns nothing, cannot create anything, and
-- sees and writes only the rows of the tenant named in the setting app.tenant_id
-- (set per transaction: SET LOCAL app.tenant_id = '<uuid>'). With no tenant set, a
-- session sees no row and can write none. The tables are owned by hse_owner, a role
-- nobody logs in as; FORCE ROW LEVEL SECURITY makes the policies bind the owner too.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hse_owner') THEN
        CREATE ROLE hse_owner NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hse_app') THEN
        CREATE ROLE hse_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;
-- The migrating user (the RDS master user) creates objects as hse_owner.
GRANT hse_owner TO CURRENT_USER;

CREATE SCHEMA app AUTHORIZATION hse_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON SCHEMA app FROM PUBLIC;
GRANT USAGE ON SCHEMA app TO hse_app;

SET ROLE hse_owner;

-- The tenant of the current transaction (NULL when none is set: then nothing matches).
-- A malformed value fails the query instead of matching anything.
CREATE FUNCTION app.current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE TABLE app.organizations (
    tenant_id  uuid PRIMARY KEY,
    name       text NOT NULL,
    region     text NOT NULL CHECK (region IN ('us-east', 'eu-west', 'ap-se')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE app.users (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES app.organizations (tenant_id),
    email      text NOT NULL,
    UNIQUE (tenant_id, email),
    UNIQUE (tenant_id, id)  -- lets other tables reference a user of their own tenant
);

CREATE TABLE app.incidents (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES app.organizations (tenant_id),
    reported_by bigint,
    title       text NOT NULL,
    severity    smallint NOT NULL CHECK (severity BETWEEN 1 AND 5),
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, reported_by) REFERENCES app.users (tenant_id, id) DEFERRABLE
);
CREATE INDEX incidents_tenant_created ON app.incidents (tenant_id, created_at DESC);

-- A reporting view that runs with the caller's rights, so the policies apply to it.
CREATE VIEW app.incident_counts WITH (security_invoker = true) AS
    SELECT tenant_id, severity, count(*) AS incidents FROM app.incidents GROUP BY tenant_id, severity;

-- Every tenant-scoped table: RLS on, forced, one policy per command.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['organizations', 'users', 'incidents'] LOOP
        EXECUTE format('ALTER TABLE app.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE app.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_select ON app.%I FOR SELECT USING (tenant_id = app.current_tenant())', t);
        EXECUTE format('CREATE POLICY tenant_insert ON app.%I FOR INSERT WITH CHECK (tenant_id = app.current_tenant())', t);
        EXECUTE format('CREATE POLICY tenant_update ON app.%I FOR UPDATE USING (tenant_id = app.current_tenant()) '
                       'WITH CHECK (tenant_id = app.current_tenant())', t);
        EXECUTE format('CREATE POLICY tenant_delete ON app.%I FOR DELETE USING (tenant_id = app.current_tenant())', t);
    END LOOP;
END
$$;

RESET ROLE;

GRANT SELECT, INSERT, UPDATE, DELETE ON app.organizations, app.users, app.incidents TO hse_app;
GRANT SELECT ON app.incident_counts TO hse_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA app TO hse_app;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA app FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.current_tenant() TO hse_app;

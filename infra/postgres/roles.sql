-- Roles for dealerhub on PostgreSQL (run once by a superuser, e.g. from
-- docker-entrypoint-initdb.d). Passwords here are for the local full stack only;
-- production sets its own.
--   dealerhub_owner  owns the tables and runs migrations
--   dealerhub_app    what the API, worker and scheduler connect as: owns nothing and
--                    cannot bypass row-level security
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dealerhub_owner') THEN
    CREATE ROLE dealerhub_owner LOGIN PASSWORD 'dealerhub_owner' NOSUPERUSER NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dealerhub_app') THEN
    CREATE ROLE dealerhub_app LOGIN PASSWORD 'dealerhub_app' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END
$$;

SELECT 'CREATE DATABASE dealerhub OWNER dealerhub_owner'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'dealerhub') \gexec

\connect dealerhub
\ir app_grants.sql

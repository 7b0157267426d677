-- The orders query side's two roles and their database, run as a superuser by psql (the local
-- stack on every start, docker compose's postgres image on its first): the psql variables role,
-- owner and database name them, PGPROVISION_PASSWORD and PGPROVISION_OWNER_PASSWORD in the
-- environment hold the passwords (never on a command line). Idempotent.
--
-- The owner owns the database, its schema and every table and runs the migrations. The role the
-- service works as owns nothing and may create nothing, so it can neither alter, drop nor
-- disable the triggers of a table (the audit log's append-only one); the migrations grant it
-- what it may do (orders.service_role).
\getenv password PGPROVISION_PASSWORD
\getenv owner_password PGPROVISION_OWNER_PASSWORD
SELECT format('CREATE ROLE %I', name) FROM unnest(ARRAY[:'role', :'owner']) AS name
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name)
\gexec
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
ALTER ROLE :"owner" WITH LOGIN NOSUPERUSER CREATEDB NOCREATEROLE PASSWORD :'owner_password';
-- The owner may end the service role's sessions: DROP DATABASE ... WITH (FORCE) needs that.
SELECT format('GRANT %I TO %I', :'role', :'owner')
 WHERE NOT pg_has_role(:'owner', :'role', 'MEMBER')
\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database')
\gexec
\connect :"database"
-- A database from before the two roles: the service role owned it and every table.
REASSIGN OWNED BY :"role" TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

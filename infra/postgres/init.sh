#!/bin/sh
# First-run initialisation for the postgres:15 image (mounted into
# /docker-entrypoint-initdb.d/; runs only when the data volume is empty).
#
# One login role, "citystat", owning one database per service. Each service connects to
# its own database only; PUBLIC loses CONNECT so no other role wanders in. As the owner,
# the role can create tables in each database's public schema (PostgreSQL 15 no longer
# lets PUBLIC do that).
#
# Needs CITYSTAT_DB_PASSWORD; POSTGRES_USER / POSTGRES_DB come from the image. Written to
# work whether the entrypoint executes it or sources it (it does the latter when the file
# is not executable), hence no "exit" and no shell options that would leak.

psql -v ON_ERROR_STOP=1 \
     --username "${POSTGRES_USER:-postgres}" \
     --dbname "${POSTGRES_DB:-postgres}" \
     -v citystat_password="${CITYSTAT_DB_PASSWORD:?CITYSTAT_DB_PASSWORD must be set}" <<'SQL'
SELECT 'CREATE ROLE citystat LOGIN'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'citystat')\gexec
ALTER ROLE citystat WITH LOGIN PASSWORD :'citystat_password';

SELECT format('CREATE DATABASE %I OWNER citystat ENCODING %L TEMPLATE template0', name, 'UTF8')
FROM unnest(ARRAY['citystat_metrics', 'citystat_ingest', 'citystat_reporting']) AS name
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name)\gexec

REVOKE CONNECT, TEMPORARY ON DATABASE citystat_metrics, citystat_ingest, citystat_reporting FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE citystat_metrics, citystat_ingest, citystat_reporting TO citystat;
SQL

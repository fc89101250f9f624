#!/bin/sh
# One-shot (compose service temporal-schema, image temporalio/admin-tools): create Temporal's two
# PostgreSQL databases and bring their schemas to the version of the admin-tools image, before
# the server starts. It runs on every `docker compose up`: on an existing database it only
# applies the migrations a newer image brings, which is how an upgrade gets its schema.
#
# Connection from the environment, in temporal-sql-tool's own variables: SQL_PLUGIN, SQL_HOST,
# SQL_PORT, SQL_USER, SQL_PASSWORD (the password never appears on a command line).
set -eu

: "${SQL_HOST:?SQL_HOST: the PostgreSQL host}"
: "${SQL_USER:?SQL_USER: the PostgreSQL user}"
: "${SQL_PASSWORD:?SQL_PASSWORD: the PostgreSQL password}"
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) versioned="$SCHEMA_DIR/temporal/versioned" ;;
    *) versioned="$SCHEMA_DIR/visibility/versioned" ;;
  esac
  echo "temporal-schema: database $db"
  # Tolerated: the database usually exists already (every start after the first). A real
  # failure (wrong password, host unreachable) stops the next command, which needs the same
  # connection, with its own error.
  temporal-sql-tool --db "$db" create-database \
    || echo "temporal-schema: create-database $db failed (it may exist already); going on"
  # Version tables and version 0.0 on a new database; on an existing one a no-op (the tool
  # never lowers a recorded version).
  temporal-sql-tool --db "$db" setup-schema -v 0.0
  # Every migration between the recorded version and this image's.
  temporal-sql-tool --db "$db" update-schema -d "$versioned"
done
echo "temporal-schema: done"

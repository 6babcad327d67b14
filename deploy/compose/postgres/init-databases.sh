#!/usr/bin/env bash
# Runs once, when the Postgres volume is empty (docker-entrypoint-initdb.d): one database per
# concern on one server (VOICEOPS_DATABASES, space-separated), owned by POSTGRES_USER.
set -euo pipefail
for database in ${VOICEOPS_DATABASES}; do
  echo "init-databases: creating ${database}"
  psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --dbname postgres \
    -c "CREATE DATABASE \"${database}\" OWNER \"${POSTGRES_USER}\""
done

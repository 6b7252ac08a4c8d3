#!/usr/bin/env bash
# PostgreSQL 15 (Debian 12's package) for the store's dual-dialect tests: installs it if missing,
# starts the cluster, creates a test role and database, and tells the tests where it is through
# KTRIAGE_TEST_PG. Idempotent: re-running keeps the role and database.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get install -y -qq postgresql >/dev/null
fi
ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$ver main"; then
  pg_createcluster "$ver" main
fi
# Many engineers share the machine: allow enough connections for 8 writers + 3 workers + tests.
conf="/etc/postgresql/$ver/main/conf.d/ktriage.conf"
if [ ! -f "$conf" ]; then
  mkdir -p "$(dirname "$conf")"
  printf 'max_connections = 200\nfsync = on\n' >"$conf"
fi
pg_ctlcluster "$ver" main start 2>/dev/null || true
for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 0.5
done
pg_isready -h 127.0.0.1 -p 5432
user=ktriage
pass=ktriage
db=ktriage_test
su postgres -c "psql -v ON_ERROR_STOP=1 -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$user'\"" | grep -q 1 ||
  su postgres -c "psql -v ON_ERROR_STOP=1 -qc \"CREATE ROLE $user LOGIN PASSWORD '$pass' CREATEDB\""
su postgres -c "psql -v ON_ERROR_STOP=1 -qtAc \"SELECT 1 FROM pg_database WHERE datname='$db'\"" | grep -q 1 ||
  su postgres -c "psql -v ON_ERROR_STOP=1 -qc \"CREATE DATABASE $db OWNER $user\""
# Tests drop their databases WITH (FORCE); an autovacuum worker on them can only be signalled by
# a member of pg_signal_backend.
su postgres -c "psql -v ON_ERROR_STOP=1 -qc \"GRANT pg_signal_backend TO $user\"" >/dev/null
url="postgres://$user:$pass@127.0.0.1:5432/$db"
if [ -n "${KTRIAGE_CI_ENV:-}" ]; then
  echo "export KTRIAGE_TEST_PG=$url" >>"$KTRIAGE_CI_ENV"
fi
echo "PostgreSQL $ver up: KTRIAGE_TEST_PG=$url"

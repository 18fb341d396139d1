# Sourced by .ci/run: a throwaway PostgreSQL server on loopback for the tests that run
# against PostgreSQL (TEST_POSTGRES_URL), stopped and removed when the run ends.
if [ ! -d /usr/lib/postgresql ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi
pg_bin="/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -V | tail -n 1)/bin"
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pg_dir=$(mktemp -d)
chown postgres "$pg_dir"
# PostgreSQL refuses to run as root: its own user runs it.
as_postgres() { su postgres -s /bin/sh -c "$*"; }
as_postgres "'$pg_bin/initdb' -D '$pg_dir/data' -A trust -U postgres" >/dev/null
# A throwaway server: no durability is needed, so nothing waits for the disk (the
# PostgreSQL pass of the suite creates and drops a database for every test server).
as_postgres "'$pg_bin/pg_ctl' -D '$pg_dir/data' -l '$pg_dir/log' -w \
  -o '-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off' start" >/dev/null
stop_postgres() {
  as_postgres "'$pg_bin/pg_ctl' -D '$pg_dir/data' -m fast -w stop" >/dev/null || true
  rm -rf "$pg_dir"
}
trap stop_postgres EXIT
as_postgres "'$pg_bin/psql' -q -h 127.0.0.1 -p $pg_port -U postgres -c 'CREATE DATABASE ess_test'"
export TEST_POSTGRES_URL="postgresql+asyncpg://postgres@127.0.0.1:$pg_port/ess_test"

# Sourced by .ci/run: a throwaway PostgreSQL 15 server for the database tests, listening on
# 127.0.0.1 (a free port) only, with its data dir, unix socket and log in a fresh `mktemp -d`
# directory. Runs as the postgres OS user when root (initdb and postgres refuse root); installs
# postgresql-15 with apt only when its binaries are missing. Logins over TCP are scram-sha-256:
#   atlas           LOGIN CREATEDB, a password with awkward characters (the one tests use)
#   atlas_nocreate  LOGIN without CREATEDB (for "may not create a database")
# and the superuser postgres exists only over the unix socket (trust).
#   Exports: GIT_ATLAS_TEST_POSTGRES=postgresql://atlas:<percent-encoded password>@127.0.0.1:<port>
#            GIT_ATLAS_TEST_POSTGRES_NOCREATE=postgresql://atlas_nocreate:<…>@127.0.0.1:<port>
#            (neither names a database), GIT_ATLAS_TEST_PG_BIN (initdb, pg_ctl, psql, … for
#            tests that start a cluster of their own).
#   Stops the server and removes its directory on EXIT, through .ci/run's git_atlas_cleanups
#   (the server log is kept as ${TMPDIR:-/tmp}/git-atlas-postgres.log).
GIT_ATLAS_TEST_PG_BIN=${GIT_ATLAS_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}
GIT_ATLAS_PG_PASSWORD=$'pw with \'q\' "dq" :@/%?#'
GIT_ATLAS_PG_NOCREATE_PASSWORD=$'no create: \'q\' "dq" @/%'
GIT_ATLAS_PG_DIR=

git_atlas_pg_step() { echo "postgres-setup: $* (t=${SECONDS}s)"; }

# "$@" as the postgres OS user when root, else as ourselves; in the server's directory, as the
# postgres user may not be able to enter the current one.
git_atlas_pg_as() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$GIT_ATLAS_PG_DIR" && runuser -u postgres -- "$@")
  else
    (cd "$GIT_ATLAS_PG_DIR" && "$@")
  fi
}

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # git_atlas_urlencode, git_atlas_hand_dir_to

git_atlas_postgres_stop() {
  [ -n "${GIT_ATLAS_PG_DIR:-}" ] || return 0
  local dir=$GIT_ATLAS_PG_DIR
  if [ -f "$dir/data/postmaster.pid" ]; then
    git_atlas_pg_as "$GIT_ATLAS_TEST_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop \
      >/dev/null 2>&1 \
      || git_atlas_pg_as "$GIT_ATLAS_TEST_PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop \
        >/dev/null 2>&1 || true
  fi
  GIT_ATLAS_PG_DIR=
  [ -f "$dir/postgres.log" ] && cp "$dir/postgres.log" "${TMPDIR:-/tmp}/git-atlas-postgres.log"
  rm -rf "$dir"
  echo "postgres-setup: server stopped (log: ${TMPDIR:-/tmp}/git-atlas-postgres.log)"
}

git_atlas_postgres_setup() {
  local t0=$SECONDS bin=$GIT_ATLAS_TEST_PG_BIN dir port p
  # 1. packages (apt only when the server binaries are missing; nothing is started by apt here)
  if [ ! -x "$bin/initdb" ]; then
    git_atlas_pg_step "apt-get install postgresql-15"
    local aptlog
    aptlog=$(mktemp)
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
             --no-install-recommends postgresql-15 postgresql-client-15; } >"$aptlog" 2>&1; then
      cat "$aptlog" >&2; rm -f "$aptlog"; return 1
    fi
    rm -f "$aptlog"
  fi

  # 2. a directory the postgres user owns and can reach
  dir=$(mktemp -d "${TMPDIR:-/tmp}/git-atlas-postgres.XXXXXX")
  GIT_ATLAS_PG_DIR=$dir
  git_atlas_cleanups+=(git_atlas_postgres_stop)
  git_atlas_hand_dir_to "$dir" postgres

  # 3. cluster: superuser postgres (trust on the socket), scram-sha-256 over TCP
  git_atlas_pg_step "initdb $dir/data"
  if ! git_atlas_pg_as "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C --no-sync \
         --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1; then
    echo "postgres-setup: initdb failed:" >&2; cat "$dir/initdb.log" >&2; return 1
  fi

  # 4. server on a free loopback port (fsync off: the data is thrown away)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  git_atlas_pg_step "starting postgres on 127.0.0.1:$port (log: $dir/postgres.log)"
  local opts="-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir'"
  opts+=" -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
  if ! git_atlas_pg_as "$bin/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/postgres.log" -o "$opts" \
         start >/dev/null; then
    echo "postgres-setup: postgres did not come up; its log:" >&2
    tail -n 60 "$dir/postgres.log" >&2
    return 1
  fi

  # 5. roles (the SQL goes on stdin: no password on any command line)
  local q="'" qq="''"
  if ! "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres \
         >/dev/null <<SQL
CREATE ROLE atlas LOGIN CREATEDB PASSWORD '${GIT_ATLAS_PG_PASSWORD//$q/$qq}';
CREATE ROLE atlas_nocreate LOGIN PASSWORD '${GIT_ATLAS_PG_NOCREATE_PASSWORD//$q/$qq}';
SQL
  then
    echo "postgres-setup: could not create the roles" >&2; return 1
  fi
  # Both log in over TCP with their passwords.
  local role pw me
  for role in atlas atlas_nocreate; do
    pw=$GIT_ATLAS_PG_PASSWORD
    [ "$role" = atlas ] || pw=$GIT_ATLAS_PG_NOCREATE_PASSWORD
    me=$(PGPASSWORD=$pw "$bin/psql" -X -A -t -h 127.0.0.1 -p "$port" -U "$role" -d postgres \
           -c 'SELECT current_user' </dev/null) || true
    if [ "$me" != "$role" ]; then
      echo "postgres-setup: $role cannot log in over TCP" >&2; return 1
    fi
  done

  GIT_ATLAS_TEST_POSTGRES="postgresql://atlas:$(git_atlas_urlencode "$GIT_ATLAS_PG_PASSWORD")@127.0.0.1:$port"
  GIT_ATLAS_TEST_POSTGRES_NOCREATE="postgresql://atlas_nocreate:$(git_atlas_urlencode "$GIT_ATLAS_PG_NOCREATE_PASSWORD")@127.0.0.1:$port"
  export GIT_ATLAS_TEST_POSTGRES GIT_ATLAS_TEST_POSTGRES_NOCREATE GIT_ATLAS_TEST_PG_BIN
  git_atlas_pg_step "ready: $("$bin/postgres" --version), 127.0.0.1:$port, setup took $((SECONDS - t0))s"
}

git_atlas_postgres_setup

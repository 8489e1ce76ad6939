# Sourced by .ci/run: a throwaway MariaDB server (Debian 12's mariadb-server) for the database
# tests, listening on 127.0.0.1 (a free port) only, with its data dir, socket and log in a fresh
# `mktemp -d` directory. Installs mariadb-server + mariadb-client with apt when `mariadbd` is
# missing (apt starts nothing here, as policy-rc.d forbids it; the /var/lib/mysql it sets up
# stays unused, as our server reads no config file). Runs as the mysql OS user when root. Users:
#   atlas@127.0.0.1, atlas@localhost  ALL PRIVILEGES ON *.*, a password with awkward characters
# and root@localhost only over the socket (unix_socket auth).
#   Exports: GIT_ATLAS_TEST_MARIADB=mysql://atlas:<percent-encoded password>@127.0.0.1:<port>
#            (no database).
#   Stops the server and removes its directory on EXIT, through .ci/run's git_atlas_cleanups
#   (the server log is kept as ${TMPDIR:-/tmp}/git-atlas-mariadb.log).
GIT_ATLAS_MARIADB_PASSWORD=$'my pw \'q\' "dq" :@/%?#'
GIT_ATLAS_MARIADB_DIR=
GIT_ATLAS_MARIADB_PID=

git_atlas_mariadb_step() { echo "mariadb-setup: $* (t=${SECONDS}s)"; }

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # git_atlas_urlencode, git_atlas_hand_dir_to, git_atlas_wait_for

# `$1 …` (mariadb or mariadb-admin) as the server's own superuser over its socket, where
# root@localhost authenticates by OS user; at most $GIT_ATLAS_MARIADB_TIMEOUT seconds.
git_atlas_mariadb_root() {
  timeout "${GIT_ATLAS_MARIADB_TIMEOUT:-30}" "$1" --no-defaults \
    --socket="$GIT_ATLAS_MARIADB_DIR/mysqld.sock" -u "$(id -un)" "${@:2}"
}

git_atlas_mariadb_stop() {
  [ -n "${GIT_ATLAS_MARIADB_DIR:-}" ] || return 0
  local dir=$GIT_ATLAS_MARIADB_DIR pid=$GIT_ATLAS_MARIADB_PID i
  if [ -n "$pid" ]; then
    git_atlas_mariadb_root mariadb-admin --connect-timeout=5 shutdown >/dev/null 2>&1 \
      || kill "$pid" 2>/dev/null || true
    for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    [ -f "$dir/mysqld.pid" ] && { kill -9 "$(cat "$dir/mysqld.pid")" 2>/dev/null || true; }
    wait "$pid" 2>/dev/null || true
  fi
  GIT_ATLAS_MARIADB_DIR=
  GIT_ATLAS_MARIADB_PID=
  [ -f "$dir/mariadbd.log" ] && cp "$dir/mariadbd.log" "${TMPDIR:-/tmp}/git-atlas-mariadb.log"
  rm -rf "$dir"
  echo "mariadb-setup: server stopped (log: ${TMPDIR:-/tmp}/git-atlas-mariadb.log)"
}

git_atlas_mariadb_setup() {
  local t0=$SECONDS dir port p i user=() sock
  # 1. packages
  if ! command -v mariadbd >/dev/null; then
    git_atlas_mariadb_step "apt-get install mariadb-server mariadb-client"
    local aptlog
    aptlog=$(mktemp)
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
             --no-install-recommends mariadb-server mariadb-client; } >"$aptlog" 2>&1; then
      cat "$aptlog" >&2; rm -f "$aptlog"; return 1
    fi
    rm -f "$aptlog"
  fi

  # 2. a directory the mysql user owns and can reach
  dir=$(mktemp -d "${TMPDIR:-/tmp}/git-atlas-mariadb.XXXXXX")
  GIT_ATLAS_MARIADB_DIR=$dir
  git_atlas_cleanups+=(git_atlas_mariadb_stop)
  sock=$dir/mysqld.sock
  git_atlas_hand_dir_to "$dir" mysql
  [ "$(id -u)" -ne 0 ] || user=(runuser -u mysql --)

  # 3. system tables (no config files read: /etc/mysql's datadir, socket and port stay unused)
  git_atlas_mariadb_step "mariadb-install-db $dir/data"
  if ! (cd "$dir" && mariadb-install-db --no-defaults ${user:+--user=mysql} --datadir="$dir/data" \
          --skip-test-db) >"$dir/install-db.log" 2>&1; then
    echo "mariadb-setup: mariadb-install-db failed:" >&2; cat "$dir/install-db.log" >&2; return 1
  fi

  # 4. server on a free loopback port, in the background
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  git_atlas_mariadb_step "starting mariadbd on 127.0.0.1:$port (log: $dir/mariadbd.log)"
  (cd "$dir" && exec "${user[@]}" mariadbd --no-defaults --datadir="$dir/data" --port="$port" \
     --bind-address=127.0.0.1 --socket="$sock" --pid-file="$dir/mysqld.pid" \
     --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=0 --skip-innodb-doublewrite) \
    </dev/null >"$dir/mariadbd.log" 2>&1 &
  GIT_ATLAS_MARIADB_PID=$!
  GIT_ATLAS_MARIADB_TIMEOUT=5 git_atlas_wait_for mariadb-setup mariadbd "$GIT_ATLAS_MARIADB_PID" \
    "$dir/mariadbd.log" git_atlas_mariadb_root mariadb-admin --connect-timeout=2 ping || return 1

  # 5. users (the SQL goes on stdin: no password on any command line)
  local pw=${GIT_ATLAS_MARIADB_PASSWORD//\\/\\\\} q="'" qq="''"
  pw=${pw//$q/$qq}
  if ! git_atlas_mariadb_root mariadb >/dev/null <<SQL
CREATE USER 'atlas'@'127.0.0.1' IDENTIFIED BY '$pw';
CREATE USER 'atlas'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON *.* TO 'atlas'@'127.0.0.1', 'atlas'@'localhost';
SQL
  then
    echo "mariadb-setup: could not create the users" >&2; return 1
  fi
  # atlas logs in over TCP with its password (as atlas@localhost: 127.0.0.1 resolves to it).
  local me
  me=$(MYSQL_PWD=$GIT_ATLAS_MARIADB_PASSWORD mariadb --no-defaults --protocol=TCP -h 127.0.0.1 \
         -P "$port" -u atlas -N -B -e 'SELECT USER()' </dev/null) || true
  if [ "${me%%@*}" != atlas ]; then
    echo "mariadb-setup: atlas cannot log in over TCP (got '$me')" >&2; return 1
  fi

  GIT_ATLAS_TEST_MARIADB="mysql://atlas:$(git_atlas_urlencode "$GIT_ATLAS_MARIADB_PASSWORD")@127.0.0.1:$port"
  export GIT_ATLAS_TEST_MARIADB
  git_atlas_mariadb_step "ready: $(mariadbd --version | sed 's/^.*Ver //'), 127.0.0.1:$port, setup took $((SECONDS - t0))s"
}

git_atlas_mariadb_setup

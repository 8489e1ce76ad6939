#!/usr/bin/env bash
# git-atlas on a sample project: two worktrees side by side, each with its own ports, .env,
# .env.worktree and docker-compose.yml; then the hooks giving a plain `git worktree add` the same
# treatment, and removals. The sample files are in examples/sample/ (env is copied to .env).
#
# With Docker (a running daemon and Compose), each worktree also runs its own Compose project:
# `add --up`, `docker up`, `docker ps`, its web service answering on the worktree's own port, and
# `remove` tearing it down. With a PostgreSQL server, each worktree gets its own database, a copy
# of the main worktree's, shown with `db status` and psql, and dropped by `remove --drop-db`.
# Without them the demo runs the rest and says which steps it skipped, and why. It ends with a
# `Summary:` line, and exits non-zero as soon as a step that should work fails.
#
# Usage: examples/demo.sh [DIR]   (default: a new temporary directory; DIR/myapp must not exist)
# Needs git and git-atlas on PATH (`cargo install --path .`). Optional, from the environment:
#   DEMO_DATABASE_URL    the PostgreSQL server to show databases on (default: the sample's
#                        postgresql://app:secret@localhost:5432); its role must be allowed to
#                        create databases. The demo creates myapp_demo (the main worktree's) and
#                        one per worktree, and drops them all before it ends.
#   GIT_ATLAS_DEMO_IMAGE the image for the sample's web service, instead of busybox (any image
#                        with busybox in it; by default busybox, pulled if missing, or else the
#                        CI's git-atlas-test/busybox:latest when .ci/docker.sh has built it).
set -euo pipefail
sample=$(cd "$(dirname "$0")/sample" && pwd)
root=${1:-$(mktemp -d)}
command -v git-atlas >/dev/null || {
  echo "git-atlas is not on PATH: run \`cargo install --path .\` first (it installs into ~/.cargo/bin)" >&2
  exit 1
}
[ ! -e "$root/myapp" ] || { echo "$root/myapp already exists: give the demo a new directory" >&2; exit 1; }
mkdir -p "$root"
root=$(cd "$root" && pwd)
# git-atlas also records every repository's ports in a machine-wide lease file, so two projects
# never get the same port. Keep the demo's leases to itself: a throwaway sample project should not
# hold ports your real projects could use, and each run then gets the same ports.
export GIT_ATLAS_STATE_DIR=${GIT_ATLAS_STATE_DIR:-$root/state}

# Echo a command (quoted so that it can be pasted back), then run it.
show() {
  local a q="'" line=
  for a in "$@"; do
    case $a in
      '' | *[!A-Za-z0-9_./:=@%+,-]*) a="'${a//$q/$q\\$q$q}'" ;;
    esac
    line+=" $a"
  done
  printf '\n$%s\n' "$line"
}
run() { show "$@"; "$@"; }
note() { printf '\n# %s\n' "$*"; }
# `timeout` where there is one (not on macOS by default).
tmo() { if command -v timeout >/dev/null; then timeout "$@"; else shift; "$@"; fi; }
first_line() { printf '%s\n' "$1" | sed -e '/^[[:space:]]*$/d' -e 's/^psql: error: //' | head -n 1; }

skipped=''   # "; "-separated: what was skipped, and why
skip() {   # skip WHAT STEPS WHY
  printf '\nskipped: %s (%s): %s\n' "$1" "$2" "$3"
  skipped="${skipped:+$skipped; }$1, because $3"
}

# --- What this machine has: Docker, PostgreSQL ---------------------------------------------------
echo "Sample project: $root/myapp (leases: $GIT_ATLAS_STATE_DIR)"

docker_why='' image='' image_note='' fetcher=''
template_image=$(sed -n 's/^ *image: *//p' "$sample/docker-compose.worktree.template.yml" | head -n 1)
if ! command -v docker >/dev/null; then
  docker_why="Docker is not installed"
elif ! err=$(tmo 30 docker info 2>&1 >/dev/null); then
  case $err in
    *"permission denied"*) docker_why="the Docker daemon does not let $(id -un) in ($(first_line "$err"))" ;;
    *) docker_why="the Docker daemon is not running ($(first_line "$err"))" ;;
  esac
elif ! docker compose version >/dev/null 2>&1 && ! docker-compose version >/dev/null 2>&1; then
  docker_why="Docker Compose is not installed (neither \`docker compose\` nor \`docker-compose\` works)"
else
  want=${GIT_ATLAS_DEMO_IMAGE:-$template_image}
  if docker image inspect "$want" >/dev/null 2>&1; then
    image=$want
  elif show docker pull -q "$want" && pull_err=$(tmo 300 docker pull -q "$want" 2>&1); then
    image=$want
  elif [ -z "${GIT_ATLAS_DEMO_IMAGE:-}" ] &&
       docker image inspect git-atlas-test/busybox:latest >/dev/null 2>&1; then
    image=git-atlas-test/busybox:latest
    image_note="image $want is not available locally and cannot be pulled ($(first_line "$pull_err")); the demo's template uses $image instead (what .ci/docker.sh builds)"
  else
    docker_why="image $want is not available locally and cannot be pulled ($(first_line "${pull_err:-}")); set GIT_ATLAS_DEMO_IMAGE to a local image that has busybox"
  fi
  # An earlier demo run that was interrupted may have left its projects running.
  for project in myapp-feature-auth myapp-bugfix-login; do
    [ -z "$docker_why" ] || break
    if [ -n "$(docker ps -aq --filter "label=com.docker.compose.project=$project")" ]; then
      docker_why="containers of Compose project $project already exist (an interrupted demo run?); \`docker ps -a --filter label=com.docker.compose.project=$project\` lists them"
    fi
  done
  if command -v curl >/dev/null; then fetcher=curl
  elif command -v wget >/dev/null; then fetcher=wget
  elif command -v python3 >/dev/null; then fetcher=python3
  fi
fi
if [ -n "$docker_why" ]; then
  skip "Docker steps" "add --up, docker up, docker ps, each worktree's web service on its own port, the teardown by remove" "$docker_why"
fi
if [ -z "$docker_why" ] && [ -n "$image_note" ]; then printf '\nnote: %s\n' "$image_note"; fi

db_why='' db_main=myapp_demo
db_url=${DEMO_DATABASE_URL:-$(sed -n 's/^DATABASE_URL=//p' "$sample/env")}
# scheme://[user[:password]@]host[:port][/database][?query]
db_scheme=${db_url%%://*}
db_rest=${db_url#*://}
db_rest=${db_rest%%\?*}
db_authority=${db_rest%%/*}
db_user='' db_password=''
if [ "$db_authority" != "${db_authority#*@}" ]; then
  db_userinfo=${db_authority%@*}
  db_hostport=${db_authority##*@}
  db_user=${db_userinfo%%:*}
  [ "$db_userinfo" = "$db_user" ] || db_password=${db_userinfo#*:}
else
  db_hostport=$db_authority
fi
case $db_hostport in
  *:[0-9]*) db_where="${db_hostport%:*}:${db_hostport##*:}" ;;
  *) db_where="$db_hostport:5432" ;;
esac
# The password goes to psql and git-atlas in PGPASSWORD, so that no command line, no file and no
# line of this demo shows it; the URLs carry the user only.
db_server="$db_scheme://${db_user:+$db_user@}$db_hostport"
if [ "$db_url" = "$db_scheme" ] || { [ "$db_scheme" != postgresql ] && [ "$db_scheme" != postgres ]; }; then
  db_why="$([ -n "${DEMO_DATABASE_URL:-}" ] && echo DEMO_DATABASE_URL || echo "the sample's DATABASE_URL") is not a postgresql:// URL"
elif ! command -v psql >/dev/null || ! command -v pg_dump >/dev/null; then
  db_why="psql or pg_dump is not installed (install postgresql-client)"
else
  if [ -n "$db_password" ]; then
    # Percent-decoded, as in any URL.
    PGPASSWORD=$(printf '%b' "${db_password//%/\\x}")
    export PGPASSWORD
  fi
  if ! out=$(PGCONNECT_TIMEOUT=5 psql -wXAt -d "$db_server/postgres" -c \
      "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user;
       SELECT coalesce(string_agg(datname, ', '), '') FROM pg_database
        WHERE datname = '$db_main' OR datname LIKE '${db_main}\\_%'" 2>&1); then
    case $out in
      *"onnection refused"* | *"could not connect"* | *"No such file or directory"* | *"timeout expired"* | *"could not translate host name"*)
        db_why="no PostgreSQL accepts connections on $db_where" ;;
      *) db_why="PostgreSQL on $db_where refuses the demo's connection: $(first_line "$out")" ;;
    esac
  else
    may_create=$(printf '%s\n' "$out" | sed -n 1p)
    leftovers=$(printf '%s\n' "$out" | sed -n 2p)
    if [ "$may_create" != t ]; then
      db_why="role ${db_user:-$(id -un)} may not create databases on $db_where"
    elif [ -n "$leftovers" ]; then
      db_why="the server on $db_where already has $leftovers (left by an interrupted demo run?), and the demo creates and drops only databases of its own"
    fi
  fi
fi
if [ -n "$db_why" ]; then
  [ -n "${DEMO_DATABASE_URL:-}" ] || db_why="$db_why; set DEMO_DATABASE_URL to a server where the demo may create databases"
  skip "database steps" "each worktree's own database, a copy of main's, in db status and psql; remove --drop-db" "$db_why"
fi

# If a step fails, say what the demo leaves behind outside its directory.
on_exit() {
  local rc=$?
  [ "$rc" -ne 0 ] || return 0
  {
    printf '\ndemo.sh: a step failed (exit %s); nothing after it ran.\n' "$rc"
    if [ -z "$docker_why" ] || [ -z "$db_why" ]; then
      printf 'To take down what it started: cd %q && git atlas remove --force --all%s\n' \
        "$root/myapp" "$([ -n "$db_why" ] || echo ' --drop-db')"
    fi
    if [ -z "$db_why" ] && [ -n "${db_created:-}" ]; then
      printf "and: psql -w %s -c 'DROP DATABASE %s'\n" "$db_server/postgres" "$db_main"
    fi
    if [ -z "$db_why" ] && [ -n "$db_password" ]; then
      echo "(with the server's password in PGPASSWORD: the demo's URLs leave it out)"
    fi
  } >&2
}
trap on_exit EXIT

# --- The sample project ------------------------------------------------------------------------
mkdir "$root/myapp"
cd "$root/myapp"
git init -q -b main
git config user.name "git-atlas demo"
git config user.email "demo@example.com"
cp "$sample/env" .env
cp "$sample/.gitignore" "$sample/.env.worktree.template" "$sample/docker-compose.worktree.template.yml" .
files=(.gitignore .env.worktree.template docker-compose.worktree.template.yml)
if [ -n "$image" ] && [ "$image" != "$template_image" ]; then
  tmp=$(mktemp)
  IMAGE=$image awk '!done && /^ *image: / { sub(/image: .*/, "image: " ENVIRON["IMAGE"]); done = 1 } 1' \
    docker-compose.worktree.template.yml >"$tmp"
  mv "$tmp" docker-compose.worktree.template.yml
fi
if [ -z "$db_why" ]; then
  # One server for every worktree (its port stays main's, only the name changes), and each new
  # worktree's database a copy of main's.
  cat >.atlas.toml <<'EOF'
# Written by examples/demo.sh, which found a PostgreSQL server to show databases on.
[database]
shared_server = true   # every worktree's database lives in the main worktree's server
clone = true           # and starts as a copy of the main worktree's
EOF
  files+=(.atlas.toml)
  tmp=$(mktemp)
  URL="$db_server/$db_main?sslmode=disable" awk '/^DATABASE_URL=/ {
      print "# The demo'"'"'s server (the password, if any, is in PGPASSWORD):"
      print "DATABASE_URL=" ENVIRON["URL"]; next } 1' .env >"$tmp"
  mv "$tmp" .env
fi
git add "${files[@]}"
git commit -q -m "sample project"
run cat .env
if [ -z "$db_why" ]; then
  run cat .atlas.toml
  note "The main worktree's database, with one row:"
  db_created=1
  run psql -wX -d "$db_server/postgres" -c "CREATE DATABASE $db_main"
  # shellcheck disable=SC2016 # $DATABASE_URL is the worktree's, expanded by the sh that exec starts
  run git atlas exec -- sh -c 'psql -wX "$DATABASE_URL" -c "CREATE TABLE notes (id serial PRIMARY KEY, written_in text); INSERT INTO notes (written_in) VALUES (current_database())"'
fi

# --- Two worktrees -------------------------------------------------------------------------------
if [ -z "$docker_why" ]; then
  run git atlas add --up ../feature-auth
else
  run git atlas add ../feature-auth
fi
run git atlas add ../bugfix-login
run git atlas list
run cat ../feature-auth/.env
run cat ../feature-auth/.env.worktree
run cat ../feature-auth/docker-compose.yml
printf '\n$ cd ../feature-auth && git atlas ports\n'
(cd ../feature-auth && git atlas ports)

# --- Docker: each worktree's own Compose project -------------------------------------------------
if [ -z "$docker_why" ]; then
  note "feature-auth's project was started by add --up; bugfix-login's now:"
  run git atlas docker up bugfix-login
  run git atlas docker ps
  if [ -z "$fetcher" ]; then
    skip "fetching the web services" "curl http://127.0.0.1:PORT/ for each worktree" "none of curl, wget or python3 is installed"
  fi
  for wt in feature-auth bugfix-login; do
    [ -n "$fetcher" ] || break
    port=$(cd "../$wt" && git atlas ports --format '{app}')
    url="http://127.0.0.1:$port/"
    case $fetcher in
      curl) set -- curl -fsS "$url" ;;
      wget) set -- wget -qO- "$url" ;;
      python3) set -- python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' "$url" ;;
    esac
    show "$@"
    # Docker publishes the port before the server in the container listens: try for ~10 s.
    for _ in $(seq 1 40); do
      if "$@" 2>/dev/null; then continue 2; fi
      sleep 0.25
    done
    "$@"   # once more, with its error, which ends the demo
  done
fi

# --- Databases -----------------------------------------------------------------------------------
if [ -z "$db_why" ]; then
  run git atlas db status
  note "feature-auth's database started as a copy of main's; what it writes stays its own:"
  # shellcheck disable=SC2016 # $DATABASE_URL is the worktree's, expanded by the sh that exec starts
  run git atlas exec -w feature-auth -- sh -c 'psql -wX "$DATABASE_URL" -c "INSERT INTO notes (written_in) VALUES (current_database()); SELECT * FROM notes"'
  # shellcheck disable=SC2016
  run git atlas exec -w main -- sh -c 'psql -wX "$DATABASE_URL" -c "SELECT * FROM notes"'
fi

# --- Hooks, removal ------------------------------------------------------------------------------
drop=''
[ -n "$db_why" ] || drop=--drop-db
run git atlas hooks install
run git worktree add -q ../plain-git
run git atlas remove ${drop:+"$drop"} bugfix-login
run git atlas list

# --- What would outlive the demo's directory: containers, databases ------------------------------
if [ -z "$docker_why" ] || [ -z "$db_why" ]; then
  if [ -z "$db_why" ]; then
    note "Leaving nothing behind: the worktrees' databases$([ -n "$docker_why" ] || echo " and feature-auth's containers") go too."
    run git atlas remove --drop-db feature-auth plain-git
  else
    note "Leaving nothing behind: feature-auth's containers go too."
    run git atlas remove feature-auth
  fi
fi
if [ -z "$docker_why" ]; then
  run docker ps -a --filter label=com.docker.compose.project=myapp-feature-auth
  for project in myapp-feature-auth myapp-bugfix-login; do
    left="$(docker ps -aq --filter "label=com.docker.compose.project=$project")$(docker network ls -q --filter "name=$project-network")$(docker volume ls -q --filter "name=$project-data")"
    if [ -n "$left" ]; then
      echo "error: Compose project $project is still there after its worktree was removed:" >&2
      docker ps -a --filter "label=com.docker.compose.project=$project" >&2
      exit 1
    fi
  done
  echo "(no container, network or volume of myapp-feature-auth or myapp-bugfix-login is left)"
fi
if [ -z "$db_why" ]; then
  run git atlas db status
  note "git-atlas never drops the main worktree's database; the demo drops its own:"
  run psql -wX -d "$db_server/postgres" -c "DROP DATABASE $db_main"
  db_created=
  left=$(psql -wXAt -d "$db_server/postgres" -c \
    "SELECT string_agg(datname, ', ') FROM pg_database WHERE datname = '$db_main' OR datname LIKE '${db_main}\\_%'")
  if [ -n "$left" ]; then
    echo "error: databases left on $db_where: $left" >&2
    exit 1
  fi
  echo "(no database named $db_main or ${db_main}_* is left on $db_where)"
fi

printf '\nDone. Look around in %s (export GIT_ATLAS_STATE_DIR=%q to use the demo'"'"'s lease file there).\n' "$root" "$GIT_ATLAS_STATE_DIR"
printf 'To clean up: rm -rf %q\n' "$root"
shown="worktrees, ports, env files, hooks, remove"
[ -n "$docker_why" ] || shown="$shown, Docker"
[ -n "$db_why" ] || shown="$shown, databases"
printf '\nSummary: shown: %s. Skipped: %s.\n' "$shown" "${skipped:-nothing}"

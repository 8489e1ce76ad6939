#!/usr/bin/env bash
# How fast does a new worktree get what Git does not carry? Two tables.
#
# Files: `git atlas copy` of a 200 MB node_modules-like tree (npm's shape: 2,000 packages, each a
# package.json, ten modules and a bundle, and a .bin of symlinks; 24,200 files) named by
# .worktreeinclude, against `cp -a --reflink=auto` of the same folder, on each filesystem given:
#   copy      `git atlas copy <worktree>` vs `cp -a --reflink=auto`                     (≤ 1.1×)
#
# Databases (issue 20), on the PostgreSQL server of $GIT_ATLAS_TEST_POSTGRES (.ci/postgres.sh
# starts one), for a main database of 10 MB (generate_series) and of 500 MB (`pgbench -i -s 33`):
# `git atlas db create <worktree>` with `[database] shared_server = true, clone = true`, against
# what it does by hand with psql, the same login and no git-atlas:
#   main idle             vs `CREATE DATABASE … TEMPLATE main STRATEGY FILE_COPY`   (≤ 1.2×)
#   main connected        vs `CREATE DATABASE` + `pg_dump main | psql`              (≤ 1.0×)
#   connected, snapshot   vs `CREATE DATABASE … TEMPLATE <snapshot> STRATEGY FILE_COPY` (≤ 1.2×)
#   (today: pg_dump | psql vs the server's copy, for scale)
# "connected" is a psql session held open on main (as a dev server's); "snapshot" is main's
# `git atlas db snapshot`, taken while main was idle. Each run checks from git-atlas's note that
# it took the way its row names.
#
# Each run starts from a worktree without the folder or database (removed before it, not
# timed), A and B alternated run by run, 5 runs each (3 with --quick) after one warm-up of each;
# medians. Before each run (not timed): `sync`, and as root `echo 3 > /proc/sys/vm/drop_caches`
# and a second's pause, so that both start from the same cold page cache and neither pays for
# the writes and discards of the removal before it (on this project's VMs, ext4 mounted with
# `discard`, that made single runs vary from 1 to 7 s).
#
# Usage: benches/clone.sh [--quick] [--warm] [--files | --db] [DIR...]
#        (--warm: no caches dropped, so that the database rows of 10 MB show git-atlas's own cost
#        rather than reading its binary and the repository from disk; --files or --db: that
#        table only; DIR: where to build the trees; default target/, plus
#        $GIT_ATLAS_TEST_COW_DIR and $GIT_ATLAS_TEST_TMPFS_DIR when set: .ci/cow.sh mounts an
#        XFS with reflink and a tmpfs)
# The tables go to stdout; progress to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=5
dirs=()
files=1 databases=1 warm=0
for arg; do
  case $arg in
  --quick) runs=3 ;;
  --warm) warm=1 ;;
  --files) databases=0 ;;
  --db) files=0 ;;
  -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
  *) dirs+=("$arg") ;;
  esac
done
if ((${#dirs[@]} == 0)); then
  dirs=("$root/target")
  for d in "${GIT_ATLAS_TEST_COW_DIR:-}" "${GIT_ATLAS_TEST_TMPFS_DIR:-}"; do
    [[ -n $d && -d $d ]] && dirs+=("$d")
  done
fi
cargo build --release -q
bin=$root/target/release/git-atlas
rev=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- 2>/dev/null || rev="$rev (with uncommitted changes)"
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_COMMON_DIR GIT_ATLAS_SKIP_HOOKS

now() { echo "${EPOCHREALTIME/[.,]/}"; } # microseconds
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
secs() { awk -v u="$1" 'BEGIN { printf("%.2f s", u / 1e6) }'; }

settle() {
  sync
  if ((!warm)) && [[ -w /proc/sys/vm/drop_caches ]]; then echo 3 >/proc/sys/vm/drop_caches; sleep 1; fi
}

# A node_modules of $2 packages under $1 (about 100 kB each).
node_modules() {
  python3 - "$1" "$2" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(root, ".bin"))
chunk = bytes(range(256)) * 320
for i in range(n):
    pkg = os.path.join(root, f"pkg-{i}")
    os.makedirs(os.path.join(pkg, "lib"))
    with open(os.path.join(pkg, "package.json"), "w") as f:
        f.write('{"name": "pkg-%d", "version": "1.0.%d", "main": "lib/index.js"}\n' % (i, i))
    for m in range(10):
        with open(os.path.join(pkg, "lib", f"m{m}.js"), "w") as f:
            f.write(f"module.exports = function m{m}() {{ return {i * 10 + m}; }};\n" * 40)
    with open(os.path.join(pkg, "lib", "bundle.min.js"), "wb") as f:
        f.write(chunk[: 70000 + (i * 37) % 20000])
    if i % 10 == 0:
        os.symlink(f"../pkg-{i}/lib/index.js", os.path.join(root, ".bin", f"pkg-{i}"))
EOF
}

cache=warm; ((!warm)) && [[ -w /proc/sys/vm/drop_caches ]] && cache="cold (caches dropped before each run)"
echo "nproc $(nproc), git-atlas $rev, $(cp --version | head -1); A/B alternated, $runs runs each, medians; page cache $cache"
((files)) || dirs=()
if ((files)); then
  echo
  echo "| path | filesystem | files | git-atlas | cp -a --reflink=auto | ratio | target |"
  echo "|---|---|---:|---:|---:|---:|---|"
fi
for d in "${dirs[@]}"; do
  d=$(cd "$d" && pwd)
  fs=$(stat -f -c %T "$d")
  work=$(mktemp -d "$d/clone-bench.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  export HOME=$work/home GIT_CONFIG_GLOBAL=$work/gitconfig GIT_CONFIG_NOSYSTEM=1 GIT_ATLAS_STATE_DIR=$work/state
  mkdir -p "$HOME"
  printf '[user]\n\tname = bench\n\temail = bench@example.com\n' >"$GIT_CONFIG_GLOBAL"
  main=$work/main
  mkdir "$main" && cd "$main"
  git init -q -b main
  printf 'node_modules/\n' >.gitignore
  printf 'node_modules/\n' >.worktreeinclude
  echo '{"name": "app"}' >package.json
  git add . && git commit -qm init
  echo "$fs: building node_modules" >&2
  node_modules "$main/node_modules" 2000
  files=$(find "$main/node_modules" -type f -o -type l | wc -l)
  size=$(du -sm "$main/node_modules" | cut -f1)
  "$bin" add -q --no-copy --detach ../wt >/dev/null
  mkdir "$work/cp"
  ta=() tb=()
  for ((r = -1; r < runs; r++)); do
    echo "$fs: run $((r + 2))/$((runs + 1))" >&2
    rm -rf "$work/wt/node_modules"
    settle
    s=$(now); "$bin" -q copy wt >/dev/null; e=$(now)
    ((r < 0)) || ta+=($((e - s)))
    [[ -f $work/wt/node_modules/pkg-1999/package.json ]] || { echo "git atlas copy copied no node_modules" >&2; exit 1; }
    rm -rf "$work/cp/node_modules"
    settle
    s=$(now); cp -a --reflink=auto "$main/node_modules" "$work/cp/node_modules"; e=$(now)
    ((r < 0)) || tb+=($((e - s)))
  done
  a=$(median "${ta[@]}") b=$(median "${tb[@]}")
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf("%.2f", a / b) }')
  echo "| copy | $fs | $files ($size MB) | $(secs "$a") | $(secs "$b") | ${ratio}× | ≤ 1.1× |"
  cd "$root"
  rm -rf "$work"
  trap - EXIT
done

((databases)) || exit 0

# --- Databases ---------------------------------------------------------------------------------
pg_url=${GIT_ATLAS_TEST_POSTGRES:-}
if [[ -z $pg_url ]]; then
  echo
  echo "(no database rows: \$GIT_ATLAS_TEST_POSTGRES is not set; .ci/postgres.sh starts a server)"
  exit 0
fi
pg_bin=${GIT_ATLAS_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}
decode() { local s=${1//+/ }; printf '%b' "${s//%/\\x}"; }
rest=${pg_url#*://}
login=${rest%@*} hostport=${rest##*@}
pg_user=$(decode "${login%%:*}")
PGPASSWORD=$(decode "${login#*:}") # the clients' environment, never their command line
export PGPASSWORD PGCONNECT_TIMEOUT=10 PGAPPNAME=atlas-bench PGOPTIONS='-c client_min_messages=warning'
pg_host=${hostport%:*} pg_port=${hostport##*:}
# By hand means the `psql` and `pg_dump` on PATH, the ones git-atlas runs (on Debian, Perl's
# pg_wrapper in front of /usr/lib/postgresql/<n>/bin: some 30 ms a call from a cold cache).
pg() { psql -X -q -A -t -w -v ON_ERROR_STOP=1 -h "$pg_host" -p "$pg_port" -U "$pg_user" "$@"; }
sql() { pg -d postgres -c "$1" >/dev/null; }
ident() { printf '"%s"' "${1//\"/\"\"}"; }
size_of() { pg -d postgres -c "SELECT pg_size_pretty(pg_database_size('$1'))"; }
work=$(mktemp -d "$root/target/db-bench.XXXXXX")
base=atlas_bench_$$
holder=
cleanup() {
  [[ -z $holder ]] || { exec 3>&-; wait "$holder" 2>/dev/null || true; }
  for db in $(pg -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE '${base}%'" 2>/dev/null); do
    sql "DROP DATABASE IF EXISTS $(ident "$db") WITH (FORCE)" || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
# A session on main, held open the way a running dev server holds one.
hold() { mkfifo "$work/hold"; PGAPPNAME=dev-server pg -d "$1" <"$work/hold" >/dev/null & holder=$!; exec 3>"$work/hold"; echo 'SELECT 1;' >&3; sleep 0.5; }
release() { exec 3>&-; wait "$holder" || true; holder=; rm -f "$work/hold"; }
export HOME=$work/home GIT_CONFIG_GLOBAL=$work/gitconfig GIT_CONFIG_NOSYSTEM=1 GIT_ATLAS_STATE_DIR=$work/state
mkdir -p "$HOME"
printf '[user]\n\tname = bench\n\temail = bench@example.com\n' >"$GIT_CONFIG_GLOBAL"
server="PostgreSQL $(pg -d postgres -c 'SHOW server_version' | sed 's/ (.*//')"
echo
echo "Databases: $server on $pg_host:$pg_port ($(pg -d postgres -c 'SHOW fsync' | sed 's/^/fsync /'))"
echo
echo "| copy | main database | git-atlas | by hand | by hand is | ratio | target |"
echo "|---|---:|---:|---:|---|---:|---|"

# Times A and B alternated, $runs runs after a warm-up, each after `reset` (not timed); sets
# ta and tb. A's stderr must match $expect (git-atlas's note says which way it took; `-`: no
# note, the server's copy of main).
ab() {
  local reset=$1 a=$2 b=$3 expect=$4 r s e
  ta=() tb=()
  for ((r = -1; r < runs; r++)); do
    echo "db: $a / $b: run $((r + 2))/$((runs + 1))" >&2
    $reset; settle
    s=$(now); $a >"$work/a.out" 2>"$work/a.err"; e=$(now)
    ((r < 0)) || ta+=($((e - s)))
    grep -q '^Created database .* as a copy of ' "$work/a.out" \
      && if [[ $expect == - ]]; then ! grep -q 'note:' "$work/a.err"; else grep -qE -- "$expect" "$work/a.err"; fi \
      || { echo "db: $a took another way than its row says:" >&2; cat "$work/a.out" "$work/a.err" >&2; exit 1; }
    $reset; settle
    s=$(now); $b; e=$(now)
    ((r < 0)) || tb+=($((e - s)))
  done
}
row() {
  local a b ratio
  a=$(median "${ta[@]}") b=$(median "${tb[@]}")
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf("%.2f", a / b) }')
  echo "| $1 | $size | $(secs "$a") | $(secs "$b") | $2 | ${ratio}× | $3 |"
}

for mb in 10 500; do
  main=${base}_${mb}mb
  wtdb=${main}_wt # the worktree's, `wt`
  by_hand=${main}_by_hand
  snap=${main}__atlas_snapshot
  echo "db: building $main" >&2
  sql "CREATE DATABASE $(ident "$main")"
  if ((mb == 10)); then
    pg -d "$main" -c "CREATE TABLE items AS SELECT g AS id, md5(g::text) AS a, repeat('x', 40) AS b FROM generate_series(1, 80000) g; ALTER TABLE items ADD PRIMARY KEY (id);" >/dev/null
  else
    "$pg_bin/pgbench" -q -i -s 33 -h "$pg_host" -p "$pg_port" -U "$pg_user" "$main" >/dev/null 2>&1
  fi
  size=$(size_of "$main")
  repo=$work/$mb/main
  mkdir -p "$repo" && cd "$repo"
  git init -q -b main
  printf '.env\n' >.gitignore
  printf '[database]\nshared_server = true\nclone = true\n' >.atlas.toml
  git add . && git commit -qm init
  printf 'DATABASE_URL=%s/%s\n' "$pg_url" "$main" >.env
  "$bin" add -q --no-db --detach ../wt >/dev/null 2>&1

  reset() { sql "DROP DATABASE IF EXISTS $(ident "$wtdb")"; sql "DROP DATABASE IF EXISTS $(ident "$by_hand")"; }
  atlas() { "$bin" db create wt; }
  template_main() { sql "CREATE DATABASE $(ident "$by_hand") TEMPLATE $(ident "$main") STRATEGY FILE_COPY"; }
  template_snap() { sql "CREATE DATABASE $(ident "$by_hand") TEMPLATE $(ident "$snap") STRATEGY FILE_COPY"; }
  dump() {
    sql "CREATE DATABASE $(ident "$by_hand")"
    pg_dump -w --no-owner --no-privileges -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$main" \
      | pg -d "$by_hand" >/dev/null
  }

  ab reset atlas template_main -
  row "main idle" "CREATE … TEMPLATE" "≤ 1.2×"
  tpl_idle=("${tb[@]}")
  hold "$main"
  ab reset atlas dump 'copied by pg_dump'
  row "main connected" "pg_dump \\| psql" "≤ 1.0×"
  dumps=("${tb[@]}")
  release
  "$bin" -q db snapshot >/dev/null
  hold "$main"
  ab reset atlas template_snap 'copy of its snapshot'
  row "main connected, snapshot" "CREATE … TEMPLATE snapshot" "≤ 1.2×"
  release
  "$bin" -q db snapshot --drop >/dev/null
  ta=("${dumps[@]}") tb=("${tpl_idle[@]}")
  row "before: git-atlas's pg_dump \\| psql, main idle" "CREATE … TEMPLATE" "—"
  reset
  cd "$root"
done

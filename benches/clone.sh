#!/usr/bin/env bash
# How fast does a new worktree get what Git does not carry? `git atlas copy` of a 200 MB
# node_modules-like tree (npm's shape: 2,000 packages, each a package.json, ten modules and a
# bundle, and a .bin of symlinks; 24,200 files) named by .worktreeinclude, against
# `cp -a --reflink=auto` of the same folder, on each filesystem given:
#   copy      `git atlas copy <worktree>` vs `cp -a --reflink=auto`                     (≤ 1.1×)
# Each run starts from a worktree without the folder (removed before it, not timed), A and B
# alternated run by run, 5 runs each (3 with --quick) after one warm-up of each; medians.
# Before each run (not timed): `sync`, and as root `echo 3 > /proc/sys/vm/drop_caches` and a
# second's pause, so that both start from the same cold page cache and neither pays for the
# writes and discards of the removal before it (on this project's VMs, ext4 mounted with
# `discard`, that made single runs vary from 1 to 7 s).
#
# Usage: benches/clone.sh [--quick] [DIR...]   (DIR: where to build the trees; default target/,
#        plus $GIT_ATLAS_TEST_COW_DIR and $GIT_ATLAS_TEST_TMPFS_DIR when set: .ci/cow.sh mounts
#        an XFS with reflink and a tmpfs)
# The table goes to stdout; progress to stderr. (The database copy rows of issue 20 come with
# the database part.)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=5
dirs=()
for arg; do
  case $arg in
  --quick) runs=3 ;;
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
  if [[ -w /proc/sys/vm/drop_caches ]]; then echo 3 >/proc/sys/vm/drop_caches; sleep 1; fi
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

cache=warm; [[ -w /proc/sys/vm/drop_caches ]] && cache="cold (caches dropped before each run)"
echo "nproc $(nproc), git-atlas $rev, $(cp --version | head -1); A/B alternated, $runs runs each, medians; page cache $cache"
echo
echo "| path | filesystem | files | git-atlas | cp -a --reflink=auto | ratio | target |"
echo "|---|---|---:|---:|---:|---:|---|"
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

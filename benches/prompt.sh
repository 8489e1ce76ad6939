#!/usr/bin/env bash
# How fast is `git atlas ports` (what a shell prompt runs) next to `git rev-parse --git-common-dir`?
# Builds the release binary, makes a temporary repository with three linked worktrees allocated by
# `git atlas add`, then times both commands inside one of them with hyperfine and prints the
# means and their ratio (target: at most 1.00). With valgrind installed it also prints
# instruction counts, which do not depend on how busy the machine is.
# Needs hyperfine (`apt-get install -y hyperfine`). Usage: benches/prompt.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "benches/prompt.sh needs hyperfine: apt-get install -y hyperfine" >&2; exit 1; }
cargo build --release -q
export PATH=$PWD/target/release:$PATH
bin=$PWD/target/release/git-atlas
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Hermetic: no user or system Git config, and a lease file of its own.
export GIT_ATLAS_STATE_DIR=$dir/state GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
mkdir "$dir/app" && cd "$dir/app"
git init -q -b main
printf 'PORT=3000\nVITE_PORT=5173\nAPI_PORT=3001\nREDIS_PORT=6379\nDATABASE_URL=postgresql://u:p@localhost:5432/app\n' > .env
printf '.env\n' > .gitignore
git add .gitignore && git -c user.name=bench -c user.email=bench@example.com commit -qm init
for w in feature-auth bugfix-login feature-api; do git atlas add "../$w" >/dev/null 2>&1; done
cd "$dir/feature-auth"
echo "in $PWD: git atlas ports → $("$bin" ports)"
[ -n "$("$bin" ports)" ] || { echo "git atlas ports printed nothing" >&2; exit 1; }

json=$dir/hyperfine.json
hyperfine -N --warmup 20 --runs 300 --export-json "$json" \
  'git rev-parse --git-common-dir' "$bin ports" >/dev/null
python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
git, atlas = r[0], r[1]
for name, x in (("git rev-parse --git-common-dir", git), ("git-atlas ports", atlas)):
    print(f"{name:32} mean {x['mean']*1e3:.3f} ms  ± {x['stddev']*1e3:.3f} ms  (median {x['median']*1e3:.3f} ms, {len(x['times'])} runs)")
print(f"ratio ports/rev-parse: {atlas['mean']/git['mean']:.2f}")
PY
if command -v valgrind >/dev/null; then
  count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : //p'; }
  g=$(count git rev-parse --git-common-dir)
  a=$(count "$bin" ports)
  echo "instructions: git rev-parse $g, git-atlas ports $a"
  python3 -c "print(f'instruction ratio ports/rev-parse: {$a/$g:.2f}')"
fi

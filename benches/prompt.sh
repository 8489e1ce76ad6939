#!/usr/bin/env bash
# How fast is `git atlas ports` (the shell prompt's call) next to `git rev-parse --git-common-dir`?
# Prints wall-clock means (hyperfine) and instruction counts (callgrind, repeatable), and ratios.
# Needs hyperfine; valgrind is optional. Usage: benches/prompt.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=$PWD/target/release/git-atlas
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export GIT_ATLAS_STATE_DIR=$dir/state GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
mkdir "$dir/app" && cd "$dir/app"
git init -q -b main
printf 'PORT=3000\nVITE_PORT=5173\nAPI_PORT=3001\nREDIS_PORT=6379\nDATABASE_URL=postgresql://u:p@localhost:5432/app\n' > .env
printf '.env\n' > .gitignore
git add .gitignore && git -c user.name=b -c user.email=b@b commit -qm init
for w in feature-auth bugfix-login feature-api; do "$bin" add "../$w" >/dev/null 2>&1; done
cd "$dir/feature-auth"
[ -n "$("$bin" ports)" ] || { echo "git atlas ports printed nothing" >&2; exit 1; }

json=$dir/h.json
hyperfine -N --warmup 50 --runs 1000 --export-json "$json" 'git rev-parse --git-common-dir' "$bin ports" >/dev/null
python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
git, atlas = r[0]["mean"], r[1]["mean"]
print(f"wall  git rev-parse: {git*1e3:.3f} ms   git-atlas ports: {atlas*1e3:.3f} ms")
print(f"ratio ports/rev-parse (wall): {atlas/git:.2f}")
PY
if command -v valgrind >/dev/null; then
  count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : //p'; }
  g=$(count git rev-parse --git-common-dir); a=$(count "$bin" ports)
  echo "instructions  git rev-parse: $g   git-atlas ports: $a"
  python3 -c "print(f'ratio ports/rev-parse (instructions): {$a/$g:.2f}')"
fi

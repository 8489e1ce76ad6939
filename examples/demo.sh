#!/usr/bin/env bash
# git-atlas on a sample project: two worktrees side by side, each with its own ports, .env.local,
# .env.worktree and docker-compose.yml; then the hooks giving a plain `git worktree add` the same
# treatment, and a removal. The sample files are in examples/sample/ (env is copied to .env).
#
# Usage: examples/demo.sh [DIR]   (default: a new temporary directory; DIR/myapp must not exist)
# Needs git and git-atlas on PATH (`cargo install --path .`).
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
run() { printf '\n$ %s\n' "$*"; "$@"; }

echo "Sample project: $root/myapp (leases: $GIT_ATLAS_STATE_DIR)"
mkdir "$root/myapp"
cd "$root/myapp"
git init -q -b main
git config user.name "git-atlas demo"
git config user.email "demo@example.com"
cp "$sample/env" .env
cp "$sample/.gitignore" "$sample/.env.worktree.template" "$sample/docker-compose.worktree.template.yml" .
git add .gitignore .env.worktree.template docker-compose.worktree.template.yml
git commit -q -m "sample project"
run cat .env

run git atlas add ../feature-auth
run git atlas add ../bugfix-login
run git atlas list
run cat ../feature-auth/.env.local
run cat ../feature-auth/.env.worktree
run cat ../feature-auth/docker-compose.yml
printf '\n$ cd ../feature-auth && git atlas ports\n'
(cd ../feature-auth && git atlas ports)
run git atlas hooks install
run git worktree add -q ../plain-git
run git atlas remove bugfix-login
run git atlas list

printf '\nDone. Look around in %s (export GIT_ATLAS_STATE_DIR=%q to use the demo'"'"'s lease file there).\n' "$root" "$GIT_ATLAS_STATE_DIR"
printf 'To clean up: rm -rf %q\n' "$root"

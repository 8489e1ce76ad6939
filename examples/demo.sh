#!/usr/bin/env bash
# A sample project with a .env and templates, three worktrees side by side, then cleanup.
# Usage: examples/demo.sh [DIR]   (default: a new temporary directory)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${1:-$(mktemp -d)}
command -v git-atlas >/dev/null || { echo "git-atlas is not on PATH: run \`cargo install --path .\` first" >&2; exit 1; }
run() { printf '\n$ %s\n' "$*"; "$@"; }

mkdir -p "$root/myapp"
cd "$root/myapp"
git init -q -b main
git config user.name "git-atlas demo"
git config user.email "demo@example.com"
cp "$here/sample/env" .env
cp "$here/sample/.env.worktree.template" "$here/sample/docker-compose.worktree.template.yml" .
printf '.env\n' > .gitignore
git add .gitignore .env.worktree.template docker-compose.worktree.template.yml
git commit -q -m "sample project"
echo "Sample project in $root/myapp"
run cat .env

run git atlas add ../feature-auth
run git atlas add ../bugfix-login
run git atlas list
run cat ../feature-auth/.env.local
run cat ../feature-auth/.env.worktree
run sed -n '1,8p' ../feature-auth/docker-compose.yml
printf '\n$ cd ../feature-auth && git atlas ports\n'
(cd ../feature-auth && git atlas ports)
run git atlas hooks install
run git worktree add -q ../plain-git
run cat ../plain-git/.env.local
run git atlas remove bugfix-login
run git atlas ports list

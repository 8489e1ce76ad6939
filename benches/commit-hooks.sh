#!/usr/bin/env bash
# What do the git-atlas hooks cost a commit? Times N commits in a repository with our hooks
# installed against N commits in the same kind of repository whose post-checkout and
# reference-transaction hooks are /bin/true, and prints the ratio (target: at most 1.25).
# Both repositories have 3 linked worktrees. Usage: benches/commit-hooks.sh [N] (default 200)
set -euo pipefail
n=${1:-200}
cd "$(dirname "$0")/.."
cargo build --release -q
export PATH=$PWD/target/release:$PATH
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export GIT_ATLAS_STATE_DIR=$dir/state GIT_CONFIG_GLOBAL=$dir/gitconfig GIT_CONFIG_NOSYSTEM=1
printf '[user]\n\tname = bench\n\temail = bench@example.com\n' > "$GIT_CONFIG_GLOBAL"

setup() {
  mkdir -p "$dir/$1" && cd "$dir/$1"
  git init -q -b main
  printf 'PORT=3000\nDB_PORT=5432\n' > .env && printf '.env\n' > .gitignore
  git add .gitignore && git commit -qm init
  for w in a b c; do git-atlas add "../$1-$w" >/dev/null 2>&1; done
}
setup atlas && git-atlas hooks install >/dev/null
setup plain && for h in post-checkout reference-transaction; do ln -s /bin/true ".git/hooks/$h"; done

commits() { # repo → seconds for n commits
  cd "$dir/$1"
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$n"); do git commit -q --allow-empty -m x; done
  end=$(date +%s%N)
  echo $(( end - start ))
}
results=()
for round in 1 2 3; do
  a=$(commits atlas); p=$(commits plain)
  results+=("$(python3 -c "print($a/$p)")")
  printf 'round %d: %d commits with git-atlas hooks %.3fs, with /bin/true hooks %.3fs\n' "$round" "$n" "$(python3 -c "print($a/1e9)")" "$(python3 -c "print($p/1e9)")"
done
python3 -c "import statistics,sys; print(f'ratio atlas-hooks/true-hooks: {statistics.median(map(float, sys.argv[1:])):.2f} (median of 3 rounds)')" "${results[@]}"

#!/usr/bin/env bash
# What do the git-atlas hooks cost a commit? Times N commits in a repository with our hooks
# installed (`git atlas hooks install`) against N commits in the same kind of repository whose
# post-checkout and reference-transaction hooks are /bin/true, and prints the ratio
# (target: at most 1.25). Both repositories have 3 linked worktrees with ports allocated, so the
# fingerprint the reference-transaction shim compares has content. Each round times both
# repositories in turn; the ratio is the median of 3 rounds. A third repository without hooks is
# timed for reference (what any hook at all costs).
#
# Usage: benches/commit-hooks.sh [N]   (default 200)
set -euo pipefail
n=${1:-200}
rounds=3
cd "$(dirname "$0")/.."
cargo build --release -q
export PATH=$PWD/target/release:$PATH
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/home" "$dir/xdg"
export HOME=$dir/home XDG_CONFIG_HOME=$dir/xdg XDG_STATE_HOME=$dir/xdg XDG_DATA_HOME=$dir/xdg
export GIT_ATLAS_STATE_DIR=$dir/leases GIT_CONFIG_GLOBAL=$dir/gitconfig GIT_CONFIG_NOSYSTEM=1
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_COMMON_DIR GIT_ATLAS_SKIP_HOOKS
printf '[user]\n\tname = bench\n\temail = bench@example.com\n' >"$GIT_CONFIG_GLOBAL"

setup() { # name → a repository with 3 linked worktrees, allocated by git-atlas
  mkdir -p "$dir/$1" && cd "$dir/$1"
  git init -q -b main
  printf 'PORT=3000\nDB_PORT=5432\n' >.env && printf '.env\n' >.gitignore
  git add .gitignore && git commit -qm init
  for w in a b c; do git-atlas add "../$1-$w" >/dev/null 2>&1; done
}
setup atlas && git-atlas hooks install >/dev/null
setup plain && for h in post-checkout reference-transaction; do ln -s /bin/true ".git/hooks/$h"; done
setup none

# The benchmark measures the fast path only if that is what runs: our shims are installed, the
# fingerprint names the 3 worktrees, and a commit prints nothing (git-atlas was not spawned).
cd "$dir/atlas"
grep -q 'git-atlas START' .git/hooks/reference-transaction
state=$(cat .git/worktree-registry/hook-state)
[[ $state == 3:* ]] || { echo "unexpected hook-state: $state" >&2; exit 1; }
for repo in atlas plain none; do # warm up
  out=$(cd "$dir/$repo" && git commit -q --allow-empty -m warm-up 2>&1)
  [[ -z $out ]] || { echo "a commit in $repo printed: $out" >&2; exit 1; }
done

commits() { # repo → nanoseconds for n commits
  cd "$dir/$1"
  local start end
  start=$(date +%s%N)
  for ((i = 0; i < n; i++)); do git commit -q --allow-empty -m x; done
  end=$(date +%s%N)
  echo $((end - start))
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratios=() baseline=()
for ((round = 1; round <= rounds; round++)); do
  a=$(commits atlas) p=$(commits plain) z=$(commits none)
  ratios+=("$(awk -v a="$a" -v p="$p" 'BEGIN { print a / p }')")
  baseline+=("$(awk -v p="$p" -v z="$z" 'BEGIN { print p / z }')")
  awk -v r="$round" -v n="$n" -v a="$a" -v p="$p" -v z="$z" 'BEGIN {
    printf "round %d: %d commits: git-atlas hooks %.3fs (%.2f ms/commit), /bin/true hooks %.3fs, no hooks %.3fs\n",
      r, n, a / 1e9, a / n / 1e6, p / 1e9, z / 1e9 }'
done
printf 'for reference, /bin/true hooks / no hooks: %.2f\n' "$(median "${baseline[@]}")"
printf 'ratio atlas-hooks/true-hooks: %.2f\n' "$(median "${ratios[@]}")"

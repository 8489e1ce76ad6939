#!/usr/bin/env bash
# How do git-atlas's everyday paths scale with the number of worktrees? For each N (default 1, 50
# and 1000) it builds a temporary repository with N linked worktrees made by `git atlas add
# --detach`, then compares each path with the plain Git command it sits next to:
#   add       `git-atlas add --detach ../x` vs `git worktree add --detach ../y`  (≤ add floor + 0.25×)
#   list      `git-atlas list` vs `git worktree list`                                      (≤ 1.5×)
#   ports     `git-atlas ports` vs `git rev-parse --git-common-dir` in a linked worktree (≤ 1.0×)
# then, with `git atlas hooks install` done (the default set), against the same command with no
# hooks at all:
#   commit    `git commit --allow-empty`                                                  (≤ 1.05×)
#   rebase    `git rebase` of a stack of 100 commits onto a moved main                    (≤ 1.05×)
#   checkout  `git switch` between two branches that differ in one file                   (≤ 1.2×)
#   add+hooks `git-atlas add` with the hooks installed vs `git worktree add` without (≤ add floor + 0.25×)
# and prints one Markdown table row per path and N (ratio = git-atlas / git). Two rows are
# references, not targets: `add floor`, `timeout 60 git worktree add` (coreutils' timeout starts
# Git and waits for it, nothing else) vs Git, what merely being a program that runs Git costs;
# and `checkout floor`, the same switch with a post-checkout hook that is /bin/true, what any
# post-checkout hook costs (Git forks and waits for it). Each floor runs in the same rounds as
# the row above it, against the same runs of Git (the git column is shared).
# Last, once, a repository with a real checkout (LARGE_TREE=<a directory or a Git repository>
# whose files it commits, e.g. a clone of makeplane/plane; without it, 5,400 generated files
# in a monorepo's layout): `add` (≤ 1.05×) and `checkout` (≤ 1.2×) there.
#
# The hooks rows use one repository and the same commands; only core.hooksPath differs: the
# directory `git atlas hooks install` filled, or an empty one. add, list and ports are measured
# before the hooks are installed, so `git worktree add` is plain Git; before each timed add the
# previous ../x or ../y is removed with plain Git and `git-atlas list` releases its ports (not
# timed). ports is compared by instruction count (valgrind --tool=callgrind, children included,
# median of 3) when valgrind exists, else by wall-clock like the others.
# Wall-clock: hyperfine (-N, installed with apt-get when missing and running as root) in rounds of
# 5 runs of A then 5 of B, alternated until each ran R times, so that a machine speeding up or
# slowing down meanwhile weighs on both; ratio of medians (every run's time from --export-json).
# Without hyperfine, A and B alternate run by run in a loop (at least 20 each), timed by bash.
#
# The repositories are made under target/, beside the code, not in /tmp: on this project's machines
# a directory made right under /tmp is slow to create directories in (`git worktree add` takes
# 9 ms there instead of 4), which would make every add ratio look better than where projects live.
#
# Usage: benches/scale.sh [--quick] [N...]     (--quick: fewer runs, for development)
# The table goes to stdout; progress and the time each N took go to stderr.
set -euo pipefail
quick=
sizes=()
for arg; do
  case $arg in
  --quick) quick=1 ;;
  -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
  '' | *[!0-9]* | 0) echo "benches/scale.sh: not a worktree count: $arg (usage: benches/scale.sh [--quick] [N...])" >&2; exit 2 ;;
  *) sizes+=("$arg") ;;
  esac
done
((${#sizes[@]})) || sizes=(1 50 1000)
if [[ $quick ]]; then runs=10 callgrind_runs=1; else runs=30 callgrind_runs=3; fi

cd "$(dirname "$0")/.."
root=$PWD
cargo build --release -q
export PATH=$PWD/target/release:$PATH
bin=$PWD/target/release/git-atlas
rev=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- 2>/dev/null || rev="$rev (with uncommitted changes)"

if ! command -v hyperfine >/dev/null && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  echo "installing hyperfine (apt-get install -y hyperfine)" >&2
  apt-get install -y -q hyperfine >/dev/null 2>&1 || echo "could not install hyperfine: timing with a loop" >&2
fi
hf=$(command -v hyperfine || :)
vg=$(command -v valgrind || :)
loops=$((runs < 20 ? 20 : runs))
if [[ $hf ]]; then timing="$(hyperfine --version) (-N, A and B alternated in rounds of 5 runs, $runs each, medians)"
else timing="A/B loop (3 warm-up + $loops runs each, medians)"; fi
if [[ $vg ]]; then counting="ports by instructions ($(valgrind --version) callgrind)"
else counting="ports by wall-clock (no valgrind)"; fi

dir=
trap 'rm -rf "${dir:-}"' EXIT
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_COMMON_DIR GIT_ATLAS_SKIP_HOOKS GIT_ATLAS_IN_ADD

now() { # nanoseconds
  if [[ ${EPOCHREALTIME:-} ]]; then echo "${EPOCHREALTIME/[.,]/}000"; else date +%s%N; fi
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ms() { awk -v s="$1" 'BEGIN { m = s * 1000; printf(m >= 100 ? "%.0f ms" : m >= 10 ? "%.1f ms" : "%.2f ms", m) }'; }

rows=() above=() notes=()
row() { # path n atlas-value git-value unit(s|instr) target
  local path=$1 n=$2 a=$3 g=$4 unit=$5 target=$6 ratio fa fg
  ratio=$(awk -v a="$a" -v g="$g" 'BEGIN { printf "%.2f", a / g }')
  if [[ $unit == s ]]; then fa=$(ms "$a") fg=$(ms "$g")
  else
    fa=$(awk -v x="$a" 'BEGIN { printf "%.2f M instr", x / 1e6 }')
    fg=$(awk -v x="$g" 'BEGIN { printf "%.2f M instr", x / 1e6 }')
  fi
  if [[ $target == - ]]; then # a reference row
    rows+=("| $path | $n | $fa | $fg | ${ratio}× | (reference) |")
    return
  fi
  rows+=("| $path | $n | $fa | $fg | ${ratio}× | ≤ ${target}× |")
  if awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r > t) }'; then above+=("$path N=$n (${ratio}×, target ≤ ${target}×)"); fi
}

# wall NAME CMD[::PREP]... → one median per command, in seconds, in their order (hyperfine, or
# loop medians). Commands run without a shell, split on spaces; PREP is a script run before
# each run of its command (untimed). They all alternate in the same rounds: a row and its
# floor are measured against the same runs of Git.
wall() {
  local name=$1 c i
  shift
  local cmds=() preps=()
  for c; do
    if [[ $c == *::* ]]; then cmds+=("${c%%::*}") preps+=("${c##*::}"); else cmds+=("$c") preps+=(""); fi
  done
  if [[ $hf ]]; then
    local round args
    for ((round = 0; round * 5 < runs; round++)); do
      args=(-N --warmup 1 --runs 5 --export-json "$dir/$name.$round.json")
      if [[ ${preps[*]} =~ [^[:space:]] ]]; then
        for i in "${!preps[@]}"; do args+=(--prepare "${preps[i]:+bash }${preps[i]:-true}"); done
      fi
      hyperfine "${args[@]}" "${cmds[@]}" >"$dir/$name.log" 2>&1 || { cat "$dir/$name.log" >&2; return 1; }
    done
    python3 -c '
import json, statistics, sys
times = {}
for f in sys.argv[1:]:
    for i, r in enumerate(json.load(open(f))["results"]):
        times.setdefault(i, []).extend(r["times"])
print(" ".join(str(statistics.median(times[i])) for i in sorted(times)))' "$dir/$name".*.json
  else
    local r s e t=() out=()
    for ((r = -3; r < loops; r++)); do
      for i in "${!cmds[@]}"; do
        [[ ${preps[i]} ]] && bash "${preps[i]}"
        s=$(now); ${cmds[i]} >/dev/null 2>&1 || { echo "failed: ${cmds[i]}" >&2; return 1; }; e=$(now)
        ((r < 0)) || t+=("$i $((e - s))")
      done
    done
    for i in "${!cmds[@]}"; do
      out+=("$(median $(printf '%s\n' "${t[@]}" | awk -v i="$i" '$1 == i { print $2 }') | awk '{ print $1 / 1e9 }')")
    done
    echo "${out[*]}"
  fi
}

instructions() { # command... → instructions executed by it and its children (median of runs)
  local i d counts=()
  for ((i = 0; i < callgrind_runs; i++)); do
    d=$(mktemp -d "$dir/callgrind.XXXXXX")
    valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$d/out.%p" "$@" >/dev/null 2>"$d/log" ||
      { cat "$d/log" >&2; return 1; }
    counts+=("$(awk 'FNR == 1 { if (f) s += t ? t : m; f = 1; t = m = 0 }
                   /^summary:/ { m = $2 } /^totals:/ { t = $2 }
                   END { s += t ? t : m; print s }' "$d"/out.*)")
  done
  median "${counts[@]}"
}

echo "nproc $(nproc), $(git --version), git-atlas $rev; wall-clock: $timing; $counting; worktrees made by git atlas add --detach"
echo
echo "| path | N | git-atlas | git | ratio | target |"
echo "|---|---:|---:|---:|---:|---|"

# A new directory for one repository under target/, with a home and Git configuration of its
# own (hermetic: no user or system settings), and an empty repository at $main in it, the
# current directory.
sandbox() {
  dir=$(mktemp -d "$root/target/scale-bench.XXXXXX")
  mkdir -p "$dir/home" "$dir/xdg-config" "$dir/xdg-state" "$dir/xdg-data" "$dir/no-hooks"
  export HOME=$dir/home XDG_CONFIG_HOME=$dir/xdg-config XDG_STATE_HOME=$dir/xdg-state XDG_DATA_HOME=$dir/xdg-data
  export GIT_ATLAS_STATE_DIR=$dir/xdg-state/git-atlas GIT_CONFIG_GLOBAL=$dir/gitconfig GIT_CONFIG_NOSYSTEM=1
  # No automatic gc or maintenance: 30 rebases of 100 commits leave thousands of loose objects,
  # and the `git gc --auto` one of them would start in the background ran beside later runs.
  printf '[user]\n\tname = bench\n\temail = bench@example.com\n[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n' >"$GIT_CONFIG_GLOBAL"
  main=$dir/main
  mkdir "$main" && cd "$main"
  git init -q -b main
}

for n in "${sizes[@]}"; do
  t0=$(date +%s)
  sandbox
  printf 'PORT=3000\nDATABASE_URL=postgresql://localhost:5432/app\n' >.env
  printf '.env\n.env.local\n' >.gitignore
  printf '[offset]\nmax = 4999\n' >.atlas.toml
  git add .gitignore .atlas.toml && git commit -qm init

  step=$((n >= 10 ? n / 10 : 1))
  for ((i = 1; i <= n; i++)); do
    git atlas add --detach "../w-$i" >"$dir/add.log" 2>&1 || { cat "$dir/add.log" >&2; exit 1; }
    ((i % step && i != n)) || echo "N=$n: $i/$n worktrees added ($(($(date +%s) - t0)) s)" >&2
  done
  # .env is ignored, so each worktree gets main's carried into it, with its own ports.
  grep -q '^# generated by git-atlas' "$dir/w-1/.env" 2>/dev/null || { echo "git atlas add carried no .env into $dir/w-1" >&2; exit 1; }
  # What was just written goes to disk before anything is timed: writeback of N worktrees'
  # files beside the first rows slowed Git's side of them (git worktree add took 19-33 ms with
  # 50 worktrees while it did, 6-9 ms once it was over).
  sync
  t1=$(date +%s)

  # add: a fresh worktree per run; the previous one goes, with plain Git, before the next run.
  for w in x y z; do
    printf '%s\n' "cd $main" "git worktree remove --force ../$w >/dev/null 2>&1 || :" "rm -rf ../$w" \
      "git worktree prune" "git-atlas list >/dev/null 2>&1" >"$dir/prepare-$w.sh"
  done
  echo "N=$n: timing add and its floor" >&2
  res=$(wall add "$bin add --detach ../x::$dir/prepare-x.sh" \
    "timeout 60 git worktree add --detach ../z::$dir/prepare-z.sh" \
    "git worktree add --detach ../y::$dir/prepare-y.sh")
  read -r add_a floor_a add_g <<<"$res"
  bash "$dir/prepare-x.sh" && bash "$dir/prepare-y.sh" && bash "$dir/prepare-z.sh"

  echo "N=$n: timing list" >&2
  res=$(wall list "$bin list" "git worktree list")
  read -r list_a list_g <<<"$res"

  cd "$dir/w-1"
  [[ -n $("$bin" ports) ]] || { echo "git-atlas ports printed nothing in $dir/w-1" >&2; exit 1; }
  if [[ $vg ]]; then
    echo "N=$n: counting ports instructions" >&2
    ports_a=$(instructions "$bin" ports)
    ports_g=$(instructions git rev-parse --git-common-dir)
    ports_unit=instr
  else
    echo "N=$n: timing ports" >&2
    res=$(wall ports "$bin ports" "git rev-parse --git-common-dir")
    read -r ports_a ports_g <<<"$res"
    ports_unit=s
  fi

  # The hooks: the directory `git atlas hooks install` filled vs an empty one (no hooks at all),
  # chosen by core.hooksPath; and, for the checkout floor, one whose post-checkout is /bin/true.
  cd "$main"
  git atlas hooks install >/dev/null
  [[ -e .git/hooks/post-checkout && ! -e .git/hooks/reference-transaction ]] ||
    { echo "git atlas hooks install did not install the default set" >&2; exit 1; }
  mkdir "$dir/true-hooks"
  ln -s /bin/true "$dir/true-hooks/post-checkout"
  hooked="-c core.hooksPath=$main/.git/hooks" plain="-c core.hooksPath=$dir/no-hooks"
  git atlas list >/dev/null 2>&1
  # Two branches that differ in one file, and a stack of 100 commits on an older main.
  git switch -q -c other && echo other >other.txt && git add other.txt && git commit -qm other
  git switch -q main
  base=$(git rev-parse HEAD)
  git switch -q -c stack
  for ((i = 1; i <= 100; i++)); do echo "$i" >"stack-$i.txt" && git add "stack-$i.txt" && git commit -qm "stack $i"; done
  stack=$(git rev-parse HEAD)
  git switch -q main && echo moved >moved.txt && git add moved.txt && git commit -qm moved
  printf '%s\n' "cd $main" "git $plain checkout -q main" "git branch -f stack $stack" >"$dir/prepare-rebase.sh"
  sync
  out=$(git $hooked commit --allow-empty -q -m warm-up 2>&1; git $hooked switch -q other 2>&1; git $hooked switch -q main 2>&1)
  [[ -z $out ]] || echo "N=$n: a commit or checkout with the git-atlas hooks printed: $out" >&2
  # Is the shim's fast path what gets timed? Without git-atlas on PATH, a shim that would have
  # called it says so.
  bare=$(dirname "$(command -v git)"):/usr/bin:/bin
  if ! PATH=$bare command -v git-atlas >/dev/null; then
    out=$(PATH=$bare git $hooked checkout -q --detach 2>&1; git $plain checkout -q main)
    if [[ $out == *"not on PATH"* ]]; then
      notes+=("N=$n: every checkout with the git-atlas hooks calls git-atlas (the shim's fast path is not taken).")
      echo "${notes[-1]}" >&2
    fi
  fi
  echo "N=$n: timing commit" >&2
  res=$(wall commit "git $hooked commit --allow-empty -q -m x" "git $plain commit --allow-empty -q -m x")
  read -r commit_a commit_g <<<"$res"
  echo "N=$n: timing rebase" >&2
  res=$(wall rebase "git $hooked rebase -q main stack::$dir/prepare-rebase.sh" \
    "git $plain rebase -q main stack::$dir/prepare-rebase.sh")
  read -r rebase_a rebase_g <<<"$res"
  git $plain checkout -q main
  echo "N=$n: timing checkout" >&2
  res=$(wall checkout "git $hooked switch -q -" "git -c core.hooksPath=$dir/true-hooks switch -q -" \
    "git $plain switch -q -")
  read -r checkout_a cfloor_a checkout_g <<<"$res"
  git $plain switch -q main
  echo "N=$n: timing add with the hooks installed" >&2
  res=$(wall add-hooks "$bin add --detach ../x::$dir/prepare-x.sh" "git $plain worktree add --detach ../y::$dir/prepare-y.sh")
  read -r addh_a addh_g <<<"$res"
  bash "$dir/prepare-x.sh" && bash "$dir/prepare-y.sh"

  floor=$(awk -v a="$floor_a" -v g="$add_g" 'BEGIN { printf "%.2f", a / g + 0.25 }')
  rows=()
  row add "$n" "$add_a" "$add_g" s "$floor"
  row "add floor" "$n" "$floor_a" "$add_g" s -
  row list "$n" "$list_a" "$list_g" s 1.5
  row ports "$n" "$ports_a" "$ports_g" "$ports_unit" 1.0
  row commit "$n" "$commit_a" "$commit_g" s 1.05
  row rebase "$n" "$rebase_a" "$rebase_g" s 1.05
  row checkout "$n" "$checkout_a" "$checkout_g" s 1.2
  row "checkout floor" "$n" "$cfloor_a" "$checkout_g" s -
  row add+hooks "$n" "$addh_a" "$addh_g" s "$floor"
  printf '%s\n' "${rows[@]}"
  t2=$(date +%s)
  echo "N=$n: setup $((t1 - t0)) s, measurements $((t2 - t1)) s, total $((t2 - t0)) s" >&2
  cd / && rm -rf "$dir"
done

# A real checkout: add and checkout where Git has files to write.
t0=$(date +%s)
sandbox
if [[ ${LARGE_TREE:-} ]] && large_git=$(cd "$LARGE_TREE" && git rev-parse --absolute-git-dir 2>/dev/null); then
  git --git-dir="$large_git" archive HEAD | tar -x
  tree="$(git --git-dir="$large_git" log -1 --format='%h %s' | cut -c1-50)"
elif [[ ${LARGE_TREE:-} ]]; then
  cp -a "$LARGE_TREE/." . && rm -rf .git && tree=$LARGE_TREE
else
  # A monorepo's layout: apps and packages, each with a src tree of modules.
  python3 - <<'PY'
import os
for i in range(5400):
    top = ("apps", "packages")[i % 2]
    d = f"{top}/p{i % 12}/src/m{i % 180}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/f{i}.ts", "w") as f:
        f.write((f"export const v{i} = {i};\n") * 200)
PY
  tree="5,400 generated files"
fi
# Its developers' env files, copied from the examples as its README says (ignored by Git).
find . -maxdepth 3 -name .env.example -not -path './node_modules/*' | while read -r f; do cp "$f" "${f%.example}"; done
[[ -e .env ]] || printf 'PORT=3000\nDATABASE_URL=postgresql://localhost:5432/app\n' >.env
grep -qx '.env' .gitignore 2>/dev/null || printf '.env\n' >>.gitignore
git add -A && git commit -qm tree
sync
files=$(git ls-files | wc -l)
git switch -q -c other && for f in $(git ls-files | head -10); do echo changed >>"$f"; done && git commit -qam other && git switch -q main
echo "large: $tree, $files files: timing add" >&2
for w in x y; do
  printf '%s\n' "cd $main" "git worktree remove --force ../$w >/dev/null 2>&1 || :" "rm -rf ../$w" \
    "git worktree prune" "git-atlas list >/dev/null 2>&1" >"$dir/prepare-$w.sh"
done
runs_large=$((runs < 10 ? runs : 10))
saved_runs=$runs runs=$runs_large
res=$(wall large-add "$bin add --detach ../x::$dir/prepare-x.sh" "git worktree add --detach ../y::$dir/prepare-y.sh")
read -r ladd_a ladd_g <<<"$res"
bash "$dir/prepare-x.sh" && bash "$dir/prepare-y.sh"
git atlas hooks install >/dev/null
echo "large: timing checkout" >&2
runs=$saved_runs
res=$(wall large-checkout "git -c core.hooksPath=$main/.git/hooks switch -q -" "git -c core.hooksPath=$dir/no-hooks switch -q -")
read -r lco_a lco_g <<<"$res"
rows=()
row "add, $files files" 1 "$ladd_a" "$ladd_g" s 1.05
row "checkout, $files files" 1 "$lco_a" "$lco_g" s 1.2
printf '%s\n' "${rows[@]}"
echo "large: $tree, $(($(date +%s) - t0)) s" >&2
cd / && rm -rf "$dir"

echo
((${#notes[@]} == 0)) || printf '%s\n' "${notes[@]}"
if ((${#above[@]})); then
  echo "Above target: $(printf '%s; ' "${above[@]}" | sed 's/; $//')."
else
  echo "Above target: none."
fi

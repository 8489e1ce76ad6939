# Runs on every ref update (several times per commit), so it spawns nothing unless the
# worktrees changed (see _atlas_changed: a constant number of file checks). It never reads stdin
# (the ref list stays for the hook below) and never fails the transaction.
if [ "$1" = committed ] && [ -z "$GIT_ATLAS_SKIP_HOOKS$GIT_ATLAS_IN_ADD" ] && _atlas_common_dir && _atlas_changed; then
  if command -v git-atlas >/dev/null 2>&1; then
    git-atlas hook reference-transaction "$@" </dev/null || :
  else
    # Said once, until a git-atlas hook runs again.
    [ -e "$_atlas_c/worktree-registry/hook-skipped" ] || { echo "git-atlas: hook skipped: git-atlas is not on PATH (see \`git atlas hooks status\`); said once until it is back" >&2; true 2>/dev/null >"$_atlas_c/worktree-registry/hook-skipped" || :; }
  fi
fi
unset _atlas_d _atlas_c _atlas_s _atlas_w _atlas_r _atlas_l

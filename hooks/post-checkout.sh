# A new worktree's first checkout (previous HEAD all zeros) gets its ports and files; any other
# checkout calls git-atlas only when the worktrees changed (see _atlas_changed). Never fails the
# checkout.
if [ "$3" = 1 ] && [ -z "$GIT_ATLAS_SKIP_HOOKS$GIT_ATLAS_IN_ADD" ] && _atlas_common_dir && [ -d "$_atlas_c/worktree-registry" ]; then
  case $1 in *[!0]*) _atlas_new= ;; *) _atlas_new=1 ;; esac
  if [ -n "$_atlas_new" ] || _atlas_changed; then
    if command -v git-atlas >/dev/null 2>&1; then
      git-atlas hook post-checkout "$@" </dev/null || :
    else
      # Said once, until a git-atlas hook runs again.
      [ -e "$_atlas_c/worktree-registry/hook-skipped" ] || { echo "git-atlas: hook skipped: git-atlas is not on PATH (see \`git atlas hooks status\`); said once until it is back" >&2; true 2>/dev/null >"$_atlas_c/worktree-registry/hook-skipped" || :; }
    fi
  fi
fi
unset _atlas_d _atlas_c _atlas_s _atlas_w _atlas_r _atlas_l _atlas_new

# A new worktree's first checkout (previous HEAD all zeros) gets its ports and files; any other
# branch checkout lets git-atlas reconcile. Only in repositories where git-atlas keeps a registry
# (a hooks directory may be shared by several, through a global core.hooksPath). Never fails the
# checkout.
if [ "$3" = 1 ] && [ -z "$GIT_ATLAS_SKIP_HOOKS$GIT_ATLAS_IN_ADD" ] && _atlas_common_dir && [ -d "$_atlas_c/worktree-registry" ]; then
  if command -v git-atlas >/dev/null 2>&1; then
    git-atlas hook post-checkout "$@" </dev/null || :
  else
    echo "git-atlas: hook skipped: git-atlas is not on PATH (see \`git atlas hooks status\`)" >&2
  fi
fi
unset _atlas_d _atlas_c

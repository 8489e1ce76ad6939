# A new worktree's first checkout (previous HEAD all zeros) gets its ports and files; other branch
# checkouts only let git-atlas catch up if worktrees changed. Never fails the checkout.
if [ "$3" = 1 ] && [ -z "$GIT_ATLAS_SKIP_HOOKS$GIT_ATLAS_IN_ADD" ]; then
  if command -v git-atlas >/dev/null 2>&1; then
    git-atlas hook post-checkout "$@" </dev/null || :
  else
    echo "git-atlas: hook skipped: git-atlas is not on PATH (see \`git atlas hooks status\`)" >&2
  fi
fi

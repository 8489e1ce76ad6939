# Succeeds when a file this worktree's generated files are made from (its compose files,
# .atlas.toml, the templates: git-atlas lists them in git-atlas-follows, in the worktree's Git
# directory) changed since they were written: one listed with + that is gone or not older than
# the list, or one listed with ? (missing then) that is there now. Paths are from the worktree's top,
# where Git runs the hook.
_atlas_followed() {
  _atlas_f=$_atlas_d/git-atlas-follows
  [ -f "$_atlas_f" ] || return 1
  _atlas_r=1
  {
    IFS= read -r _atlas_l
    if [ "$_atlas_l" = "git-atlas follows 1" ]; then
      while IFS= read -r _atlas_l; do
        _atlas_p=${_atlas_l#?}
        case $_atlas_l in
          +*) { [ -e "$_atlas_p" ] && [ "$_atlas_f" -nt "$_atlas_p" ]; } || { _atlas_r=0; break; } ;;
          \?*) ! [ -e "$_atlas_p" ] || { _atlas_r=0; break; } ;;
        esac
      done
    fi
  } < "$_atlas_f"
  return $_atlas_r
}
# A new worktree's first checkout (previous HEAD all zeros) gets its ports and files; any other
# checkout calls git-atlas only when the worktrees changed (see _atlas_changed) or what this
# worktree's files are made from did (see _atlas_followed). Never fails the checkout.
if [ "$3" = 1 ] && [ -z "$GIT_ATLAS_SKIP_HOOKS$GIT_ATLAS_IN_ADD" ] && _atlas_common_dir && [ -d "$_atlas_c/worktree-registry" ]; then
  case $1 in *[!0]*) _atlas_new= ;; *) _atlas_new=1 ;; esac
  if [ -n "$_atlas_new" ] || _atlas_changed || _atlas_followed; then
    if command -v git-atlas >/dev/null 2>&1; then
      git-atlas hook post-checkout "$@" </dev/null || :
    else
      # Said once, until a git-atlas hook runs again.
      [ -e "$_atlas_c/worktree-registry/hook-skipped" ] || { echo "git-atlas: hook skipped: git-atlas is not on PATH (see \`git atlas hooks status\`); said once until it is back" >&2; true 2>/dev/null >"$_atlas_c/worktree-registry/hook-skipped" || :; }
    fi
  fi
fi
unset -f _atlas_followed
unset _atlas_d _atlas_c _atlas_s _atlas_w _atlas_r _atlas_l _atlas_new _atlas_f _atlas_p

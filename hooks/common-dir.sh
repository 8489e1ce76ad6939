# Sets _atlas_c to the repository's common Git directory, with shell builtins only: hooks run at
# a worktree's top (its .git may be a `gitdir:` file) or with GIT_DIR set.
_atlas_common_dir() {
  _atlas_d=${GIT_DIR:-.git}
  if [ -f "$_atlas_d" ]; then IFS= read -r _atlas_d < "$_atlas_d"; _atlas_d=${_atlas_d#gitdir: }; fi
  _atlas_c=$_atlas_d
  if [ -f "$_atlas_d/commondir" ]; then
    IFS= read -r _atlas_c < "$_atlas_d/commondir"
    case $_atlas_c in /*) ;; *) _atlas_c=$_atlas_d/$_atlas_c ;; esac
  fi
  :
}

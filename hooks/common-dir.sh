# Sets _atlas_d to this worktree's Git directory and _atlas_c to the repository's common one, with
# shell builtins only: hooks run at a worktree's top (its .git may be a `gitdir:` file) or with
# GIT_DIR set.
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
# Succeeds when the worktrees may have changed since git-atlas last reconciled, with a constant
# number of checks however many worktrees there are. hook-state's mtime is the newest change to
# the worktrees git-atlas had seen then, so anything newer is news:
#   worktrees/ is newer: a worktree was added, removed or pruned;
#   this worktree's gitdir file is newer: this worktree was moved (or repaired);
#   a worktree allocated before its checkout (--no-checkout, listed in hook-state as p<id>) has
#   an index;
#   a directory holding worktrees (listed as d<path>) is newer: a worktree was deleted (rm -rf).
# Only where git-atlas keeps a registry (a hooks directory may be shared by several
# repositories, through a global core.hooksPath).
_atlas_changed() {
  [ -d "$_atlas_c/worktree-registry" ] || return 1
  _atlas_s=$_atlas_c/worktree-registry/hook-state
  [ -f "$_atlas_s" ] || return 0
  [ "$_atlas_c/worktrees" -nt "$_atlas_s" ] && return 0
  [ -f "$_atlas_d/gitdir" ] && [ "$_atlas_d/gitdir" -nt "$_atlas_s" ] && return 0
  _atlas_w=0
  [ -d "$_atlas_c/worktrees" ] && _atlas_w=1
  _atlas_r=1
  {
    IFS= read -r _atlas_l
    [ "$_atlas_l" = "git-atlas hook-state 3 worktrees=$_atlas_w" ] || _atlas_r=0
    while IFS= read -r _atlas_l; do
      case $_atlas_l in
        p*) [ -e "$_atlas_c/worktrees/${_atlas_l#p}/index" ] && _atlas_r=0 ;;
        d*) [ "${_atlas_l#d}" -nt "$_atlas_s" ] && _atlas_r=0 ;;
      esac
    done
  } < "$_atlas_s"
  return $_atlas_r
}

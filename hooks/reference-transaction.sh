# Runs on every ref update (about five times per commit), so it spawns nothing unless the set of
# worktrees changed: with shell builtins only, it checks each worktrees/<id>/gitdir (id, target,
# whether the target exists, whether it has an index) against the fingerprint git-atlas stored
# at its last reconcile ("N:<id=target+><id!missing-target>…", + once checked out, any order)
# and calls git-atlas only on a difference. It never reads stdin (the ref list stays for the hook
# below) and never fails the transaction.
if [ "$1" = committed ] && [ -z "$GIT_ATLAS_SKIP_HOOKS$GIT_ATLAS_IN_ADD" ]; then
  _atlas_common_dir
  _atlas_old=
  [ -f "$_atlas_c/worktree-registry/hook-state" ] && IFS= read -r _atlas_old < "$_atlas_c/worktree-registry/hook-state"
  _atlas_n=0
  _atlas_changed=
  # A hooks directory shared by several repositories (a global core.hooksPath) reaches
  # repositories that never used git-atlas: act only where it keeps a registry.
  [ -d "$_atlas_c/worktree-registry" ] || _atlas_n=-1
  [ "$_atlas_n" = -1 ] || for _atlas_g in "$_atlas_c"/worktrees/*/gitdir; do
    [ -f "$_atlas_g" ] || continue
    _atlas_p=
    IFS= read -r _atlas_p < "$_atlas_g"
    _atlas_id=${_atlas_g%/gitdir}
    _atlas_id=${_atlas_id##*/}
    _atlas_e=$_atlas_p
    case $_atlas_e in /*) ;; *) _atlas_e=${_atlas_g%/gitdir}/$_atlas_e ;; esac
    # The index appears when files are checked out (also by `reset --hard`, which runs no
    # post-checkout): a --no-checkout worktree's pending files are written then.
    _atlas_i=
    [ -e "${_atlas_g%/gitdir}/index" ] && _atlas_i=+
    if [ -e "$_atlas_e" ]; then _atlas_e="<$_atlas_id=$_atlas_p$_atlas_i>"; else _atlas_e="<$_atlas_id!$_atlas_p$_atlas_i>"; fi
    case $_atlas_old in *"$_atlas_e"*) ;; *) _atlas_changed=1 ;; esac
    _atlas_n=$((_atlas_n + 1))
  done
  [ "$_atlas_n" = -1 ] || case $_atlas_old in "$_atlas_n:"*) ;; *) _atlas_changed=1 ;; esac
  if [ -n "$_atlas_changed" ]; then
    if command -v git-atlas >/dev/null 2>&1; then
      git-atlas hook reference-transaction "$@" </dev/null || :
    else
      echo "git-atlas: hook skipped: git-atlas is not on PATH (see \`git atlas hooks status\`)" >&2
    fi
  fi
  unset _atlas_d _atlas_c _atlas_g _atlas_p _atlas_e _atlas_i _atlas_id _atlas_old _atlas_n _atlas_changed
fi

# Sourced by .ci/run: the filesystems tests/copy.rs copies between, as root: an XFS one
# (reflink is on by default in mkfs.xfs) on a loop device over a sparse file, where clones share
# their blocks with the original, and a tmpfs, which has no clones (a plain copy).
#   Exports: GIT_ATLAS_TEST_COW_DIR (the XFS mount), GIT_ATLAS_TEST_TMPFS_DIR (the tmpfs mount).
#   Unmounts both and removes their directory on EXIT, through .ci/run's git_atlas_cleanups.
GIT_ATLAS_COW_ROOT=

git_atlas_cow_stop() {
  [ -n "${GIT_ATLAS_COW_ROOT:-}" ] || return 0
  umount "$GIT_ATLAS_COW_ROOT/xfs" 2>/dev/null || umount -l "$GIT_ATLAS_COW_ROOT/xfs" 2>/dev/null || true
  umount "$GIT_ATLAS_COW_ROOT/tmpfs" 2>/dev/null || true
  rm -rf "$GIT_ATLAS_COW_ROOT"
}

command -v mkfs.xfs >/dev/null || apt-get install -y -qq --no-install-recommends xfsprogs </dev/null
command -v filefrag >/dev/null || apt-get install -y -qq --no-install-recommends e2fsprogs </dev/null
GIT_ATLAS_COW_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/git-atlas-cow.XXXXXX")
git_atlas_cleanups+=(git_atlas_cow_stop)
mkdir "$GIT_ATLAS_COW_ROOT/xfs" "$GIT_ATLAS_COW_ROOT/tmpfs"
truncate -s 2G "$GIT_ATLAS_COW_ROOT/xfs.img"
mkfs.xfs -q -m reflink=1 "$GIT_ATLAS_COW_ROOT/xfs.img"
mount -o loop "$GIT_ATLAS_COW_ROOT/xfs.img" "$GIT_ATLAS_COW_ROOT/xfs"
mount -t tmpfs -o size=1g tmpfs "$GIT_ATLAS_COW_ROOT/tmpfs"
export GIT_ATLAS_TEST_COW_DIR="$GIT_ATLAS_COW_ROOT/xfs" GIT_ATLAS_TEST_TMPFS_DIR="$GIT_ATLAS_COW_ROOT/tmpfs"
echo "ci: XFS (reflink) at $GIT_ATLAS_TEST_COW_DIR, tmpfs at $GIT_ATLAS_TEST_TMPFS_DIR"

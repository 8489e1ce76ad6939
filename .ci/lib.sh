# Sourced by the .ci/*.sh service scripts: helpers they share.

# Percent-encodes $1 for the userinfo of a URL (all but RFC 3986's unreserved characters).
git_atlas_urlencode() {
  local LC_ALL=C s=$1 out='' c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9._~-]) out+=$c ;;
      *) printf -v c '%%%02X' "'$c"; out+=$c ;;
    esac
  done
  printf '%s' "$out"
}

# Makes directory $1 a home for service user $2 when running as root: owned by $2, and every
# parent searchable (o+x, nothing more), so that a server started as $2 can reach it.
git_atlas_hand_dir_to() {
  local dir=$1 owner=$2 p
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] || return 0
  p=$(dirname "$dir")
  while :; do
    [ -n "$(find "$p" -maxdepth 0 -perm -o+x)" ] || chmod a+x "$p"
    [ "$p" != / ] || break
    p=$(dirname "$p")
  done
  chown "$owner": "$dir"
}

# Waits up to ~60 s for a server started in the background (process $3, log $4) to answer: runs
# "${@:5}" every half second until it succeeds. If the process dies or time runs out, prints
# "$1: $2 did not come up" and the end of its log, and fails.
git_atlas_wait_for() {
  local who=$1 what=$2 pid=$3 log=$4 i
  for i in $(seq 1 120); do
    "${@:5}" >/dev/null 2>&1 && return 0
    if ! kill -0 "$pid" 2>/dev/null || [ "$i" -eq 120 ]; then
      echo "$who: $what did not come up; its log:" >&2
      tail -n 60 "$log" >&2
      return 1
    fi
    sleep 0.5
  done
}

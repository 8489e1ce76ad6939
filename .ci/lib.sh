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

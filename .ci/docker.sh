# Sourced by .ci/run: Docker Engine + docker-compose (v1, Debian 12's) + an offline test image.
# Needs root and the Debian apt mirror; pulls nothing from any image registry: the image is the
# static busybox, imported with `docker import`, serving /www/index.html with `busybox httpd`.
#   Exports: GIT_ATLAS_TEST_IMAGE (what tests/docker.rs runs), GIT_ATLAS_DOCKERD_LOG.
#   Stops the dockerd it started on EXIT, through .ci/run's git_atlas_cleanups (a daemon already
#   running is reused and left alone).
GIT_ATLAS_TEST_IMAGE=git-atlas-test/busybox:latest
GIT_ATLAS_TEST_IMAGE_REV=1   # bump when the image contents below change
GIT_ATLAS_DOCKERD_LOG=${TMPDIR:-/tmp}/git-atlas-dockerd.log
GIT_ATLAS_DOCKERD_PID=

git_atlas_docker_step() { echo "docker-setup: $* (t=${SECONDS}s)"; }

git_atlas_docker_stop() {
  [ -n "${GIT_ATLAS_DOCKERD_PID:-}" ] || return 0
  local pid=$GIT_ATLAS_DOCKERD_PID i
  GIT_ATLAS_DOCKERD_PID=
  # rm -f first: dockerd waits up to 10s per container that ignores SIGTERM.
  docker ps -aq --filter "label=org.git-atlas.test-image" 2>/dev/null \
    | xargs -r docker rm -f -v >/dev/null 2>&1 || true
  docker network prune -f --filter "label=com.docker.compose.project" >/dev/null 2>&1 || true
  docker volume ls -q --filter dangling=true --filter "label=com.docker.compose.project" 2>/dev/null \
    | xargs -r docker volume rm >/dev/null 2>&1 || true
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "docker-setup: dockerd (pid $pid) stopped"
}

git_atlas_docker_setup() {
  local t0=$SECONDS pkg missing=() i
  # 1. packages (apt only when something is missing)
  for pkg in docker.io docker-compose busybox-static; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    git_atlas_docker_step "apt-get install ${missing[*]}"
    local aptlog
    aptlog=$(mktemp)
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
             apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$aptlog" 2>&1; then
      cat "$aptlog" >&2; rm -f "$aptlog"; return 1
    fi
    rm -f "$aptlog"
  fi

  # 2. daemon (reuse a running one; otherwise start our own in the background)
  if timeout 10 docker info >/dev/null 2>&1; then
    git_atlas_docker_step "reusing the running docker daemon"
  else
    if ! pgrep -x dockerd >/dev/null; then       # leftovers of a killed daemon
      rm -f /var/run/docker.pid
      pgrep -x containerd >/dev/null || rm -f /var/run/docker/containerd/containerd.pid
    fi
    git_atlas_docker_step "starting dockerd (log: $GIT_ATLAS_DOCKERD_LOG)"
    dockerd --iptables=false </dev/null >"$GIT_ATLAS_DOCKERD_LOG" 2>&1 &
    GIT_ATLAS_DOCKERD_PID=$!
    git_atlas_cleanups+=(git_atlas_docker_stop)
    for i in $(seq 1 120); do                     # ~60 s
      timeout 5 docker info >/dev/null 2>&1 && break
      if ! kill -0 "$GIT_ATLAS_DOCKERD_PID" 2>/dev/null || [ "$i" -eq 120 ]; then
        echo "docker-setup: dockerd did not come up; its log:" >&2
        tail -n 60 "$GIT_ATLAS_DOCKERD_LOG" >&2
        return 1
      fi
      sleep 0.5
    done
  fi

  # 3. offline image: static busybox + applet symlinks + /www/index.html
  if [ "$(docker image inspect -f '{{index .Config.Labels "org.git-atlas.test-image"}}' \
          "$GIT_ATLAS_TEST_IMAGE" 2>/dev/null || true)" != "$GIT_ATLAS_TEST_IMAGE_REV" ]; then
    git_atlas_docker_step "building $GIT_ATLAS_TEST_IMAGE"
    local root applet
    root=$(mktemp -d)
    mkdir -p "$root/bin" "$root/www" "$root/data" "$root/etc" "$root/tmp"
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list); do
      [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
    done
    echo 'git-atlas-test ok' >"$root/www/index.html"
    tar -C "$root" --owner=0 --group=0 --numeric-owner -c . | docker import \
      --change 'ENV PATH=/bin' \
      --change "LABEL org.git-atlas.test-image=$GIT_ATLAS_TEST_IMAGE_REV" \
      --change 'CMD ["/bin/busybox","httpd","-f","-p","80","-h","/www"]' \
      - "$GIT_ATLAS_TEST_IMAGE" >/dev/null
    rm -rf "$root"
  fi
  docker run --rm "$GIT_ATLAS_TEST_IMAGE" /bin/busybox true

  export GIT_ATLAS_TEST_IMAGE GIT_ATLAS_DOCKERD_LOG
  git_atlas_docker_step "ready: $(docker version -f 'server {{.Server.Version}}, API {{.Server.APIVersion}}'), $(docker-compose version --short 2>/dev/null | sed 's/^/compose /'), setup took $((SECONDS - t0))s"
}

git_atlas_docker_setup

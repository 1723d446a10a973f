#!/usr/bin/env bash
# Local MinIO for the Cunzheng stack, built from source with `go install` (MinIO community
# ships source only), single drive (xl-single: a plain directory; object lock works there).
# S3 API on 127.0.0.1:19000, console on 127.0.0.1:19001, data in .stack/minio/data,
# root user czminio, password in .stack/secrets/minio_password.
# HTTPS (unless CZ_INSECURE_DEV=1) with the certificate from scripts/stack/tls.sh (--certs-dir);
# a running server whose certificates changed, or that runs in the other mode, is restarted.
#   minio.sh install | start | stop | status
set -euo pipefail
# shellcheck source-path=SCRIPTDIR/../lib
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

# The MinIO pin. A Go pseudo-version, because the Go module proxy refuses MinIO's
# RELEASE.* tag names. This commit (2026-02-12) is after RELEASE.2025-10-15, which fixed
# CVE-2025-62506; do not pin anything older.
MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

MINIO_PORT=19000
MINIO_CONSOLE_PORT=19001
MINIO_USER=czminio
MINIO_DIR="$STACK_DIR/minio"
MINIO_DATA="$MINIO_DIR/data"
MINIO_LOG="$CZ_LOG_DIR/minio.log"
MINIO_STAMP_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/cunzheng"
MINIO_STAMP="$MINIO_STAMP_DIR/minio.version"
MINIO_START_TIMEOUT=${CZ_MINIO_START_TIMEOUT:-60}

# where `go install` puts binaries: $GOBIN, else the first $GOPATH entry /bin (default ~/go/bin)
minio_bin_dir() {
  local gobin="" gopath=""
  if command -v go >/dev/null 2>&1; then
    gobin=$(go env GOBIN 2>/dev/null || true)
    gopath=$(go env GOPATH 2>/dev/null || true)
  else
    gobin=${GOBIN:-}
    gopath=${GOPATH:-}
  fi
  if [[ -n "$gobin" ]]; then
    printf '%s\n' "$gobin"
  else
    gopath=${gopath:-$HOME/go}
    printf '%s/bin\n' "${gopath%%:*}"
  fi
}

MINIO_BIN="$(minio_bin_dir)/minio"

# module version embedded in a Go binary (empty if unknown)
minio_built_version() {
  command -v go >/dev/null 2>&1 || return 0
  go version -m "$MINIO_BIN" 2>/dev/null | awk -v m="$MINIO_MODULE" '$1 == "mod" && $2 == m { print $3 }'
}

minio_installed() {
  [[ -x "$MINIO_BIN" && -s "$MINIO_STAMP" && "$(cat "$MINIO_STAMP")" == "$MINIO_VERSION" ]]
}

minio_install() {
  cz_step "minio install (go install)"
  if minio_installed; then
    return 0
  fi
  mkdir -p "$MINIO_STAMP_DIR"
  # a binary from an earlier run without the stamp: trust the version Go embedded in it
  if [[ -x "$MINIO_BIN" && "$(minio_built_version)" == "$MINIO_VERSION" ]]; then
    printf '%s\n' "$MINIO_VERSION" >"$MINIO_STAMP"
    return 0
  fi
  cz_need_cmd go "install Go >= 1.24 (MinIO is built from source with go install)"
  cz_mkdirs
  local golog="$CZ_LOG_DIR/minio-install.log"
  log "building MinIO $MINIO_VERSION with go install (several minutes on a cold cache; log $golog)"
  if ! go install "$MINIO_MODULE@$MINIO_VERSION" >"$golog" 2>&1 </dev/null; then
    cz_tail_log "$golog"
    die "minio install: go install $MINIO_MODULE@$MINIO_VERSION failed"
  fi
  [[ -x "$MINIO_BIN" ]] || die "minio install: go install succeeded but $MINIO_BIN is missing (GOBIN/GOPATH?)"
  printf '%s\n' "$MINIO_VERSION" >"$MINIO_STAMP"
  log "minio installed: $MINIO_BIN ($MINIO_VERSION)"
}

MINIO_CERTS_DIR="$CZ_TLS_DIR/minio"
MINIO_SCHEME=http
cz_tls_on && MINIO_SCHEME=https

minio_health() {
  local tls=()
  cz_tls_on && tls=(--cacert "$CZ_TLS_DIR/ca.crt")
  curl -fsS -o /dev/null --max-time 2 "${tls[@]}" "$MINIO_SCHEME://127.0.0.1:$MINIO_PORT/minio/health/$1" 2>/dev/null
}

# what the server runs with: its mode and, with TLS, the files of its certs dir
minio_config_digest() {
  if cz_tls_on; then
    { echo tls && cz_digest "$MINIO_CERTS_DIR/public.crt" "$MINIO_CERTS_DIR/private.key" "$MINIO_CERTS_DIR/CAs/ca.crt"; } | cz_digest /dev/stdin
  else
    echo plain | cz_digest /dev/stdin
  fi
}

minio_wait_ready() {
  cz_step "minio wait ready"
  local deadline=$((SECONDS + MINIO_START_TIMEOUT))
  cz_wait_port "$MINIO_PORT" "$MINIO_START_TIMEOUT" minio "$MINIO_LOG"
  until minio_health live && minio_health ready; do
    if ! cz_running minio; then
      cz_tail_log "$MINIO_LOG"
      die "minio exited during start-up"
    fi
    if ((SECONDS >= deadline)); then
      cz_tail_log "$MINIO_LOG"
      die "minio: $MINIO_SCHEME://127.0.0.1:$MINIO_PORT/minio/health/live not healthy after ${MINIO_START_TIMEOUT}s"
    fi
    sleep 0.5
  done
}

minio_start() {
  cz_need_cmd curl "apt-get install curl"
  local pid digest tls_args=()
  if cz_tls_on; then
    [[ -s "$MINIO_CERTS_DIR/public.crt" ]] || die "minio: no certificate in $MINIO_CERTS_DIR (run scripts/stack/tls.sh)"
    tls_args=(--certs-dir "$MINIO_CERTS_DIR")
  fi
  digest=$(minio_config_digest)
  if cz_running minio && cz_config_changed minio "$digest"; then
    log "minio: configuration changed (TLS or certificates): restarting it"
    minio_stop
  fi
  if pid=$(cz_pid minio); then
    log "minio already running (pid $pid)"
  else
    minio_install
    cz_step "minio start"
    cz_port_free_or_die "$MINIO_PORT" minio
    cz_port_free_or_die "$MINIO_CONSOLE_PORT" minio
    mkdir -p "$MINIO_DATA"
    local pw
    pw=$(cz_secret minio_password 24)
    # credentials via the environment (not the command line); subshell keeps them local
    (
      export MINIO_ROOT_USER="$MINIO_USER" MINIO_ROOT_PASSWORD="$pw"
      export MINIO_UPDATE=off MINIO_BROWSER=on
      cz_start minio "$MINIO_LOG" "$MINIO_BIN" server "$MINIO_DATA" "${tls_args[@]}" \
        --address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT"
    )
    cz_config_record minio "$digest"
  fi
  minio_wait_ready
}

minio_stop() {
  cz_step "minio stop"
  cz_stop minio 20
}

minio_status() {
  local pid
  if pid=$(cz_pid minio); then
    echo "minio    running  pid $pid  127.0.0.1:$MINIO_PORT (console :$MINIO_CONSOLE_PORT)"
  else
    echo "minio    stopped"
    return 1
  fi
}

case "${1:-}" in
  install) minio_install ;;
  start) minio_start ;;
  stop) minio_stop ;;
  restart) minio_stop && minio_start ;;
  status) if minio_status; then exit 0; else exit 3; fi ;;
  *) die "usage: $0 install|start|stop|restart|status" ;;
esac

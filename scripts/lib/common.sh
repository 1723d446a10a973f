# shellcheck shell=bash
# Shared helpers for the Cunzheng stack / service scripts. Source it, don't run it:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
#
# Provides:
#   cz_root            absolute repo root (computed from this file's location, any cwd works)
#   STACK_DIR          $cz_root/.stack (override with CZ_STACK_DIR=/abs/path)
#   log MSG            "[cz HH:MM:SS] MSG" on stderr
#   die MSG            log + exit 1
#   cz_step NAME       names the current step; an unexpected failing command then reports
#                      "FAILED in step NAME" (ERR trap), so every failure names its step
#   cz_need_cmd CMD [HINT]        die unless CMD is on PATH
#   cz_start NAME LOGFILE CMD...  start CMD in its own session (setsid + nohup), stdout+stderr
#                                 appended to LOGFILE, pid in $STACK_DIR/pids/NAME.pid;
#                                 no-op if NAME is already running
#   cz_stop NAME [TIMEOUT]        TERM the whole process group, wait (20 s), then KILL; removes
#                                 the pid file; fine if not running
#   cz_running NAME               exit 0 if NAME (pid file) is alive, else 1
#   cz_pid NAME                   print NAME's pid if running
#   cz_port_open PORT             exit 0 if 127.0.0.1:PORT accepts TCP
#   cz_wait_port PORT TIMEOUT NAME [LOGFILE]
#                                 wait until 127.0.0.1:PORT accepts TCP, else die with the last
#                                 40 lines of LOGFILE (default $STACK_DIR/logs/NAME.log); also
#                                 fails fast if NAME's process died meanwhile
#   cz_secret NAME [LEN]          print $STACK_DIR/secrets/NAME, creating it once (random
#                                 alphanumeric, LEN=24, chmod 600)
#   cz_apt_install PKG...         apt-get install -y (noninteractive), apt-get update on failure
#   cz_lock                       serialise stack operations (flock on $STACK_DIR/.lock)
#   cz_now / cz_elapsed START     timing helpers (seconds, e.g. "3.2s")
#   CZ_TLS_DIR, cz_tls_on         the stack's certificates (scripts/stack/tls.sh); TLS on every hop
#                                 unless CZ_INSECURE_DEV=1
#   cz_digest FILE...             sha256 of the files' contents (a configuration's identity)
#   cz_config_changed NAME DIGEST 0 if NAME was started with another configuration (or an unknown
#                                 one); cz_config_record NAME DIGEST notes the one it runs with

set -euo pipefail

if [[ -n "${CZ_COMMON_SOURCED:-}" ]]; then
  return 0
fi
CZ_COMMON_SOURCED=1

cz_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
STACK_DIR="${CZ_STACK_DIR:-$cz_root/.stack}"
CZ_LOG_DIR="$STACK_DIR/logs"
CZ_PID_DIR="$STACK_DIR/pids"
CZ_SECRET_DIR="$STACK_DIR/secrets"
CZ_TLS_DIR="$STACK_DIR/tls"
export DEBIAN_FRONTEND=noninteractive

log() {
  printf '[cz %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

# --- step naming + ERR trap -------------------------------------------------------------
CZ_STEP="${CZ_STEP:-$(basename "${BASH_SOURCE[-1]:-$0}")}"

cz_step() {
  CZ_STEP="$*"
}

cz__on_err() {
  local rc=$1 line=$2 cmd=$3 src=$4
  # a failing command substitution / subshell is reported by its parent
  if [[ "${BASH_SUBSHELL:-0}" -eq 0 ]]; then
    log "ERROR: step '${CZ_STEP}' FAILED (exit $rc) at ${src}:${line}: ${cmd}"
  fi
}

if [[ -z "${CZ_NO_ERR_TRAP:-}" ]]; then
  set -E
  trap 'cz__on_err "$?" "$LINENO" "$BASH_COMMAND" "${BASH_SOURCE[0]:-?}"' ERR
fi

# --- small utilities --------------------------------------------------------------------
cz_need_cmd() {
  local cmd=$1 hint=${2:-}
  command -v "$cmd" >/dev/null 2>&1 || die "required command '$cmd' not found${hint:+ ($hint)}"
}

cz_now() {
  printf '%s' "${EPOCHREALTIME:-$(date +%s.%N)}"
}

cz_elapsed() {
  local start=$1 end
  end=$(cz_now)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1fs", e - s }'
}

cz_mkdirs() {
  mkdir -p "$STACK_DIR" "$CZ_LOG_DIR" "$CZ_PID_DIR"
  mkdir -p "$CZ_SECRET_DIR"
  chmod 700 "$CZ_SECRET_DIR"
}

cz_secret() {
  local name=$1 len=${2:-24} file s=""
  cz_mkdirs
  file="$CZ_SECRET_DIR/$name"
  if [[ ! -s "$file" ]]; then
    while ((${#s} < len)); do
      s+=$(LC_ALL=C tr -dc 'A-Za-z0-9' < <(head -c 1024 /dev/urandom))
    done
    (umask 077 && printf '%s\n' "${s:0:len}" >"$file.tmp")
    mv -f "$file.tmp" "$file"
  fi
  chmod 600 "$file"
  head -n1 "$file" | tr -d '\r\n'
}

cz_lock() {
  # Hold an exclusive lock for the rest of this process (and children) so that two
  # up/down runs do not race. Children see CZ_LOCK_HELD and do not lock again.
  [[ -n "${CZ_LOCK_HELD:-}" ]] && return 0
  command -v flock >/dev/null 2>&1 || return 0
  cz_mkdirs
  exec 9>"$STACK_DIR/.lock"
  if ! flock -n 9; then
    log "another stack operation holds $STACK_DIR/.lock; waiting (up to 15 min)"
    flock -w 900 9 || die "timed out waiting for $STACK_DIR/.lock"
  fi
  export CZ_LOCK_HELD=1
}

cz_apt_install() {
  local sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install $*"
    sudo=(sudo -n)
  fi
  cz_need_cmd apt-get "this stack installs system packages with apt (Debian/Ubuntu)"
  local aptlog="$CZ_LOG_DIR/apt.log"
  cz_mkdirs
  log "apt-get install $* (log: $aptlog)"
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >>"$aptlog" 2>&1 9>&- </dev/null; then
    log "apt-get install failed; running apt-get update once and retrying"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$aptlog" 2>&1 9>&- </dev/null ||
      { tail -n 20 "$aptlog" >&2; die "apt-get update failed"; }
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >>"$aptlog" 2>&1 9>&- </dev/null ||
      { tail -n 20 "$aptlog" >&2; die "apt-get install $* failed"; }
  fi
}

# --- transport security and configuration changes ---------------------------------------
# TLS on every hop of the local stack (servers and clients), unless CZ_INSECURE_DEV=1
cz_tls_on() {
  [[ "${CZ_INSECURE_DEV:-}" != 1 ]]
}

cz_digest() {
  cat "$@" | sha256sum | awk '{ print $1 }'
}

cz_config_changed() {
  local file="$CZ_PID_DIR/$1.config"
  [[ ! -s "$file" || "$(cat "$file")" != "$2" ]]
}

cz_config_record() {
  cz_mkdirs
  printf '%s\n' "$2" >"$CZ_PID_DIR/$1.config"
}

# --- process management -----------------------------------------------------------------
# fields of /proc/PID/stat after "(comm) ": $1 = state (field 3), $20 = starttime (field 22)
cz__stat() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  printf '%s\n' "${stat##*) }"
}

# starttime (clock ticks since boot) of a pid: guards against a recycled pid in a stale file
cz__starttime() {
  local stat
  stat=$(cz__stat "$1") || return 1
  awk '{ print $20 }' <<<"$stat"
}

cz_pid() {
  local name=$1 pidfile pid want stat
  pidfile="$CZ_PID_DIR/$name.pid"
  [[ -f "$pidfile" ]] || return 1
  pid=$(head -n1 "$pidfile" 2>/dev/null | tr -dc '0-9')
  [[ -n "$pid" ]] || return 1
  stat=$(cz__stat "$pid") || return 1
  # a zombie (exited, not yet reaped) is not running
  [[ "$(awk '{ print $1 }' <<<"$stat")" != Z ]] || return 1
  if [[ -s "$CZ_PID_DIR/$name.start" ]]; then
    want=$(cat "$CZ_PID_DIR/$name.start")
    [[ "$want" == "$(awk '{ print $20 }' <<<"$stat")" ]] || return 1
  fi
  printf '%s\n' "$pid"
}

cz_running() {
  cz_pid "$1" >/dev/null
}

cz_start() {
  (($# >= 3)) || die "usage: cz_start NAME LOGFILE CMD [ARGS...]"
  local name=$1 logfile=$2 pid pidfile i
  shift 2
  cz_mkdirs
  pidfile="$CZ_PID_DIR/$name.pid"
  if pid=$(cz_pid "$name"); then
    log "$name already running (pid $pid)"
    return 0
  fi
  rm -f "$pidfile" "$CZ_PID_DIR/$name.start"
  mkdir -p "$(dirname "$logfile")"
  printf '\n===== [cz] %s starting %s: %s\n' "$(date '+%F %T')" "$name" "$*" >>"$logfile"
  # setsid: own session + process group (cz_stop kills the group); nohup: survive hang-up.
  # The inner shell writes its own pid (= the group id) and then execs the command.
  # shellcheck disable=SC2016 # expanded by the inner shell
  nohup setsid bash -c 'echo "$$" >"$0.tmp" && mv -f "$0.tmp" "$0" && exec "$@"' \
    "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  for ((i = 0; i < 100; i++)); do
    [[ -s "$pidfile" ]] && break
    sleep 0.05
  done
  [[ -s "$pidfile" ]] || die "$name: process did not start (no pid file); see $logfile"
  pid=$(head -n1 "$pidfile")
  cz__starttime "$pid" >"$CZ_PID_DIR/$name.start" 2>/dev/null || true
  log "$name started (pid $pid, log $logfile)"
}

# any live (non-zombie) process left in process group $1?
cz__group_alive() {
  ps -e -o pgid=,stat= 2>/dev/null | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

cz_stop() {
  local name=$1 timeout=${2:-20} pid pidfile i
  pidfile="$CZ_PID_DIR/$name.pid"
  if ! pid=$(cz_pid "$name"); then
    if [[ -f "$pidfile" ]]; then
      # leader gone: the group may still have children (e.g. a wrapper's child)
      pid=$(head -n1 "$pidfile" | tr -dc '0-9')
      if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null && cz__group_alive "$pid"; then
        log "$name: leader gone, killing leftover process group $pid"
        kill -KILL -- "-$pid" 2>/dev/null || true
      fi
    fi
    rm -f "$pidfile" "$CZ_PID_DIR/$name.start"
    log "$name not running"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 5; i++)); do
    cz__group_alive "$pid" || cz_running "$name" || break
    sleep 0.2
  done
  if cz__group_alive "$pid" || cz_running "$name"; then
    log "$name did not stop within ${timeout}s; sending KILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      cz__group_alive "$pid" || break
      sleep 0.1
    done
  fi
  rm -f "$pidfile" "$CZ_PID_DIR/$name.start"
  log "$name stopped"
}

# --- ports ------------------------------------------------------------------------------
cz_port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# who listens on a port (best effort, for error messages)
cz_port_owner() {
  if command -v ss >/dev/null 2>&1; then
    ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'users:.*' | head -n1 || true
  fi
}

# die if PORT is taken although NAME (ours) is not running
cz_port_free_or_die() {
  local port=$1 name=$2
  if cz_port_open "$port"; then
    die "$name: port 127.0.0.1:$port is already in use by another process ($(cz_port_owner "$port")); is another stack (other clone/STACK_DIR) running? stop it first"
  fi
}

cz_tail_log() {
  local logfile=$1 n=${2:-40}
  if [[ -f "$logfile" ]]; then
    printf -- '----- last %s lines of %s -----\n' "$n" "$logfile" >&2
    tail -n "$n" "$logfile" >&2
    printf -- '-----\n' >&2
  else
    log "(no log file $logfile)"
  fi
}

cz_wait_port() {
  local port=$1 timeout=$2 name=$3 logfile=${4:-} deadline
  [[ -n "$logfile" ]] || logfile="$CZ_LOG_DIR/$name.log"
  deadline=$((SECONDS + timeout))
  while ! cz_port_open "$port"; do
    if [[ -f "$CZ_PID_DIR/$name.pid" ]] && ! cz_running "$name"; then
      cz_tail_log "$logfile"
      die "$name exited before listening on 127.0.0.1:$port"
    fi
    if ((SECONDS >= deadline)); then
      cz_tail_log "$logfile"
      die "$name: 127.0.0.1:$port not accepting connections after ${timeout}s"
    fi
    sleep 0.3
  done
}

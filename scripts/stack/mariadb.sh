#!/usr/bin/env bash
# Local MariaDB for the Cunzheng stack: our own mariadbd (not the system service) on
# 127.0.0.1:13306, state in .stack/mariadb, log .stack/logs/mariadb.log.
#   mariadb.sh install | start | stop | status
# start also (idempotently) creates the user cz@127.0.0.1 / cz@localhost (password in
# .stack/secrets/db_password) with ALL on `cz\_%`.*, and the databases cz_main, cz_keys.
# TLS (unless CZ_INSECURE_DEV=1): the certificate from scripts/stack/tls.sh and
# require_secure_transport=ON, so plain TCP connections are refused (the unix socket, used only
# by these scripts as the local admin, counts as secure). A running server whose configuration
# changed (e.g. TLS switched on, a certificate re-issued) is restarted.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR/../lib
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

MARIADB_PORT=13306
MARIADB_DIR="$STACK_DIR/mariadb"
MARIADB_DATA="$MARIADB_DIR/data"
MARIADB_SOCK="$MARIADB_DIR/mysqld.sock"
MARIADB_CNF="$MARIADB_DIR/my.cnf"
MARIADB_LOG="$CZ_LOG_DIR/mariadb.log"
MARIADB_TEMPLATE="$cz_root/deploy/mariadb/my.cnf"
DB_USER=cz
DATABASES=(cz_main cz_keys)

# Debian puts mariadbd in /usr/sbin, which a non-root PATH may lack
PATH="$PATH:/usr/sbin:/sbin"

mariadb_install() {
  cz_step "mariadb install"
  if command -v mariadbd >/dev/null 2>&1 && command -v mariadb >/dev/null 2>&1 &&
    command -v mariadb-install-db >/dev/null 2>&1; then
    return 0
  fi
  cz_apt_install mariadb-server mariadb-client
  command -v mariadbd >/dev/null 2>&1 || die "mariadb install: mariadbd still missing after apt-get install"
  # the package may have started the system service (port 3306); we do not use it
  log "mariadb installed ($(mariadbd --version | head -n1))"
}

mariadb_render_config() {
  cz_step "mariadb config"
  [[ -f "$MARIADB_TEMPLATE" ]] || die "missing $MARIADB_TEMPLATE"
  mkdir -p "$MARIADB_DIR/tmp" "$CZ_LOG_DIR"
  sed -e "s#@MARIADB_DIR@#$MARIADB_DIR#g" -e "s#@LOG_DIR@#$CZ_LOG_DIR#g" \
    "$MARIADB_TEMPLATE" >"$MARIADB_CNF.tmp"
  if cz_tls_on; then
    [[ -s "$CZ_TLS_DIR/server/mariadb.crt" ]] || die "mariadb: no certificate in $CZ_TLS_DIR (run scripts/stack/tls.sh)"
    cat >>"$MARIADB_CNF.tmp" <<CNF

# TLS (written by scripts/stack/mariadb.sh; certificates from scripts/stack/tls.sh): TCP clients
# must use TLS 1.2+ with forward-secret AEAD suites; the unix socket stays for the local admin
[mysqld]
ssl_ca   = $CZ_TLS_DIR/ca.crt
ssl_cert = $CZ_TLS_DIR/server/mariadb.crt
ssl_key  = $CZ_TLS_DIR/server/mariadb.key
ssl_cipher = ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305
tls_version = TLSv1.2,TLSv1.3
require_secure_transport = ON
CNF
  fi
  mv -f "$MARIADB_CNF.tmp" "$MARIADB_CNF"
}

# the configuration the server runs with: my.cnf and, with TLS, the certificate files it reads
mariadb_config_digest() {
  local files=("$MARIADB_CNF")
  if cz_tls_on; then
    files+=("$CZ_TLS_DIR/ca.crt" "$CZ_TLS_DIR/server/mariadb.crt" "$CZ_TLS_DIR/server/mariadb.key")
  fi
  cz_digest "${files[@]}"
}

# client as the unix user via the socket (mariadb-install-db gives root and the --user
# account unix_socket authentication)
mariadb_root() {
  mariadb --defaults-file="$MARIADB_CNF" --socket="$MARIADB_SOCK" -u"$(id -un)" "$@"
}

mariadb_init_datadir() {
  cz_step "mariadb init datadir"
  if [[ -d "$MARIADB_DATA/mysql" ]]; then
    return 0
  fi
  if [[ -d "$MARIADB_DATA" ]] && [[ -n "$(ls -A "$MARIADB_DATA")" ]]; then
    die "mariadb: $MARIADB_DATA is not empty but has no system tables; remove it to re-initialise"
  fi
  log "initialising MariaDB datadir $MARIADB_DATA"
  local tmp="$MARIADB_DIR/data.init"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # initialise into a temporary dir and rename, so an interrupted init leaves nothing half-done
  if ! mariadb-install-db --defaults-file="$MARIADB_CNF" --user="$(id -un)" --datadir="$tmp" \
    --auth-root-authentication-method=socket --skip-test-db >>"$MARIADB_LOG" 2>&1; then
    cz_tail_log "$MARIADB_LOG"
    die "mariadb: mariadb-install-db failed"
  fi
  rm -rf "$MARIADB_DATA"
  mv "$tmp" "$MARIADB_DATA"
}

mariadb_wait_ready() {
  cz_step "mariadb wait ready"
  local deadline=$((SECONDS + ${1:-60})) out=""
  until out=$(mariadb-admin --defaults-file="$MARIADB_CNF" --socket="$MARIADB_SOCK" -u"$(id -un)" \
    --connect-timeout=2 ping 2>&1); do
    if ! cz_running mariadb; then
      cz_tail_log "$MARIADB_LOG"
      die "mariadb exited during start-up"
    fi
    if ((SECONDS >= deadline)); then
      cz_tail_log "$MARIADB_LOG"
      log "last mariadb-admin ping said: $out"
      die "mariadb does not answer mariadb-admin ping on $MARIADB_SOCK after ${1:-60}s"
    fi
    sleep 0.3
  done
  # ready on the socket; TCP should be up too (bind-address 127.0.0.1)
  cz_wait_port "$MARIADB_PORT" 10 mariadb "$MARIADB_LOG"
}

mariadb_provision() {
  cz_step "mariadb provision (user $DB_USER, databases)"
  local pw sql db
  pw=$(cz_secret db_password 24)
  [[ "$pw" =~ ^[A-Za-z0-9]+$ ]] || die "mariadb: $CZ_SECRET_DIR/db_password must be alphanumeric"
  sql=""
  for host in 127.0.0.1 localhost; do
    sql+="CREATE USER IF NOT EXISTS '$DB_USER'@'$host' IDENTIFIED BY '$pw';"$'\n'
    # keeps the account in sync with the secret file if that was replaced
    sql+="ALTER USER '$DB_USER'@'$host' IDENTIFIED BY '$pw';"$'\n'
    sql+="GRANT ALL PRIVILEGES ON \`cz\\_%\`.* TO '$DB_USER'@'$host';"$'\n'
  done
  for db in "${DATABASES[@]}"; do
    sql+="CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"$'\n'
  done
  # via stdin: the password does not show up in ps
  if ! mariadb_root --batch <<<"$sql" >>"$MARIADB_LOG" 2>&1; then
    cz_tail_log "$MARIADB_LOG" 10
    die "mariadb: creating user/databases failed"
  fi
}

mariadb_start() {
  cz_need_cmd mariadbd "run: $0 install"
  mariadb_render_config
  local pid digest
  digest=$(mariadb_config_digest)
  if cz_running mariadb && cz_config_changed mariadb "$digest"; then
    log "mariadb: configuration changed (TLS, certificates or my.cnf): restarting it"
    mariadb_stop
  fi
  if pid=$(cz_pid mariadb); then
    log "mariadb already running (pid $pid)"
  else
    cz_step "mariadb start"
    cz_port_free_or_die "$MARIADB_PORT" mariadb
    mariadb_init_datadir
    cz_step "mariadb start"
    rm -f "$MARIADB_SOCK"
    cz_start mariadb "$MARIADB_LOG" mariadbd --defaults-file="$MARIADB_CNF" --user="$(id -un)"
    cz_config_record mariadb "$digest"
  fi
  mariadb_wait_ready 60
  mariadb_provision
}

mariadb_stop() {
  cz_step "mariadb stop"
  # mariadbd shuts down cleanly on TERM (flushes InnoDB); allow it a bit longer than the default
  cz_stop mariadb 30
}

mariadb_status() {
  local pid
  if pid=$(cz_pid mariadb); then
    echo "mariadb  running  pid $pid  127.0.0.1:$MARIADB_PORT"
  else
    echo "mariadb  stopped"
    return 1
  fi
}

case "${1:-}" in
  install) mariadb_install ;;
  start) mariadb_start ;;
  stop) mariadb_stop ;;
  restart) mariadb_stop && mariadb_start ;;
  status) if mariadb_status; then exit 0; else exit 3; fi ;;
  *) die "usage: $0 install|start|stop|restart|status" ;;
esac

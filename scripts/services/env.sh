# shellcheck shell=bash
# Sourced by the service scripts: secrets of the local services and the stack's connection env.
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

cz_services_env() {
  mkdir -p "$STACK_DIR/secrets"
  [[ -f "$STACK_DIR/stack.env" ]] || die "$STACK_DIR/stack.env missing: the infrastructure is not up (scripts/stack/up.sh)"
  # shared by every service and test: where the key service is. Each service's own key-service
  # credential is handed to that service alone when it starts (cz_service_secrets).
  (umask 077 && printf 'export CZ_KEYSERVICE_URL=http://127.0.0.1:8082\n' >"$STACK_DIR/services.env")
  # shellcheck disable=SC1091
  source "$STACK_DIR/stack.env"
  # shellcheck disable=SC1091
  source "$STACK_DIR/services.env"
}

# --- key service (local stack) ----------------------------------------------------------
# The local stack initialises the key service itself and keeps its Shamir shares and the
# officers' credentials in .stack/secrets/keyservice/ so that `make up` can unseal it
# unattended. That is a DEMO convenience: in a real deployment `keys init` prints the shares
# once, each security officer keeps one (on paper or a token), and the service stays sealed
# after every restart until enough officers have run `keys unseal`.
CZ_KEYS_SECRET_DIR="$STACK_DIR/secrets/keyservice"
CZ_KEYS_OFFICERS=(officer-a officer-b officer-c)
# local tools (tests, demo, benchmarks) have a credential of their own
CZ_KEYS_DEV_CALLER=dev

cz_keys_cli() {
  npx tsx "$cz_root/services/keyservice/src/cli.ts" "$@"
}

# The key service's own MariaDB account, limited to cz_keys. Creating it needs the local
# server's root socket; without it the stack's account is used. Sets CZ_KEYS_DB_USER/PASSWORD.
cz_keys_db_account() {
  local pw sql host sock="$STACK_DIR/mariadb/mysqld.sock" cnf="$STACK_DIR/mariadb/my.cnf"
  pw=$(cz_secret keys_db_password 24)
  CZ_KEYS_DB_USER=$CZ_DB_USER
  CZ_KEYS_DB_PASSWORD=$CZ_DB_PASSWORD
  if [[ -S "$sock" && -f "$cnf" ]] && command -v mariadb >/dev/null 2>&1; then
    sql=""
    for host in 127.0.0.1 localhost; do
      sql+="CREATE USER IF NOT EXISTS 'czkeys'@'$host' IDENTIFIED BY '$pw';"$'\n'
      sql+="ALTER USER 'czkeys'@'$host' IDENTIFIED BY '$pw';"$'\n'
      sql+="GRANT ALL PRIVILEGES ON \`cz\\_keys\`.* TO 'czkeys'@'$host';"$'\n'
    done
    if mariadb --defaults-file="$cnf" --socket="$sock" -u"$(id -un)" --batch <<<"$sql" >>"$CZ_LOG_DIR/mariadb.log" 2>&1; then
      CZ_KEYS_DB_USER=czkeys
      CZ_KEYS_DB_PASSWORD=$pw
      return 0
    fi
  fi
  log "could not create the key service's own database account; it uses the stack's account"
}

# Exports the secrets of service NAME (call in the subshell that starts it).
cz_service_secrets() {
  local name=$1 token_file
  case "$name" in
    keyservice)
      export CZ_KEYS_DB_USER CZ_KEYS_DB_PASSWORD
      ;;
    *)
      token_file="$CZ_KEYS_SECRET_DIR/callers/$name.token"
      [[ -s "$token_file" ]] || die "$name has no key-service credential ($token_file)"
      CZ_KEYSERVICE_TOKEN=$(head -n1 "$token_file")
      export CZ_KEYSERVICE_TOKEN
      ;;
  esac
  if [[ "$name" == portal ]]; then
    CZ_PORTAL_CURSOR_KEY=$(cz_secret portal_cursor_key 48)
    export CZ_PORTAL_CURSOR_KEY
  fi
  if [[ "$name" == portal || "$name" == recordings ]]; then
    # the portal presents it to read recordings and media (interim service-to-service secret)
    CZ_RECORDINGS_READ_TOKEN=$(cz_secret recordings_read_token 40)
    export CZ_RECORDINGS_READ_TOKEN
  fi
}

# Initialises the key service on first run, unseals it with the demo shares, and makes sure every
# service (and local tools) has a credential. The key service must be listening.
cz_keys_bootstrap() {
  local status initialized sealed name officer_token args=()
  status=$(node -e 'fetch(process.argv[1]).then((r) => r.json()).then((s) => console.log(`${s.initialized} ${s.sealed}`))' \
    "http://127.0.0.1:8082/v1/sys/status") || die "key service: no status answer"
  read -r initialized sealed <<<"$status"
  if [[ "$initialized" != true ]]; then
    if [[ -d "$CZ_KEYS_SECRET_DIR/shares" ]]; then
      # the key database was recreated: the old shares and credentials are worthless now
      log "key service database is empty: setting aside the old demo key secrets"
      mv "$CZ_KEYS_SECRET_DIR" "$CZ_KEYS_SECRET_DIR.replaced-$(date +%Y%m%d%H%M%S)"
    fi
    for name in "${CZ_KEYS_OFFICERS[@]}"; do args+=(--officer "$name"); done
    for entry in "${CZ_SERVICES[@]}"; do
      name=${entry%%:*}
      [[ "$name" == keyservice ]] || args+=(--caller "$name")
    done
    args+=(--caller "$CZ_KEYS_DEV_CALLER")
    log "initialising the key service (5 shares, threshold 3; demo shares kept in $CZ_KEYS_SECRET_DIR)"
    cz_keys_cli init --shares 5 --threshold 3 "${args[@]}" --save-demo-secrets "$CZ_KEYS_SECRET_DIR"
    sealed=true
  fi
  if [[ "$sealed" == true ]]; then
    [[ -d "$CZ_KEYS_SECRET_DIR/shares" ]] ||
      die "the key service is sealed and this stack keeps no demo shares: security officers unseal it with: npx tsx services/keyservice/src/cli.ts unseal"
    log "unsealing the key service with the demo shares"
    cz_keys_cli unseal --demo-dir "$CZ_KEYS_SECRET_DIR"
  fi
  officer_token="$CZ_KEYS_SECRET_DIR/officers/${CZ_KEYS_OFFICERS[0]}.token"
  for entry in "${CZ_SERVICES[@]}" "$CZ_KEYS_DEV_CALLER:0"; do
    name=${entry%%:*}
    [[ "$name" == keyservice || -s "$CZ_KEYS_SECRET_DIR/callers/$name.token" ]] && continue
    [[ -s "$officer_token" ]] || die "no officer credential to issue a key-service credential for $name"
    log "issuing a key-service credential for $name"
    cz_keys_cli caller-add "$name" --token-file "$officer_token" --save "$CZ_KEYS_SECRET_DIR/callers/$name.token"
  done
}

# name:port of every service, in start order
# (the Finance-SDK puller stays idle until CZ_WECOM_SDK_PATH names the bank's libWeWorkFinanceSdk_C.so)
CZ_SERVICES=(keyservice:8082 archiver:8083 ingest:8081 recordings:8084 puller:8086 compliance:8085 portal:8080)

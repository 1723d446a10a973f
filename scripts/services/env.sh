# shellcheck shell=bash
# Sourced by the service scripts: secrets of the local services and the stack's connection env.
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

cz_services_env() {
  mkdir -p "$STACK_DIR/secrets"
  [[ -f "$STACK_DIR/stack.env" ]] || die "$STACK_DIR/stack.env missing: the infrastructure is not up (scripts/stack/up.sh)"
  # shellcheck disable=SC1091
  source "$STACK_DIR/stack.env"
  # shared by every service and test: where the services are. Each service's own key-service
  # credential is handed to that service alone when it starts (cz_service_secrets).
  (umask 077 && cz_services_urls >"$STACK_DIR/services.env")
  # shellcheck disable=SC1091
  source "$STACK_DIR/services.env"
}

# --- transport security of the services ---------------------------------------------------
# The services' URLs: https (each service serves its certificate from .stack/tls), plain http
# only when the stack runs with CZ_INSECURE_DEV=1 (stack.env says so).
cz_services_urls() {
  local scheme=https
  cz_tls_on || scheme=http
  printf 'export %s=%s://127.0.0.1:%s\n' \
    CZ_CONSOLE_URL "$scheme" 8080 \
    CZ_INGEST_URL "$scheme" 8081 \
    CZ_KEYSERVICE_URL "$scheme" 8082 \
    CZ_ARCHIVER_URL "$scheme" 8083 \
    CZ_RECORDINGS_URL "$scheme" 8084 \
    CZ_COMPLIANCE_URL "$scheme" 8085 \
    CZ_PULLER_URL "$scheme" 8086
}

# Exports service NAME's TLS material (call in the subshell that starts it): its server
# certificate, and its client certificate (CN = NAME) for Kafka and the other services. The CA
# is in stack.env. NODE_EXTRA_CA_CERTS is dropped: a service passes the CA to each client itself.
cz_service_tls() {
  local name=$1
  unset NODE_EXTRA_CA_CERTS
  cz_tls_on || return 0
  [[ -s "$CZ_TLS_DIR/server/$name.crt" ]] || die "$name has no certificate in $CZ_TLS_DIR (scripts/stack/up.sh makes them)"
  export CZ_TLS_SERVER_CERT_FILE="$CZ_TLS_DIR/server/$name.crt"
  export CZ_TLS_SERVER_KEY_FILE="$CZ_TLS_DIR/server/$name.key"
  if [[ -s "$CZ_TLS_DIR/clients/$name.crt" ]]; then
    export CZ_TLS_CLIENT_CERT_FILE="$CZ_TLS_DIR/clients/$name.crt"
    export CZ_TLS_CLIENT_KEY_FILE="$CZ_TLS_DIR/clients/$name.key"
  else
    # a service that calls no one over mutual TLS (the key service) presents no client certificate
    unset CZ_TLS_CLIENT_CERT_FILE CZ_TLS_CLIENT_KEY_FILE
  fi
}

# --- key service (local stack) ----------------------------------------------------------
# The local stack runs the key ceremony itself so that `make up` comes up unattended: it keeps
# every officer's SM2 private key and credential, the encrypted shares and the one-time bootstrap
# secret in .stack/secrets/keyservice/ (officers/, init/, bootstrap-secret). That is a DEMO
# convenience: in a real deployment each officer generates their key pair on their own machine
# (keys keygen), enrols the public key, keeps their private key and their share file to
# themselves, and the service stays sealed after every restart until enough officers have run
# `keys unseal`. Service callers are issued the way officers would: officer-a requests,
# officer-b approves, officer-a collects the credential encrypted to officer-a's key.
CZ_KEYS_SECRET_DIR="$STACK_DIR/secrets/keyservice"
CZ_KEYS_OFFICERS=(officer-a officer-b officer-c)
CZ_KEYS_THRESHOLD=2
# local tools (tests, demo, benchmarks) have a credential of their own
CZ_KEYS_DEV_CALLER=dev
# What each caller may do (deny by default): name|data classes|operations|corps. Where a service
# seals (keys.seal) or opens (keys.unwrap) which class, and whom it calls, is in the README's
# trust model. The puller of a real deployment is bound to its own corp, not '*'.
CZ_KEYS_CALLER_GRANTS=(
  "ingest|chat,index,audit|keys.seal,keys.index,callers.introspect|*"
  "archiver|chat,pii,index,audit|keys.seal,keys.unwrap,keys.index,callers.introspect|*"
  "recordings|chat,recording|keys.seal,keys.unwrap,callers.introspect|*"
  "portal|chat,pii,index,audit|keys.seal,keys.unwrap,keys.index,recordings.read,compliance.lexicon|*"
  "puller|chat,pii|keys.seal,keys.unwrap,ingest.write,recordings.write|*"
  "compliance|chat,pii,index,audit|keys.seal,keys.unwrap,keys.index,callers.introspect|*"
  "$CZ_KEYS_DEV_CALLER|chat,recording,pii,index,audit|keys.seal,keys.unwrap,keys.index,keys.rewrap,callers.introspect,ingest.write,recordings.write,recordings.read,archiver.read,archiver.reconcile,compliance.lexicon|*"
)

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
  cz_service_tls "$name"
  case "$name" in
    keyservice)
      export CZ_KEYS_DB_USER CZ_KEYS_DB_PASSWORD
      # enrolment and init need it; once initialised the key service refuses it
      CZ_KEYS_BOOTSTRAP_SECRET=$(cz_keys_bootstrap_secret)
      export CZ_KEYS_BOOTSTRAP_SECRET
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
}

# The deployment's one-time bootstrap secret (kept until the key service is initialised).
cz_keys_bootstrap_secret() {
  local file="$CZ_KEYS_SECRET_DIR/bootstrap-secret"
  mkdir -p "$CZ_KEYS_SECRET_DIR" && chmod 700 "$CZ_KEYS_SECRET_DIR"
  [[ -s "$file" ]] || (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '=+/\n' >"$file")
  head -n1 "$file"
}

# Runs the ceremony on first run (officers' key pairs, enrolment, init, each officer opening their
# credential), unseals with every officer's own share, and makes sure every service (and the local
# tools) has a credential with the grants above, issued and widened under dual control.
# The key service must be listening.
cz_keys_bootstrap() {
  local status initialized sealed name replaced dir="$CZ_KEYS_SECRET_DIR"
  status=$(node -e 'fetch(process.argv[1]).then((r) => r.json()).then((s) => console.log(`${s.initialized} ${s.sealed}`))' \
    "$CZ_KEYSERVICE_URL/v1/sys/status") || die "key service: no status answer"
  read -r initialized sealed <<<"$status"
  if [[ "$initialized" != true ]]; then
    if [[ -d "$dir/shares" || -d "$dir/init" ]]; then
      # the key database was recreated: the old shares and credentials are worthless now
      log "key service database is empty: setting aside the old demo key secrets"
      replaced="$dir.replaced-$(date +%Y%m%d%H%M%S)"
      mv "$dir" "$replaced"
      # the running key service holds this deployment's bootstrap secret: it stays
      mkdir -p "$dir" && { [[ ! -s "$replaced/bootstrap-secret" ]] || cp -p "$replaced/bootstrap-secret" "$dir/"; }
    fi
    mkdir -p "$dir/officers" "$dir/callers" && chmod 700 "$dir" "$dir/officers" "$dir/callers"
    log "initialising the key service (${#CZ_KEYS_OFFICERS[@]} officers, threshold $CZ_KEYS_THRESHOLD; demo officer keys kept in $dir)"
    # each officer: key pair, enrolment; init; each officer opens their own credential
    cz_keys_cli demo-ceremony --demo-dir "$dir" --threshold "$CZ_KEYS_THRESHOLD" \
      --bootstrap-secret-file "$dir/bootstrap-secret" "${CZ_KEYS_OFFICERS[@]/#/--officer=}"
    sealed=true
  fi
  if [[ "$sealed" == true ]]; then
    [[ -d "$dir/officers" ]] ||
      die "the key service is sealed and this stack keeps no demo officers: security officers unseal it with: npx tsx services/keyservice/src/cli.ts unseal --key … --share-file …"
    log "unsealing the key service with the demo officers' shares"
    cz_keys_cli unseal --demo-dir "$dir"
  fi
  # a stack initialised before enrolment existed: its officers register their keys now
  for name in "${CZ_KEYS_OFFICERS[@]::2}"; do
    [[ -s "$dir/officers/$name.key" ]] && continue
    cz_keys_cli keygen --out "$dir/officers/$name.key" >/dev/null
    cz_keys_cli register-key --public-key "$dir/officers/$name.key.pub" --token-file "$dir/officers/$name.token" --skip-registered
  done
  # every caller of the table: issued, re-issued or widened by officer-a's request and officer-b's approval
  cz_keys_cli demo-provision --demo-dir "$dir" --officer "${CZ_KEYS_OFFICERS[0]}" --officer "${CZ_KEYS_OFFICERS[1]}" \
    "${CZ_KEYS_CALLER_GRANTS[@]/#/--grant=}"
  # the bootstrap secret is used up once the key service is initialised
  rm -f "$dir/bootstrap-secret"
}

# name:port of every service, in start order
# (the Finance-SDK puller stays idle until CZ_WECOM_SDK_PATH names the bank's libWeWorkFinanceSdk_C.so)
CZ_SERVICES=(keyservice:8082 archiver:8083 ingest:8081 recordings:8084 puller:8086 compliance:8085 portal:8080)

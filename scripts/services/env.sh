# shellcheck shell=bash
# Sourced by the service scripts: secrets of the local services and the stack's connection env.
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

cz_services_env() {
  mkdir -p "$STACK_DIR/secrets"
  local key_file="$STACK_DIR/secrets/dev_master_key"
  if [[ ! -s "$key_file" ]]; then
    # placeholder key source until the key service holds the root key (see README "Keys")
    (umask 077 && node -e "process.stdout.write(require('crypto').randomBytes(32).toString('hex'))" >"$key_file")
  fi
  (umask 077 && printf 'export CZ_DEV_MASTER_KEY=%s\n' "$(cat "$key_file")" >"$STACK_DIR/services.env")
  [[ -f "$STACK_DIR/stack.env" ]] || die "$STACK_DIR/stack.env missing: the infrastructure is not up (scripts/stack/up.sh)"
  # shellcheck disable=SC1091
  source "$STACK_DIR/stack.env"
  # shellcheck disable=SC1091
  source "$STACK_DIR/services.env"
}

# name:port of every service, in start order
CZ_SERVICES=(keyservice:8082 archiver:8083 ingest:8081 recordings:8084 compliance:8085 portal:8080)

#!/usr/bin/env bash
# Install (if missing) and start the local infrastructure stack on 127.0.0.1:
#   MariaDB 127.0.0.1:13306, Kafka 127.0.0.1:19092, MinIO 127.0.0.1:19000 (console :19001)
# State under .stack/, logs in .stack/logs/<name>.log; connection settings are written to
# .stack/stack.env (source it). Idempotent: running it again with everything up is quick.
# TLS on every hop (the stack's own CA and certificates in .stack/tls, scripts/stack/tls.sh)
# unless CZ_INSECURE_DEV=1; a running stack in the other mode is restarted into this one.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR/../lib
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
here="$(dirname "${BASH_SOURCE[0]}")"

cz_lock
t_all=$(cz_now)
summary=()

t=$(cz_now)
cz_step "install"
bash "$here/install.sh"
summary+=("install  ok                      $(cz_elapsed "$t")")

t=$(cz_now)
if cz_tls_on; then
  cz_step "tls certificates"
  bash "$here/tls.sh"
  summary+=("tls      ok  $CZ_TLS_DIR  $(cz_elapsed "$t")")
else
  log "CZ_INSECURE_DEV=1: MariaDB, Kafka, MinIO and the services speak plain text (local development only)"
fi

t=$(cz_now)
cz_step "start mariadb"
bash "$here/mariadb.sh" start
summary+=("mariadb  up  127.0.0.1:13306     $(cz_elapsed "$t")")

t=$(cz_now)
cz_step "start kafka"
bash "$here/kafka.sh" start
summary+=("kafka    up  127.0.0.1:19092     $(cz_elapsed "$t")")

t=$(cz_now)
cz_step "start minio"
bash "$here/minio.sh" start
summary+=("minio    up  127.0.0.1:19000     $(cz_elapsed "$t")")

cz_step "write stack.env"
db_pw=$(cz_secret db_password 24)
minio_pw=$(cz_secret minio_password 24)
env_file="$STACK_DIR/stack.env"
(
  umask 077
  cat >"$env_file.tmp" <<ENV
# written by scripts/stack/up.sh; source it: . .stack/stack.env
export CZ_DB_HOST=127.0.0.1
export CZ_DB_PORT=13306
export CZ_DB_USER=cz
export CZ_DB_PASSWORD=$db_pw
export CZ_DB_NAME=cz_main
export CZ_KEYS_DB_NAME=cz_keys
export CZ_KAFKA_BROKERS=127.0.0.1:19092
export CZ_MINIO_ENDPOINT=127.0.0.1
export CZ_MINIO_PORT=19000
export CZ_MINIO_ACCESS_KEY=czminio
export CZ_MINIO_SECRET_KEY=$minio_pw
ENV
  if cz_tls_on; then
    # Clients verify every server against the stack's CA; Kafka requires a client certificate
    # (the local tools' and tests' own, CN=dev; each service is given its own when it starts).
    # NODE_EXTRA_CA_CERTS only serves tools started after sourcing this file (fetch in scripts).
    cat >>"$env_file.tmp" <<ENV
export CZ_TLS_CA_FILE=$CZ_TLS_DIR/ca.crt
export CZ_TLS_CLIENT_CERT_FILE=$CZ_TLS_DIR/clients/dev.crt
export CZ_TLS_CLIENT_KEY_FILE=$CZ_TLS_DIR/clients/dev.key
export CZ_DB_TLS=1
export CZ_KAFKA_TLS=1
export CZ_MINIO_USE_SSL=true
export NODE_EXTRA_CA_CERTS=$CZ_TLS_DIR/ca.crt
ENV
  else
    cat >>"$env_file.tmp" <<ENV
# plain text everywhere: local development only
export CZ_INSECURE_DEV=1
export CZ_DB_TLS=0
export CZ_KAFKA_TLS=0
export CZ_MINIO_USE_SSL=false
ENV
  fi
)
mv -f "$env_file.tmp" "$env_file"
chmod 600 "$env_file"

for line in "${summary[@]}"; do
  log "$line"
done
log "stack up in $(cz_elapsed "$t_all"); env: $env_file"

#!/usr/bin/env bash
# Install (if missing) and start the local infrastructure stack on 127.0.0.1:
#   MariaDB 127.0.0.1:13306, Kafka 127.0.0.1:19092, MinIO 127.0.0.1:19000 (console :19001)
# State under .stack/, logs in .stack/logs/<name>.log; connection settings are written to
# .stack/stack.env (source it). Idempotent: running it again with everything up is quick.
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
export CZ_MINIO_USE_SSL=false
export CZ_MINIO_ACCESS_KEY=czminio
export CZ_MINIO_SECRET_KEY=$minio_pw
ENV
)
mv -f "$env_file.tmp" "$env_file"
chmod 600 "$env_file"

for line in "${summary[@]}"; do
  log "$line"
done
log "stack up in $(cz_elapsed "$t_all"); env: $env_file"

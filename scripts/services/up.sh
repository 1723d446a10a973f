#!/usr/bin/env bash
# Starts every Cunzheng service (after migrations), and the console, on 127.0.0.1.
# Idempotent: running services are left alone.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$cz_root"
cz_services_env

cz_step "node dependencies"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing node dependencies (npm ci)"
  npm ci --prefer-offline --no-audit --no-fund >"$CZ_LOG_DIR/npm-ci.log" 2>&1 || { tail -30 "$CZ_LOG_DIR/npm-ci.log"; die "npm ci failed"; }
fi

cz_step "database migrations"
npx tsx services/common/src/schema/migrate-cli.ts
cz_keys_db_account
(cz_service_secrets keyservice && npx tsx services/keyservice/src/migrations/migrate-cli.ts)

cz_step "console build"
if [[ ! -f web/dist/index.html || -n "$(find web/src web/index.html web/vite.config.ts services/contracts/src -newer web/dist/index.html -print -quit 2>/dev/null)" ]]; then
  log "building the console (web/dist)"
  npm run -w web build >"$CZ_LOG_DIR/web-build.log" 2>&1 || { tail -30 "$CZ_LOG_DIR/web-build.log"; die "console build failed"; }
fi

cz_step "services"
start_service() {
  local name=$1 port=$2
  if cz_running "$name"; then return 0; fi
  if cz_port_open "$port"; then die "port $port for $name is taken by another process"; fi
  # each service gets only its own secrets, in the environment of its own process
  (cz_service_secrets "$name" && cz_start "$name" "$CZ_LOG_DIR/$name.log" node --enable-source-maps --import tsx "services/$name/src/server.ts")
}
# the key service first: it is initialised on first run and unsealed before anyone needs a key
start_service keyservice 8082
cz_wait_port 8082 60 keyservice
cz_step "key service bootstrap"
cz_keys_bootstrap
cz_step "services"
for entry in "${CZ_SERVICES[@]}"; do
  start_service "${entry%%:*}" "${entry##*:}"
done
for entry in "${CZ_SERVICES[@]}"; do
  cz_wait_port "${entry##*:}" 60 "${entry%%:*}"
done

if [[ -s "$STACK_DIR/secrets/dev_master_key" ]]; then
  cz_step "legacy data"
  # stacks from before the key service: re-seal their messages once (see the script)
  (CZ_KEYSERVICE_TOKEN=$(head -n1 "$CZ_KEYS_SECRET_DIR/callers/$CZ_KEYS_DEV_CALLER.token") &&
    export CZ_KEYSERVICE_TOKEN && npx tsx scripts/services/reseal-legacy.ts "$STACK_DIR/secrets/dev_master_key")
fi

(CZ_KEYSERVICE_TOKEN=$(head -n1 "$CZ_KEYS_SECRET_DIR/callers/$CZ_KEYS_DEV_CALLER.token") && export CZ_KEYSERVICE_TOKEN && nohup npx tsx scripts/services/reseal-v1.ts "$STACK_DIR/reseal-v1.checkpoint.json" >>"$CZ_LOG_DIR/reseal-v1.log" 2>&1 &) # format v1 → v2 in the background, resumable

cz_step "demo users"
# the demo directory's names are sealed: the seed uses the local tools' key-service credential
(CZ_KEYSERVICE_TOKEN=$(head -n1 "$CZ_KEYS_SECRET_DIR/callers/$CZ_KEYS_DEV_CALLER.token") &&
  export CZ_KEYSERVICE_TOKEN && npx tsx scripts/demo/seed-users.ts)
log "services up: portal+console $CZ_CONSOLE_URL  ingest $CZ_INGEST_URL"

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

cz_step "console build"
if [[ ! -f web/dist/index.html || -n "$(find web/src web/index.html web/vite.config.ts services/contracts/src -newer web/dist/index.html -print -quit 2>/dev/null)" ]]; then
  log "building the console (web/dist)"
  npm run -w web build >"$CZ_LOG_DIR/web-build.log" 2>&1 || { tail -30 "$CZ_LOG_DIR/web-build.log"; die "console build failed"; }
fi

cz_step "services"
for entry in "${CZ_SERVICES[@]}"; do
  name=${entry%%:*}
  port=${entry##*:}
  if cz_running "$name"; then continue; fi
  if cz_port_open "$port"; then die "port $port for $name is taken by another process"; fi
  cz_start "$name" "$CZ_LOG_DIR/$name.log" node --enable-source-maps --import tsx "services/$name/src/server.ts"
done
for entry in "${CZ_SERVICES[@]}"; do
  cz_wait_port "${entry##*:}" 60 "${entry%%:*}"
done

cz_step "demo users"
npx tsx scripts/demo/seed-users.ts
log "services up: portal+console http://127.0.0.1:8080  ingest http://127.0.0.1:8081"

#!/usr/bin/env bash
# Loads the demo conversations and recorded calls once (marker .stack/demo-loaded); idempotent
# anyway (by msgid and call id).
source "$(dirname "${BASH_SOURCE[0]}")/../services/env.sh"
cd "$cz_root"
cz_services_env
if [[ -f "$STACK_DIR/demo-loaded" ]]; then
  log "demo data already loaded (make demo loads it again)"
  exit 0
fi
cz_step "demo data"
npx tsx scripts/demo/load-demo.ts
# compliance scans the demo as it arrives: wait (bounded) for its alerts, set a few states
npx tsx scripts/demo/wait-alerts.ts
touch "$STACK_DIR/demo-loaded"

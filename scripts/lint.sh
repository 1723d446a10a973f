#!/usr/bin/env bash
# make lint (and the lint step of make test): ESLint, Prettier, import cycles (dpdm) and unused
# files/exports (knip, configured in knip.json). Every check runs even when an earlier one fails,
# so one run lists every problem; the exit status is non-zero if any check failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$cz_root"

failed=()
check() {
  local name=$1
  shift
  cz_step "lint: $name"
  log "lint: $name"
  "$@" || failed+=("$name")
}

check eslint npx eslint --max-warnings 0 .
check prettier npx prettier --check . --log-level warn
# Type-only imports count too: a cycle made of types is still a tangle to read and to move.
# .vue files are leaves to dpdm (it cannot read their <script> blocks); the console's cycles run
# through its .ts modules (client, router, stores), which it follows.
check "import cycles (services, scripts)" npx dpdm --no-warning --no-tree --exit-code circular:1 \
  'services/*/src/**/*.ts' 'services/*/test/**/*.ts' 'scripts/**/*.ts'
# the console resolves '@/…' through its own tsconfig
check "import cycles (console)" npx dpdm --no-warning --no-tree --exit-code circular:1 \
  --tsconfig web/tsconfig.json 'web/src/**/*.ts' 'web/test/**/*.ts' web/vite.config.ts
check "unused files and exports" npx knip --no-progress --no-config-hints

if ((${#failed[@]})); then
  log "lint failed: $(printf '%s; ' "${failed[@]}")"
  exit 1
fi
log "lint passed"

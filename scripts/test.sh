#!/usr/bin/env bash
# make test: the stack is up (make's prerequisite); start the services and the console, then run
# type-check, lint and every test in one node:test run so one summary closes the output.
source "$(dirname "${BASH_SOURCE[0]}")/services/env.sh"
cd "$cz_root"
start=$(cz_now)

cz_step "type-check"
log "type-checking (tsc --strict)"
npx tsc -p tsconfig.json --noEmit

cz_step "lint"
bash scripts/lint.sh

cz_step "services"
bash scripts/services/up.sh
bash scripts/demo/up.sh

cz_step "tests"
# Node reads NODE_EXTRA_CA_CERTS only at start: the console tests' fetch trusts the stack's CA
# (integration tests pass the CA to each client themselves); and where the console is
if [[ -s "$CZ_TLS_DIR/ca.crt" ]] && grep -q '^export CZ_TLS_CA_FILE=' "$STACK_DIR/stack.env"; then
  export NODE_EXTRA_CA_CERTS="$CZ_TLS_DIR/ca.crt"
fi
CZ_CONSOLE_URL=${CZ_CONSOLE_URL:-$(sed -n 's/^export CZ_CONSOLE_URL=//p' "$STACK_DIR/services.env")}
export CZ_CONSOLE_URL
mapfile -t tests < <(find services web/test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
log "running ${#tests[@]} test files"
mkdir -p "$STACK_DIR/screenshots"
report="$CZ_LOG_DIR/test-report.tap"
status=0
node --import tsx --test --test-concurrency=1 --test-timeout=300000 "${tests[@]}" | tee "$report" || status=$?
log "make test finished in $(cz_elapsed "$start") (full report: $report)"
# the counts of node:test's closing summary (the last one: the report's own, not a subtest's)
count() { awk -v key="$1" '$0 ~ "^# " key " [0-9]+$" {n = $3} END {print n + 0}' "$report"; }
passed=$(count pass) failed=$(count fail) skipped=$(count skipped) cancelled=$(count cancelled) todo=$(count todo)
log "tests: $passed passed, $failed failed, $skipped skipped, $cancelled cancelled, $todo todo"
# A skip or todo passes silently, so each one must be on the allow-list with its reason; the
# names come from the TAP lines (`ok N - name # SKIP reason`), skipped suites included.
allowlist="scripts/test-skip-allowlist.txt"
mapfile -t entries < <(grep -vE '^[[:space:]]*(#|$)' "$allowlist")
allowed=()
for entry in "${entries[@]}"; do
  if [[ "$entry" != *" :: "?* ]]; then
    log "$allowlist: \"$entry\" gives no reason (write: name :: reason)"
    status=1
    continue
  fi
  allowed+=("${entry%% :: *}")
done
while IFS= read -r name; do
  if ! printf '%s\n' "${allowed[@]}" | grep -qxF -- "$name"; then
    log "not allowed to skip: \"$name\" (run it, or list it in $allowlist with a reason)"
    status=1
  fi
done < <(sed -nE 's/^ *(not )?ok [0-9]+ - (.*) # (SKIP|TODO)( .*)?$/\2/p' "$report" | sed 's/\\#/#/g; s/\\\\/\\/g')
cz_step "log check"
# no log of the stack carries a demo secret, a demo person's phone number or name, or a query string
npx tsx scripts/check-logs.ts || status=1
# one plain closing line, whatever reads this output
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"

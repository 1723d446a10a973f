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
log "linting (eslint, prettier)"
npx eslint --max-warnings 0 .
npx prettier --check . --log-level warn

cz_step "services"
bash scripts/services/up.sh
bash scripts/demo/up.sh

cz_step "tests"
mapfile -t tests < <(find services web/test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
log "running ${#tests[@]} test files"
mkdir -p "$STACK_DIR/screenshots"
report="$CZ_LOG_DIR/test-report.tap"
status=0
node --import tsx --test --test-concurrency=1 --test-timeout=300000 "${tests[@]}" | tee "$report" || status=$?
log "make test finished in $(cz_elapsed "$start") (full report: $report)"
# one plain closing line, whatever reads this output
passed=$(awk '/^# pass /{print $3}' "$report" | tail -1)
failed=$(awk '/^# fail /{print $3}' "$report" | tail -1)
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"

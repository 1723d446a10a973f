# Cunzheng (存证) — `make help` lists the targets.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help
NODE_TEST := node --import tsx --test --test-concurrency=1 --test-timeout=300000

UNIT_TESTS := $(wildcard services/common/test/crypto/*.test.ts services/common/test/*.unit.test.ts services/*/test/*.unit.test.ts)
INTEGRATION_TESTS := $(filter-out %.unit.test.ts %.e2e.test.ts,$(wildcard services/*/test/*.test.ts))
E2E_TESTS := $(wildcard services/*/test/*.e2e.test.ts web/test/*.e2e.test.ts)

##@ Everyday

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} /^[a-zA-Z0-9_-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: up
up: deps stack ## Install what is missing, start the stack, every service and the console, load demo data
	@bash scripts/services/up.sh
	@bash scripts/demo/up.sh
	@echo
	@echo "  Cunzheng is up.  Console: https://127.0.0.1:8080   (审计员 auditor / Auditor#2026, 管理员 admin / Admin#2026, 浦东分行行长 branch / Branch#2026)"
	@echo "  Ingest API: https://127.0.0.1:8081/v1/wecom/messages    Dev CA: .stack/tls/ca.crt    Logs: .stack/logs/    Stop: make down"

.PHONY: down
down: ## Stop every process `make up` started (by pid)
	@bash scripts/services/down.sh
	@bash scripts/stack/down.sh

.PHONY: test
test: deps stack ## Start what the tests need, run every test (unit, integration, console e2e), print a summary
	@bash scripts/test.sh

.PHONY: bench
bench: deps stack ## Run the benchmarks (ratios against baselines measured in the same run)
	@bash scripts/bench/run.sh

.PHONY: status
status: ## Show what is running
	@bash scripts/stack/status.sh
	@bash scripts/services/status.sh

##@ Pieces

.PHONY: deps
deps: ## Install node dependencies (npm ci) when package-lock.json changed
	@if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then npm ci --prefer-offline --no-audit --no-fund; fi

.PHONY: stack
stack: ## Install (if missing) and start MariaDB, Kafka and MinIO on 127.0.0.1
	@bash scripts/stack/up.sh

.PHONY: typecheck
typecheck: deps ## Type-check every service, script and test (strict)
	@npx tsc -p tsconfig.json --noEmit

.PHONY: lint
lint: deps ## ESLint, Prettier, import cycles (dpdm), unused files and exports (knip)
	@bash scripts/lint.sh

.PHONY: native-double
native-double: deps ## Build the Finance-SDK C test double (.stack/native/libWeWorkFinanceSdk_C.so; the puller tests build it too)
	@npx tsx services/testkit/src/finance-sdk-double/build.ts

.PHONY: web
web: deps ## Build the console into web/dist
	@npm run -w web build

.PHONY: demo
demo: ## Post the demo conversations again through the ingest API (idempotent)
	@rm -f .stack/demo-loaded && bash scripts/demo/up.sh

.PHONY: keys
keys: ## Security officers' key-service CLI: make keys ARGS="status | rotate-request … | approve ID | rewrap | verify"
	@set -a; for f in .stack/stack.env .stack/services.env; do [[ -f $$f ]] && source $$f; done; set +a; npx tsx services/keyservice/src/cli.ts $(ARGS)

.PHONY: compliance
compliance: ## Lexicon and retroactive scans CLI: make compliance ARGS="versions | test --text … | export --version N | rescan --from … --to … | rescan-status [ID] [--watch]"
	@set -a; for f in .stack/stack.env .stack/services.env; do [[ -f $$f ]] && source $$f; done; set +a; npx tsx services/compliance/src/cli.ts $(ARGS)

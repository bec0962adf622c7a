# CodeMaestro — the two commands a newcomer needs:
#   make demo   install, build, start servers, run the seven services and a coding task end to end
#   make test   install, build, start servers, check generated code, type-check, run every test
# Both are safe to repeat; servers already running are left alone.

SHELL := /bin/bash
PNPM_VERSION := 12.21.0

.PHONY: demo test deps build servers proto proto-check typecheck migrate deploy-check clean bench

demo: deps build servers
	node packages/cli/dist/main.js demo

test: deps servers proto-check build typecheck deploy-check
	bash scripts/ensure-chromium.sh
	pnpm exec jest --ci

deps:
	@command -v git >/dev/null || (apt-get update -qq && apt-get install -y -qq git)
	@command -v bwrap >/dev/null || (apt-get update -qq && apt-get install -y -qq bubblewrap)
	@command -v pnpm >/dev/null && pnpm --version | grep -q '^12\.' || npm install -g --allow-scripts=pnpm pnpm@$(PNPM_VERSION)
	pnpm install --frozen-lockfile

build:
	pnpm exec tsc -b tsconfig.json
	pnpm --filter @maestro/web build

servers:
	bash scripts/ensure-servers.sh

# Regenerates packages/contracts/src/gen from proto/ (ts-proto via buf, both from npm).
proto:
	rm -rf packages/contracts/src/gen
	pnpm exec buf generate

# Fails when the committed generated code differs from what the protos generate.
proto-check:
	@tmp=$$(mktemp -d) && \
	  pnpm exec buf generate --template buf.gen.yaml -o $$tmp >/dev/null && \
	  if ! diff -r packages/contracts/src/gen $$tmp/packages/contracts/src/gen >/dev/null; then \
	    diff -r packages/contracts/src/gen $$tmp/packages/contracts/src/gen | head -n 40; rm -rf $$tmp; \
	    echo "proto-check: packages/contracts/src/gen is stale; run 'make proto' and commit it"; exit 1; \
	  fi; rm -rf $$tmp; echo "proto-check: generated code matches proto/"

typecheck: build
	pnpm exec tsc -p tsconfig.tests.json
	pnpm --filter @maestro/web exec vue-tsc --noEmit

# Runs every service's migrations against MAESTRO_DATABASE_URL (what an init container does).
migrate: build
	for s in workflow-engine orchestrator memory router gateway; do node services/$$s/dist/migrate.js || exit 1; done

deploy-check:
	node deploy/check-consistency.mjs

clean:
	rm -rf packages/*/dist services/*/dist .demo

# The benchmarks: CodeMaestro's executor path next to BullMQ on the same Redis; the router's
# added latency per Complete next to a direct SDK call to the same fake server, and its decisions/s.
bench: deps build servers
	pnpm --filter @maestro/bench run queue
	pnpm --filter @maestro/bench run router
	pnpm --filter @maestro/bench run locks
	pnpm --filter @maestro/bench run context
	pnpm --filter @maestro/bench run engine

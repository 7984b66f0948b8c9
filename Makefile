# Portcullis. Every target runs on the project's own Node 24 (node_modules/.bin comes first on PATH), never on
# whatever `node` the machine has.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
NODE := $(CURDIR)/node_modules/.bin/node
# Unit tests: every *.test.ts outside e2e/ (e2e suites are *.e2e.test.ts and need the cluster).
UNIT_TESTS = $(shell git ls-files -co --exclude-standard -- '*.test.ts' | grep -v -e '^e2e/' -e '\.e2e\.test\.ts$$' -e '^node_modules/')

.PHONY: help setup test unit lint typecheck check-generated build demo explain-demo e2e bench bench-postgres bench-postgres-floor operator-local clean

help:
	@echo "make demo    the main job: see README"
	@echo "make test    type-check, lint, generated-code drift check, unit tests, e2e on a real control plane"
	@echo "make build   compile what the container image ships into dist/"

setup: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@$(NODE) -e 'const [a]=process.versions.node.split(".").map(Number); if (a < 24) { console.error("node_modules/.bin/node is not Node 24"); process.exit(1) }'
	@touch $@

typecheck: setup
	tsc -p tsconfig.json --noEmit

lint: setup
	eslint --max-warnings 0 .

check-generated: setup
	$(NODE) scripts/gen-api-types.ts --check

unit: setup
	$(NODE) --test --test-reporter=spec --test-reporter-destination=stdout $(UNIT_TESTS)

test: typecheck lint check-generated unit e2e

build: setup
	rm -rf dist && tsc -p tsconfig.build.json
	cp -r crds dist/crds

demo: setup
	@bash scripts/demo.sh

explain-demo: setup
	@$(NODE) scripts/demo-explain.ts examples/policies examples/requests.jsonl

bench: setup
	$(NODE) --max-semi-space-size=32 bench/policy-decide.bench.ts

bench-postgres: setup
	$(NODE) bench/postgres.bench.ts

bench-postgres-floor: setup
	$(NODE) bench/postgres-floor.bench.ts

clean:
	rm -rf dist

# The operator as a local process against $$KUBECONFIG: applies crds/, registers its webhooks on 127.0.0.1 (removed
# on exit), serves the sidecar API. For trying Portcullis on a local cluster (see e2e/cluster or kind/k3d).
operator-local: setup
	$(NODE) operator/main.ts --local

include e2e/cluster/cluster.mk

e2e: setup
	bash e2e/run.sh

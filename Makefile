# Portcullis — every target runs on the project's own Node 24 (node_modules/.bin comes first on PATH).
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
NODE := $(CURDIR)/node_modules/.bin/node

.PHONY: setup test unit lint typecheck check-generated build demo e2e clean

setup: node_modules/.bin/node
node_modules/.bin/node: package.json package-lock.json
	npm ci
	@touch $@

typecheck: setup
	tsc -p tsconfig.json --noEmit

lint: setup
	eslint .

unit: setup
	$(NODE) --test --test-reporter=spec --test-reporter-destination=stdout $$(git ls-files -co --exclude-standard '*.test.ts' | grep -v '^e2e/' | grep -v '^node_modules/')

test: typecheck lint unit

build: setup
	rm -rf dist && tsc -p tsconfig.build.json

clean:
	rm -rf dist

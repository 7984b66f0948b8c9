#!/usr/bin/env bash
# make demo: the explain dry run over the example policies (the sidecar demo replaces this once it lands).
set -euo pipefail
cd "$(dirname "$0")/.."
exec node_modules/.bin/node scripts/demo-explain.ts examples/policies examples/requests.jsonl

#!/usr/bin/env bash
# make demo: the standalone sidecar in front of a throwaway PostgreSQL, driven by a scripted agent (scripts/demo.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
for cmd in psql pg_ctl; do
  if ! command -v "$cmd" >/dev/null && [[ ! -d /usr/lib/postgresql ]]; then
    echo "make demo needs PostgreSQL (Debian: apt-get install -y postgresql)" >&2
    exit 1
  fi
done
exec node_modules/.bin/node scripts/demo.ts

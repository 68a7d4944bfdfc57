#!/usr/bin/env bash
# The test command of the README (`npm test`): installs what is missing, then runs every tier:
# the exporter's parity tests (Python), then the TypeScript unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

echo "== type check (src, test, bench) =="
node node_modules/typescript/bin/tsc -p tsconfig.test.json

echo "== exporter (pytest) =="
.venv/bin/python -m pytest exporter/tests -q -p no:cacheprovider

echo "== vislens (node --test) =="
mapfile -t files < <(find test -name '*.test.ts' | sort)
node --import tsx --test --test-concurrency=1 "${files[@]}"

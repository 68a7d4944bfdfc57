#!/usr/bin/env bash
# The test command of the README (`npm test`): installs what is missing, then runs every tier:
# the exporter's parity tests (Python) and the TypeScript unit and integration tests.
#
# The two tiers share a machine of few cores, each mostly on one thread, so they run side by side:
# pytest (which builds the tiny test bundles into .cache/tiny-bundles) next to the TypeScript tests
# that do not need those bundles; the TypeScript tests that reuse them run once pytest has passed.
# pytest's output is printed when it finishes; any failure fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

echo "== type check (src, test, bench) =="
node node_modules/typescript/bin/tsc -p tsconfig.test.json

# TypeScript test files that read the tiny bundles pytest builds (test/helpers/tiny.ts).
mapfile -t all < <(find test -name '*.test.ts' | sort)
mapfile -t tiny < <(grep -l "helpers/tiny" "${all[@]}" | sort)
mapfile -t rest < <(printf '%s\n' "${all[@]}" | grep -vxF -f <(printf '%s\n' "${tiny[@]}"))

log=$(mktemp -t vislens-pytest.XXXXXX)
trap 'rm -f "$log"' EXIT
echo "== exporter (pytest, in the background: output below when it ends) =="
.venv/bin/python -m pytest exporter/tests -q -p no:cacheprovider >"$log" 2>&1 &
pytest_pid=$!

echo "== vislens (node --test): ${#rest[@]} files beside pytest =="
rest_status=0
node --import tsx --test --test-concurrency=1 "${rest[@]}" || rest_status=$?

pytest_status=0
wait "$pytest_pid" || pytest_status=$?
echo "== exporter (pytest) output =="
cat "$log"
if [ "$pytest_status" -ne 0 ]; then
  echo "pytest failed (exit $pytest_status)" >&2
  exit "$pytest_status"
fi

echo "== vislens (node --test): ${#tiny[@]} files on the tiny bundles =="
tiny_status=0
node --import tsx --test --test-concurrency=1 "${tiny[@]}" || tiny_status=$?
if [ "$rest_status" -ne 0 ] || [ "$tiny_status" -ne 0 ]; then
  echo "node tests failed (exit ${rest_status} beside pytest, ${tiny_status} after it)" >&2
  exit 1
fi

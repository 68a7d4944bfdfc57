#!/usr/bin/env bash
# The test command of the README (`npm test`): installs what is missing, then runs every tier:
# the exporter's parity tests (Python) and the TypeScript unit and integration tests.
#
# The two tiers share a machine of few cores, each mostly on one thread, so they run in two lanes:
# pytest (which builds the tiny test bundles into .cache/tiny-bundles), then the TypeScript tests that
# reuse those bundles and the notebooks' test, beside every other TypeScript test. Lane 1's output is
# printed when both are done; any failure fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

echo "== type check (src, test, bench) =="
node node_modules/typescript/bin/tsc -p tsconfig.test.json

# TypeScript test files that read the tiny bundles pytest builds (test/helpers/tiny.ts).
mapfile -t all < <(find test -name '*.test.ts' | sort)
mapfile -t tiny < <(grep -l "helpers/tiny" "${all[@]}" | sort)
# The longest file (every notebook headless, about 4 min) also runs after pytest, so that the two lanes
# end at about the same time (measured 2026-12-06: pytest 6.4 min, the other TypeScript files 12.3 min
# with it, 8.6 without).
late=(test/notebooks/notebooks.test.ts)
mapfile -t rest < <(printf '%s\n' "${all[@]}" | grep -vxF -f <(printf '%s\n' "${tiny[@]}" "${late[@]}"))

# Lane 1, in the background: pytest, then (if it passed) the files above. Its output is printed when
# both lanes are done.
lane1() {
  .venv/bin/python -m pytest exporter/tests -q -p no:cacheprovider || { echo "pytest failed (exit $?)"; return 10; }
  echo "== vislens (node --test): ${#tiny[@]} files on the tiny bundles and ${#late[@]} more, after pytest =="
  node --import tsx --test --test-concurrency=1 "${tiny[@]}" "${late[@]}" || return 20
}
log=$(mktemp -t vislens-lane1.XXXXXX)
trap 'rm -f "$log"' EXIT
echo "== lane 1, in the background: exporter (pytest), then ${#tiny[@]} + ${#late[@]} TypeScript files (output below when it ends) =="
lane1 >"$log" 2>&1 &
lane1_pid=$!

echo "== vislens (node --test): ${#rest[@]} files beside lane 1 =="
rest_status=0
node --import tsx --test --test-concurrency=1 "${rest[@]}" || rest_status=$?

lane1_status=0
wait "$lane1_pid" || lane1_status=$?
echo "== lane 1 output =="
cat "$log"
if [ "$lane1_status" -ne 0 ] || [ "$rest_status" -ne 0 ]; then
  echo "tests failed (lane 1: exit ${lane1_status}, 10 = pytest, 20 = node; beside it: exit ${rest_status})" >&2
  exit 1
fi

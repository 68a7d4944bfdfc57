#!/usr/bin/env bash
# `npm run bench`: every benchmark, each printed as a ratio against a peer measured in the same run.
# Pass --quick for a smaller version of each (about a minute in all).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >&2
node --import tsx bench/search.ts "$@"
node --import tsx bench/approximate.ts "$@"
node --import tsx bench/bank-build.ts "$@"
node --import tsx bench/generate.ts "$@"
node --import tsx bench/attribution.ts "$@"
node --import tsx bench/dictionary.ts "$@"
node --import tsx bench/real-size.ts "$@"

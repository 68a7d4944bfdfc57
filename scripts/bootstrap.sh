#!/usr/bin/env bash
# Installs what vislens needs, idempotently, on a fresh machine or an existing checkout:
#   node_modules/  from package-lock.json (npm ci), rebuilt when the lock file changes
#   .venv/         Python venv for the exporter (torch CPU, transformers, onnx) and the benchmarks'
#                  peers (faiss-cpu) from the local pip mirror, rebuilt when a requirements file changes
#   native/build/  the exact-search addon (C++, node-gyp)
# A second run with nothing changed takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# onnxruntime-node's postinstall would try to download CUDA binaries (offline here); .npmrc says
# skip too, the variable covers npm versions that ignore project config keys.
export ONNXRUNTIME_NODE_INSTALL=skip

stamp() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

NODE_STAMP=$(stamp package-lock.json package.json)
if [ ! -f node_modules/.vislens-stamp ] || [ "$(cat node_modules/.vislens-stamp)" != "$NODE_STAMP" ]; then
  echo "bootstrap: installing node packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$NODE_STAMP" > node_modules/.vislens-stamp
fi

# Point pip at the machine's package mirror as its primary index: with the unreachable public
# index first, pip retries it for every package and an install takes minutes instead of seconds.
pip_mirror_env() {
  local urls
  urls=$(python3 -m pip config list 2>/dev/null | sed -n "s/^global\.extra-index-url='\(.*\)'$/\1/p" | head -n1)
  if [ -n "$urls" ]; then
    export PIP_INDEX_URL=${urls%% *}
    [ "$urls" != "${urls#* }" ] && export PIP_EXTRA_INDEX_URL=${urls#* }
  fi
  return 0
}

REQS=(exporter/requirements.txt bench/requirements.txt)
[ -f kernel/requirements.txt ] && REQS+=(kernel/requirements.txt)
PY_STAMP=$(stamp "${REQS[@]}" exporter/pyproject.toml)
if [ ! -x .venv/bin/python ] || [ ! -f .venv/.vislens-stamp ] || [ "$(cat .venv/.vislens-stamp)" != "$PY_STAMP" ]; then
  echo "bootstrap: installing the Python environment into .venv (${REQS[*]})" >&2
  pip_mirror_env
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check $(printf -- '-r %s ' "${REQS[@]}")
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e exporter
  echo "$PY_STAMP" > .venv/.vislens-stamp
fi

# The exact-search kernel (native addon; make is incremental, ~0.3 s when nothing changed), then
# the compiled JavaScript in dist/ that the CLI and `require("vislens")` run. (Not `npx tsc`:
# tslab ships its own TypeScript 5.0 whose `tsc` shadows ours in node_modules/.bin.)
bash native/build.sh
node node_modules/typescript/bin/tsc -p tsconfig.json
# The widgets (vislens/widgets) compile against the engine's declarations in dist/.
if [ -f widgets/tsconfig.json ]; then node node_modules/typescript/bin/tsc -p widgets/tsconfig.json; fi
# The Jupyter kernelspec "vislens (TypeScript)" in .venv (idempotent).
if [ -f kernel/install.sh ]; then bash kernel/install.sh; fi

#!/usr/bin/env bash
# Builds the native search addon: native/build/Release/vislens_native.node.
# Needs: a C++17 compiler (g++ >= 9 or clang), make, python3, Node's headers (npm config `nodedir`,
# or node-gyp's download cache) and the node-addon-api package in node_modules.
# Idempotent: a second run with nothing changed only re-runs make (about a second).
#   bash native/build.sh            build (configure on first run)
#   bash native/build.sh --clean    rebuild from scratch
set -euo pipefail
cd "$(dirname "$0")"

if [ "${1:-}" = "--clean" ]; then rm -rf build; fi

# node-gyp: the one npm runs scripts with, a local one, or the copy bundled inside npm itself.
gyp=()
if [ -n "${npm_config_node_gyp:-}" ] && [ -f "${npm_config_node_gyp}" ]; then
  gyp=(node "$npm_config_node_gyp")
elif [ -x ../node_modules/.bin/node-gyp ]; then
  gyp=(../node_modules/.bin/node-gyp)
else
  npm_root=$(dirname "$(readlink -f "$(command -v npm)")")/..
  if [ -f "$npm_root/node_modules/node-gyp/bin/node-gyp.js" ]; then
    gyp=(node "$npm_root/node_modules/node-gyp/bin/node-gyp.js")
  elif command -v node-gyp >/dev/null; then
    gyp=(node-gyp)
  else
    echo "native/build.sh: node-gyp not found (it ships with npm; or: npm install -g node-gyp)" >&2
    exit 1
  fi
fi

if ! node -e "require.resolve('node-addon-api')" 2>/dev/null; then
  echo "native/build.sh: the node-addon-api package is missing; run 'npm install' (it is a devDependency)" >&2
  exit 1
fi

# Build against the local Node headers when npm is configured with a nodedir (no download).
args=()
nodedir=${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}
if [ -n "$nodedir" ] && [ "$nodedir" != "undefined" ] && [ -f "$nodedir/include/node/node_api.h" ]; then
  args+=(--nodedir="$nodedir")
fi

if [ ! -f build/Makefile ] || [ binding.gyp -nt build/Makefile ]; then
  "${gyp[@]}" configure "${args[@]}" --loglevel=warn
fi
"${gyp[@]}" build "${args[@]}" --loglevel=warn -j 2
test -f build/Release/vislens_native.node
echo "native/build.sh: built $(pwd)/build/Release/vislens_native.node" >&2

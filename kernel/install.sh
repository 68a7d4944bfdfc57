#!/usr/bin/env bash
# Registers the Jupyter kernelspec "vislens" ("vislens (TypeScript)") in the project's Python venv:
#   .venv/share/jupyter/kernels/vislens/kernel.json   argv: <node> kernel/vislens-kernel.js {connection_file}
#   .venv/share/jupyter/kernels/vislens/logo-svg.svg
#   .venv/share/jupyter/lab/settings/overrides.json   JupyterLab defaults: no news feed, no update
#                                                     check (the machine is offline)
# Only the Jupyter of .venv (the one `npm start` runs) sees it; nothing is written outside the
# checkout. Idempotent: when the spec is already current it does nothing (~10 ms). Run by
# scripts/bootstrap.sh; `bash kernel/install.sh --check` also prints how "vislens" resolves.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VISLENS_VENV:-$ROOT/.venv}
NODE=$(command -v node)
DEST=$VENV/share/jupyter/kernels/vislens
LAB_SETTINGS=$VENV/share/jupyter/lab/settings

if [ ! -x "$VENV/bin/python" ]; then
  echo "kernel/install.sh: no Python venv at $VENV (run scripts/bootstrap.sh)" >&2
  exit 1
fi

# kernel.json, written as JSON by the shell with the two absolute paths escaped for JSON.
json_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
SPEC=$(cat <<JSON
{
  "argv": [$(json_str "$NODE"), $(json_str "$ROOT/kernel/vislens-kernel.js"), "{connection_file}"],
  "display_name": "vislens (TypeScript)",
  "language": "typescript",
  "interrupt_mode": "signal",
  "metadata": {"debugger": false, "vislens_checkout": $(json_str "$ROOT")}
}
JSON
)

if ! { [ -f "$DEST/kernel.json" ] && [ "$(cat "$DEST/kernel.json")" = "$SPEC" ] && cmp -s kernel/logo-svg.svg "$DEST/logo-svg.svg"; }; then
  mkdir -p "$DEST"
  printf '%s\n' "$SPEC" > "$DEST/kernel.json.tmp"
  mv "$DEST/kernel.json.tmp" "$DEST/kernel.json"
  cp kernel/logo-svg.svg "$DEST/logo-svg.svg"
  echo "kernel/install.sh: registered kernelspec 'vislens' (vislens (TypeScript)) in $DEST" >&2
fi
if ! cmp -s kernel/lab-overrides.json "$LAB_SETTINGS/overrides.json"; then
  mkdir -p "$LAB_SETTINGS"
  cp kernel/lab-overrides.json "$LAB_SETTINGS/overrides.json"
  echo "kernel/install.sh: wrote JupyterLab defaults (offline: no news, no update check) to $LAB_SETTINGS/overrides.json" >&2
fi

if [ "${1:-}" = "--check" ]; then
  "$VENV/bin/jupyter" kernelspec list
  node kernel/vislens-kernel.js --check-resolution "${2:-/}"
fi

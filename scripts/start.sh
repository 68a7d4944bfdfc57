#!/usr/bin/env bash
# The README's main command (`npm start`):
#   1. installs what is missing (scripts/bootstrap.sh: node packages, .venv with JupyterLab, dist/,
#      the "vislens (TypeScript)" kernelspec); a second run with nothing changed takes seconds;
#   2. makes sure the shipped model's contextual bank exists in .cache/banks/shapes-llava (built
#      once, with progress, ~2 s; rebuilt only when the model or its corpus changes);
#   3. starts JupyterLab on notebooks/ at http://127.0.0.1:<port>/lab and prints the URL to open
#      (the quickstart notebook).
#
# Options: `--prepare` does 1 and 2 and exits; any other arguments go to `jupyter lab`.
# Environment: VISLENS_PORT (default 8888, or a free port when that one is taken), VISLENS_TOKEN
# (default: a random one), VISLENS_NOTEBOOK_DIR (default: notebooks/).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
node kernel/ensure-bank.js models/shapes-llava .cache/banks/shapes-llava

if [ "${1:-}" = "--prepare" ]; then
  echo "vislens: ready (kernel 'vislens', bank .cache/banks/shapes-llava); run 'npm start' to open JupyterLab" >&2
  exit 0
fi

NOTEBOOK_DIR=$(cd "${VISLENS_NOTEBOOK_DIR:-notebooks}" && pwd)
PORT=${VISLENS_PORT:-8888}
# Port in use -> a free one chosen by the OS (we print the URL, so it must be the port Lab gets).
if ! .venv/bin/python - "$PORT" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.close()
PY
then
  OLD=$PORT
  PORT=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  echo "vislens: port $OLD is taken; using $PORT" >&2
fi
TOKEN=${VISLENS_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(24))')}

OPEN=/lab
[ -f "$NOTEBOOK_DIR/01-quickstart.ipynb" ] && OPEN=/lab/tree/01-quickstart.ipynb
URL="http://127.0.0.1:$PORT$OPEN?token=$TOKEN"
cat >&2 <<EOF

  vislens: JupyterLab on $NOTEBOOK_DIR (kernel "vislens (TypeScript)")
  open:    $URL
  stop:    Ctrl-C

EOF

# Offline by design: no news feed, no update check (the settings side is in
# .venv/share/jupyter/lab/settings/overrides.json, written by kernel/install.sh), no extension
# manager querying PyPI. Containers often run as root, which Jupyter refuses without --allow-root.
EXTRA=()
[ "$(id -u)" = 0 ] && EXTRA+=(--allow-root)
exec .venv/bin/jupyter lab \
  --no-browser \
  --ServerApp.ip=127.0.0.1 \
  --ServerApp.port="$PORT" \
  --ServerApp.port_retries=0 \
  --ServerApp.root_dir="$NOTEBOOK_DIR" \
  --IdentityProvider.token="$TOKEN" \
  --MappingKernelManager.default_kernel_name=vislens \
  --LabApp.news_url=None \
  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
  --LabApp.extension_manager=readonly \
  "${EXTRA[@]}" "$@"

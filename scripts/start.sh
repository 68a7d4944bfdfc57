#!/usr/bin/env bash
# The README's main command (`npm start`). Until the notebook kernel lands (issue #4) it installs
# vislens, validates the shipped fixture model and prints what its visual tokens look like at every
# layer for one held-out image; then it will start JupyterLab on notebooks/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
node bin/vislens.js info models/shapes-llava
image=$(ls models/shapes-llava/eval/*.png | head -n 1)
node bin/vislens.js hidden models/shapes-llava --image "$image"

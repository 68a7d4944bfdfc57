#!/usr/bin/env bash
# Re-creates the fixture grid of issue #5: 2 language models x 2 vision towers, each pair with its
# own trained connector, exported as bundles into models/. Not part of `npm test` (the bundles are
# shipped); about 75 minutes on 2 CPU cores from an empty stage cache, less when stages are cached
# (~/.cache/vislens-fixture, or $VISLENS_FIXTURE_CACHE).
#
#   models/shapes-llava          LM: Llama 6 layers, seed 0   vision: CLIP-style, contrastive
#   models/shapes-lm6-patchcls   LM: Llama 6 layers, seed 0   vision: per-patch classifier
#   models/shapes-lm8-clip       LM: Llama 8 layers, seed 1   vision: CLIP-style, contrastive
#   models/shapes-lm8-patchcls   LM: Llama 8 layers, seed 1   vision: per-patch classifier
#
# Every model is evaluated on the same held-out set and corpus, which only models/shapes-llava keeps
# (eval/*.png, eval/annotations.json, corpus.txt); the others keep their own eval/metrics.json and
# eval/lens_check.json.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
PY=$PWD/.venv/bin/python
SHARED=models/shapes-llava

train() {
  local name=$1
  shift
  (cd exporter && "$PY" -m vislens_fixture train --out "../models/$name" "$@")
  (cd exporter && "$PY" -m vislens_export "../models/$name/hf" "../models/$name" --name "$name" --force)
}

# The held-out set and corpus are the same for every model (same seeds); keep one copy.
share_eval() {
  local dir=models/$1
  cmp -s "$dir/corpus.txt" "$SHARED/corpus.txt" || { echo "train-grid: $dir/corpus.txt differs from $SHARED/corpus.txt" >&2; exit 1; }
  cmp -s "$dir/eval/annotations.json" "$SHARED/eval/annotations.json" || { echo "train-grid: $dir/eval differs from $SHARED/eval" >&2; exit 1; }
  for png in "$dir"/eval/*.png; do
    cmp -s "$png" "$SHARED/eval/$(basename "$png")" || { echo "train-grid: $png differs from $SHARED/eval" >&2; exit 1; }
  done
  rm "$dir/corpus.txt" "$dir/eval/annotations.json" "$dir"/eval/*.png
}

train shapes-llava
train shapes-lm6-patchcls --vision-kind patchcls
share_eval shapes-lm6-patchcls
train shapes-lm8-clip --lm-layers 8 --lm-seed 1
share_eval shapes-lm8-clip
train shapes-lm8-patchcls --lm-layers 8 --lm-seed 1 --vision-kind patchcls
share_eval shapes-lm8-patchcls

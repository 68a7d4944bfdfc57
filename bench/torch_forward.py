"""The PyTorch-eager peer of the bank-build benchmark.

Runs the same sentences, in the same right-padded batches, through the fixture's HF checkpoint
(the LLM of LlavaForConditionalGeneration, eager attention, output_hidden_states) and prints
JSON: tokens, seconds, tokens_per_s. Usage: torch_forward.py <hf-dir> <batches.json> <threads>
where batches.json is [[ids, ...], ...] as vislens built them.
"""

import json
import sys
import time

import torch
from transformers import AutoModelForImageTextToText


def main() -> None:
    hf_dir, batches_file, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(threads)
    batches = json.load(open(batches_file))
    model = AutoModelForImageTextToText.from_pretrained(hf_dir, attn_implementation="eager").eval()
    lm = model.model.language_model
    embed = lm.get_input_embeddings()
    tokens = sum(len(ids) for batch in batches for ids in batch)

    def run_all() -> None:
        for batch in batches:
            width = max(len(ids) for ids in batch)
            ids = torch.tensor([s + [0] * (width - len(s)) for s in batch])
            mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in batch])
            out = lm(inputs_embeds=embed(ids), attention_mask=mask, output_hidden_states=True)
            torch.stack(out.hidden_states)  # materialise every layer, as vislens' graph does

    with torch.inference_mode():
        run_all()  # warm-up
        start = time.perf_counter()
        run_all()
        seconds = time.perf_counter() - start
    print(json.dumps({"tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds}))


if __name__ == "__main__":
    main()

"""A real, small byte-level BPE tokenizer for tiny test models.

Byte-level BPE (not WordLevel) because the TypeScript runtime's tokenizer library supports BPE,
Unigram and WordPiece only. Training on a few built-in sentences is deterministic and takes
milliseconds, so no tokenizer ever has to be downloaded.
"""

from __future__ import annotations

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

CORPUS = [
    "a red circle above a blue square",
    "a green triangle left of a yellow star",
    "What is in the image? Describe the picture.",
    "USER: describe the image ASSISTANT: a small dog on the grass",
    "The quick brown fox jumps over the lazy dog.",
    "one two three four five six seven eight nine ten",
    "colour shape size position left right above below",
]

# Trained merges on top of the 256-byte alphabet; enough to give common words single ids.
NUM_MERGES = 200


def train_bpe(special_tokens: list[str], bos_token: str | None) -> Tokenizer:
    """Train a ByteLevel BPE tokenizer whose first ids are `special_tokens`, in order.

    When `bos_token` is given, the post-processor prepends it on `encode(..., add_special_tokens=True)`
    as a Llama tokenizer does; the exporter reads `add_bos` from that behaviour.
    """
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=len(special_tokens) + 256 + NUM_MERGES,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    if bos_token is not None:
        bos_id = tok.token_to_id(bos_token)
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos_token} $A", pair=f"{bos_token} $A {bos_token} $B", special_tokens=[(bos_token, bos_id)]
        )
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok

"""Character spans of tokens in their sentence, computed exactly as src/bank/spans.ts does.

Also JavaScript's `trim()`, which decides the token strings of `tokens.json`.

Offsets count UTF-16 code units, as JavaScript strings do (a character outside the Basic
Multilingual Plane counts 2), because the TypeScript side slices `sentences.txt` lines with them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

# JavaScript's /\s/: WhiteSpace (TAB, VT, FF, ZWNBSP, every Zs) and LineTerminator (LF, CR, LS, PS).
_JS_SPACE = frozenset(
    [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F]
    + [0x3000, 0xFEFF]
)


_JS_SPACE_CHARS = "".join(map(chr, sorted(_JS_SPACE)))


def js_trim(text: str) -> str:
    """JavaScript's `text.trim()` (Python's `str.strip()` strips a slightly different set)."""
    return text.strip(_JS_SPACE_CHARS)


def utf16_units(text: str) -> list[int]:
    data = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]


def token_spans(
    decode_batch: Callable[[list[list[int]]], list[str]],
    is_special: Callable[[int], bool],
    ids: Sequence[int],
    sentence: str,
) -> list[tuple[int, int]]:
    """`[start, end)` of every token of `ids` in `sentence`, found by decoding growing prefixes
    (from the first non-special token). Leading whitespace a token carries is not part of its span;
    special tokens, and tokens whose decoded prefix does not line up with the text, get an empty
    span where the previous token ended."""
    first = 0
    while first < len(ids) and is_special(ids[first]):
        first += 1
    prefixes = decode_batch([list(ids[first : i + 1]) for i in range(first, len(ids))]) if first < len(ids) else []
    units = utf16_units(sentence)
    spans: list[tuple[int, int]] = []
    prev = 0
    for i in range(len(ids)):
        end = prev
        if i >= first:
            decoded = prefixes[i - first]
            if sentence.startswith(decoded):
                end = len(decoded.encode("utf-16-le", "surrogatepass")) // 2
        start = prev
        while start < end and units[start] in _JS_SPACE:
            start += 1
        spans.append((start, end))
        prev = end
    return spans

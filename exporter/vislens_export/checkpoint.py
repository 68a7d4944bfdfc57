"""Reading a Hugging Face checkpoint directory: its JSON files, its weights, and the model itself.

Everything here fails early with an ExportError that names the offending file and field, before the
exporter writes anything.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import ExportError

WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
OVERRIDE_FILE = "vislens.json"
OVERRIDE_KEYS = {"template", "add_bos"}


@dataclass
class Checkpoint:
    path: Path
    config: dict  # config.json as stored
    architecture: str  # config.json "architectures"[0]
    preprocessor: dict | None  # preprocessor_config.json, when the checkpoint has one
    tokenizer_config: dict  # tokenizer_config.json, or {} when absent
    override: dict  # vislens.json (see OVERRIDE_KEYS), or {}
    chat_template: str | None  # the default chat template, wherever the checkpoint keeps it

    @property
    def tokenizer_file(self) -> Path:
        return self.path / "tokenizer.json"

    def weight_files(self) -> list[Path]:
        """The files that hold the weights, in name order (shards included)."""
        files = []
        for name in WEIGHT_FILES:
            p = self.path / name
            if p.is_file() and name.endswith(".index.json"):
                shards = sorted(set(_read_json(p).get("weight_map", {}).values()))
                files += [self.path / s for s in shards]
            elif p.is_file():
                files.append(p)
        return files


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ExportError(f"{path}: not valid JSON ({e})") from e
    if not isinstance(value, dict):
        raise ExportError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value


def _optional_json(path: Path) -> dict | None:
    return _read_json(path) if path.is_file() else None


def _chat_template(root: Path, tokenizer_config: dict) -> str | None:
    """chat_template.jinja (transformers v5), chat_template.json (processors), or tokenizer_config.json."""
    if (root / "chat_template.jinja").is_file():
        return (root / "chat_template.jinja").read_text(encoding="utf-8")
    if (root / "chat_template.json").is_file():
        return _read_json(root / "chat_template.json").get("chat_template")
    template = tokenizer_config.get("chat_template")
    if isinstance(template, list):  # named templates: [{"name", "template"}]
        template = next((t["template"] for t in template if t.get("name") == "default"), None)
    return template


def read_checkpoint(path: str | Path, supported: tuple[str, ...]) -> Checkpoint:
    root = Path(path)
    if not root.is_dir():
        raise ExportError(f"{root}: not a directory (expected a Hugging Face checkpoint directory)")
    config_path = root / "config.json"
    if not config_path.is_file():
        raise ExportError(f"{config_path}: missing (every Hugging Face checkpoint has a config.json)")
    config = _read_json(config_path)

    archs = config.get("architectures")
    if not isinstance(archs, list) or not archs:
        raise ExportError(f'{config_path}: field "architectures" is {archs!r}; expected a list naming the model class')
    if archs[0] not in supported:
        raise ExportError(
            f'{config_path}: field "architectures" is {archs[0]!r}, which vislens cannot export; '
            f"supported: {', '.join(supported)}"
        )

    if not (root / "tokenizer.json").is_file():
        raise ExportError(
            f"{root / 'tokenizer.json'}: missing; the bundle needs a Hugging Face `tokenizers` file "
            "(save one with tokenizer.save_pretrained or tokenizers.Tokenizer.save)"
        )

    override = _optional_json(root / OVERRIDE_FILE) or {}
    unknown = set(override) - OVERRIDE_KEYS
    if unknown:
        raise ExportError(f"{root / OVERRIDE_FILE}: unknown key(s) {sorted(unknown)}; allowed: {sorted(OVERRIDE_KEYS)}")

    tokenizer_config = _optional_json(root / "tokenizer_config.json") or {}
    ckpt = Checkpoint(
        path=root,
        config=config,
        architecture=archs[0],
        preprocessor=_optional_json(root / "preprocessor_config.json"),
        tokenizer_config=tokenizer_config,
        override=override,
        chat_template=_chat_template(root, tokenizer_config),
    )
    weights = ckpt.weight_files()
    if not weights:
        raise ExportError(f"{root}: no weights found (looked for {', '.join(WEIGHT_FILES)})")
    for f in weights:
        if not f.is_file():
            raise ExportError(f"{f}: missing, but the checkpoint's weight index lists it")
    return ckpt


def checkpoint_sha256(ckpt: Checkpoint) -> str:
    """SHA-256 over the weight files' bytes, concatenated in name order (shards included)."""
    h = hashlib.sha256()
    for f in ckpt.weight_files():
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def load_model(ckpt: Checkpoint):
    """The HF model in float32 with eager attention (the attention path that exports exactly)."""
    import torch
    import transformers

    cls = getattr(transformers, ckpt.architecture)
    transformers.utils.logging.disable_progress_bar()
    try:
        model = cls.from_pretrained(ckpt.path, attn_implementation="eager", dtype=torch.float32)
    except Exception as e:  # transformers raises many types here; all mean the same to the user
        raise ExportError(f"{ckpt.path}: transformers could not load it as {ckpt.architecture}: {e}") from e
    return model.eval()

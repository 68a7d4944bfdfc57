"""The manifest's `prompt` section: template, image token, BOS, and the EOS ids that end generation.

Where the template comes from, first match wins:
1. `<hf-dir>/vislens.json` {"template": ..., "add_bos": ...} (either key optional);
2. the checkpoint's chat template, rendered for one user turn holding an image and the prompt,
   with a generation prompt; the image placeholder becomes the processor's expansion of it;
3. the architecture's default.
"""

from __future__ import annotations

from tokenizers import Tokenizer
from transformers.utils.chat_template_utils import render_jinja_template

from .archs import Arch
from .checkpoint import OVERRIDE_FILE, Checkpoint, _optional_json
from .errors import ExportError

# Stands in for {prompt} while rendering a chat template; no template contains it by chance.
_PROMPT_MARK = "VISLENS_PROMPT_MARK"


def _token_text(value) -> str | None:
    """tokenizer_config.json stores special tokens as a string or as an AddedToken dict."""
    return value.get("content") if isinstance(value, dict) else value


def _bos_token_id(ckpt: Checkpoint, tokenizer: Tokenizer) -> int | None:
    bos = _token_text(ckpt.tokenizer_config.get("bos_token"))
    if bos is not None:
        return tokenizer.token_to_id(bos)
    for cfg in (ckpt.config.get("text_config") or {}, ckpt.config):
        bos_id = cfg.get("bos_token_id")
        if isinstance(bos_id, int) and tokenizer.id_to_token(bos_id) is not None:
            return bos_id
    return None


def _eos_token_ids(ckpt: Checkpoint, tokenizer: Tokenizer) -> list[int] | None:
    """The ids that end HF `generate`: generation_config.json's eos_token_id (an int or a list), else
    config.json's (top level, then text_config), as transformers derives a generation config; None if
    the checkpoint names none."""
    gen_file = ckpt.path / "generation_config.json"
    sources = [(gen_file, "eos_token_id", _optional_json(gen_file) or {})] if gen_file.is_file() else []
    sources += [
        (ckpt.path / "config.json", "eos_token_id", ckpt.config),
        (ckpt.path / "config.json", "text_config.eos_token_id", ckpt.config.get("text_config") or {}),
    ]
    for file, field, cfg in sources:
        value = cfg.get("eos_token_id")
        if value is None:
            continue
        ids = [value] if isinstance(value, int) else value
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise ExportError(f'{file}: field "{field}" is {value!r}; expected a token id or a list of them')
        for i in ids:
            if i < 0 or tokenizer.id_to_token(i) is None:
                raise ExportError(f'{file}: field "{field}" names token id {i}, which tokenizer.json does not have')
        return list(dict.fromkeys(ids))
    return None


def _tokenizer_prepends(tokenizer: Tokenizer, token_id: int | None) -> bool:
    """Whether tokenizer.json's post-processor puts token_id first (Llama tokenizers do, for BOS)."""
    ids = tokenizer.encode("a", add_special_tokens=True).ids
    return token_id is not None and len(ids) > 1 and ids[0] == token_id


def _from_chat_template(template: str, arch: Arch, image_token: str, bos_text: str | None) -> tuple[str, bool]:
    """(vislens template, whether the rendered text began with the BOS token's text)."""
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": _PROMPT_MARK}]}]
    try:
        rendered = render_jinja_template(
            conversations=[messages],
            chat_template=template,
            add_generation_prompt=True,
            bos_token=bos_text or "",
            eos_token="",
        )[0][0]
    except Exception as e:  # jinja errors of all kinds, or the template's raise_exception
        raise ExportError(f"chat template: rendering one image + text user turn failed: {e}") from e
    if rendered.count(image_token) != 1 or rendered.count(_PROMPT_MARK) != 1:
        raise ExportError(
            f"chat template: expected one {image_token!r} and one prompt in the rendered turn, got {rendered!r}; "
            f"put a template in {OVERRIDE_FILE}"
        )
    starts_with_bos = bool(bos_text) and rendered.startswith(bos_text)
    if starts_with_bos:
        rendered = rendered[len(bos_text) :]
    return rendered.replace(image_token, arch.image_expansion).replace(_PROMPT_MARK, "{prompt}"), starts_with_bos


def resolve_prompt(ckpt: Checkpoint, arch: Arch, tokenizer: Tokenizer, image_token_id: int) -> tuple[dict, str]:
    """The manifest's prompt section, and where its template came from."""
    image_token = tokenizer.id_to_token(image_token_id)
    if image_token is None:
        raise ExportError(f"tokenizer.json: no token has id {image_token_id} (config.json image_token_id)")
    bos_id = _bos_token_id(ckpt, tokenizer)
    bos_text = tokenizer.id_to_token(bos_id) if bos_id is not None else None
    add_bos = _tokenizer_prepends(tokenizer, bos_id)

    if "template" in ckpt.override:
        template, source = ckpt.override["template"], OVERRIDE_FILE
    elif ckpt.chat_template:
        template, starts_with_bos = _from_chat_template(ckpt.chat_template, arch, image_token, bos_text)
        add_bos, source = add_bos or starts_with_bos, "chat template"
    else:
        template, source = arch.default_template, f"{arch.architecture} default"
    add_bos = ckpt.override.get("add_bos", add_bos)

    if not isinstance(template, str) or template.count("{image}") != 1 or template.count("{prompt}") > 1:
        raise ExportError(
            f"prompt template from {source} is {template!r}; it needs exactly one {{image}} and at most one {{prompt}}"
        )
    if not isinstance(add_bos, bool):
        raise ExportError(f'{OVERRIDE_FILE}: field "add_bos" is {add_bos!r}; expected true or false')
    if add_bos and bos_id is None:
        raise ExportError(
            f"prompt from {source} wants a BOS token, but neither tokenizer_config.json nor config.json names one"
        )
    prompt = {
        "template": template,
        "image_token": image_token,
        "image_token_id": image_token_id,
        "add_bos": add_bos,
        "bos_token_id": bos_id,
    }
    eos_ids = _eos_token_ids(ckpt, tokenizer)
    if eos_ids is not None:
        prompt["eos_token_ids"] = eos_ids
    return prompt, source

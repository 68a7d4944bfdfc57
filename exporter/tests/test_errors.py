"""Bad inputs: clear errors that name file, field and value; nothing half-written left behind."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vislens_export.__main__ import main


def _checkpoint_copy(models, arch: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(models.hf_dir(arch), tmp_path / "hf"))


def _edit_json(path: Path, **changes) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def _export_fails(capsys, *argv) -> str:
    assert main([str(a) for a in argv]) == 1
    return capsys.readouterr().err


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_unsupported_architecture_is_named(models, tmp_path, capsys):
    hf = _checkpoint_copy(models, "llava", tmp_path)
    _edit_json(hf / "config.json", architectures=["BertForMaskedLM"])
    err = _export_fails(capsys, hf, tmp_path / "out" / "bundle")
    assert "config.json" in err and '"architectures"' in err and "BertForMaskedLM" in err
    assert "LlavaForConditionalGeneration" in err  # says what is supported
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "missing, expected",
    [
        ("config.json", "config.json: missing"),
        ("tokenizer.json", "tokenizer.json: missing"),
        ("model.safetensors", "no weights found"),
    ],
)
def test_missing_file_is_named(models, tmp_path, capsys, missing, expected):
    hf = _checkpoint_copy(models, "idefics3", tmp_path)
    (hf / missing).unlink()
    err = _export_fails(capsys, hf, tmp_path / "out" / "bundle")
    assert expected in err and str(hf) in err
    assert not (tmp_path / "out").exists()


def test_not_a_directory(tmp_path, capsys):
    assert "not a directory" in _export_fails(capsys, tmp_path / "nowhere", tmp_path / "bundle")


def test_failure_mid_export_leaves_nothing(models, tmp_path, capsys):
    """An error after the temporary bundle directory exists (here: the model is already loaded)."""
    hf = _checkpoint_copy(models, "qwen2vl", tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    err = _export_fails(capsys, hf, out_dir / "bundle", "--image-size", "30x30")
    assert "--image-size 30x30" in err and "multiples" in err and "8" in err
    assert _leftovers(out_dir) == []


def test_tokenizer_without_the_image_token(models, tmp_path, capsys):
    hf = _checkpoint_copy(models, "idefics3", tmp_path)
    _edit_json(hf / "config.json", image_token_id=100000)
    err = _export_fails(capsys, hf, tmp_path / "bundle")
    assert "tokenizer.json" in err and "100000" in err and "image_token_id" in err
    assert _leftovers(tmp_path) == ["hf"]


def test_existing_bundle_needs_force_and_survives_a_failed_replacement(models, tmp_path, capsys):
    hf = _checkpoint_copy(models, "qwen2vl", tmp_path)
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    (out / "notes.txt").write_text("not part of the bundle")
    assert "already holds a bundle (manifest.json)" in _export_fails(capsys, hf, out)
    _export_fails(capsys, hf, out, "--force", "--image-size", "30x30")
    assert _leftovers(out) == ["manifest.json", "notes.txt"] and (out / "manifest.json").read_text() == "{}"
    assert _leftovers(tmp_path) == ["bundle", "hf"]


@pytest.mark.parametrize(
    "override, expected",
    [
        ({"templat": "{image}"}, "unknown key(s) ['templat']"),
        ({"template": "no image here {prompt}"}, "exactly one {image}"),
        ({"add_bos": "yes"}, "\"add_bos\" is 'yes'"),
    ],
)
def test_bad_vislens_json(models, tmp_path, capsys, override, expected):
    hf = _checkpoint_copy(models, "llava", tmp_path)
    (hf / "vislens.json").write_text(json.dumps(override))
    err = _export_fails(capsys, hf, tmp_path / "bundle")
    assert expected in err
    assert _leftovers(tmp_path) == ["hf"]


def test_command_line_exit_status_and_message(tmp_path):
    exporter_dir = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "vislens_export", str(tmp_path / "nowhere"), str(tmp_path / "bundle")],
        cwd=exporter_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("vislens_export: error:") and "not a directory" in proc.stderr

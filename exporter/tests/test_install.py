"""Moving a finished bundle into place, including into a directory that holds other files."""

from __future__ import annotations

import json

from vislens_export.bundle import install


def _bundle(directory, files: dict[str, str]):
    directory.mkdir(parents=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    (directory / "manifest.json").write_text(json.dumps({"files": {name: {} for name in files}}))


def test_new_directory_is_one_rename(tmp_path):
    _bundle(tmp_path / "tmp", {"vision.onnx": "v"})
    install(tmp_path / "tmp", tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["manifest.json", "vision.onnx"]
    assert not (tmp_path / "tmp").exists()


def test_existing_directory_keeps_other_files_and_drops_stale_bundle_files(tmp_path):
    out = tmp_path / "out"
    _bundle(out, {"vision.onnx": "old", "llm.onnx": "old", "llm.onnx.data": "old"})
    (out / "hf").mkdir()
    (out / "hf" / "config.json").write_text("checkpoint")
    _bundle(tmp_path / "tmp", {"vision.onnx": "new", "llm.onnx": "new"})

    install(tmp_path / "tmp", out)

    assert sorted(p.name for p in out.iterdir()) == ["hf", "llm.onnx", "manifest.json", "vision.onnx"]
    assert (out / "vision.onnx").read_text() == "new" and (out / "llm.onnx").read_text() == "new"
    assert set(json.loads((out / "manifest.json").read_text())["files"]) == {"vision.onnx", "llm.onnx"}
    assert (out / "hf" / "config.json").read_text() == "checkpoint"
    assert not (tmp_path / "tmp").exists()

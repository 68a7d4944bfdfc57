"""Shared test fixtures: tiny checkpoints and their bundles, each built once per session.

Importable without installing the package (the exporter directory goes on sys.path). Prints how
long each build and export took at the end of the run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

# The test machine's cores are shared with other jobs; tiny models gain nothing from threads.
torch.set_num_threads(1)

ARCHES = ("llava", "qwen2vl", "idefics3")
# Qwen2-VL at a non-square size, so that rows and columns of the merged grid cannot be confused.
EXPORT_ARGS = {"llava": [], "qwen2vl": ["--image-size", "32x48"], "idefics3": []}
HF_INSIDE_BUNDLE = {"llava"}
TIMINGS: list[tuple[str, float]] = []


class Models:
    """Lazily built tiny checkpoints, bundles and loaded HF models, keyed by tiny-architecture name."""

    def __init__(self, root: Path):
        self.root = root
        self._hf, self._bundles, self._models = {}, {}, {}

    def hf_dir(self, arch: str) -> Path:
        if arch not in self._hf:
            from vislens_export.tiny import build

            # LLaVA's checkpoint sits inside its bundle directory, as the shipped fixture's does.
            where = self.root / "bundles" / arch / "hf" if arch in HF_INSIDE_BUNDLE else self.root / "hf" / arch
            start = time.perf_counter()
            self._hf[arch] = build(arch, where)
            TIMINGS.append((f"tiny build {arch}", time.perf_counter() - start))
        return self._hf[arch]

    def bundle(self, arch: str) -> Path:
        if arch not in self._bundles:
            from vislens_export.__main__ import main

            out = self.root / "bundles" / arch
            start = time.perf_counter()
            assert main([str(self.hf_dir(arch)), str(out), *EXPORT_ARGS[arch]]) == 0
            TIMINGS.append((f"export {arch} (incl. check)", time.perf_counter() - start))
            self._bundles[arch] = out
        return self._bundles[arch]

    def model(self, arch: str):
        if arch not in self._models:
            from vislens_export.archs import SUPPORTED
            from vislens_export.checkpoint import load_model, read_checkpoint

            self._models[arch] = load_model(read_checkpoint(self.hf_dir(arch), SUPPORTED))
        return self._models[arch]


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> Models:
    return Models(tmp_path_factory.mktemp("vislens"))


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("vislens export timings")
        for what, seconds in TIMINGS:
            terminalreporter.write_line(f"{seconds:6.1f} s  {what}")

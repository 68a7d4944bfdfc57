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

TIMINGS: list[tuple[str, float]] = []


class Models:
    """Tiny checkpoints and their checked bundles (vislens_export.tiny.cache: built once per exporter
    version into .cache/tiny-bundles, shared with the TypeScript tests), and loaded HF models."""

    def __init__(self):
        self._paths, self._models = {}, {}

    def _built(self, arch: str):
        if arch not in self._paths:
            from vislens_export.tiny.cache import cached_bundle

            start = time.perf_counter()
            self._paths[arch] = cached_bundle(arch)
            TIMINGS.append((f"tiny build + export {arch} (incl. check; cached per exporter version)", time.perf_counter() - start))
        return self._paths[arch]

    def hf_dir(self, arch: str) -> Path:
        return self._built(arch)[0]

    def bundle(self, arch: str) -> Path:
        return self._built(arch)[1]

    def model(self, arch: str):
        if arch not in self._models:
            from vislens_export.archs import SUPPORTED
            from vislens_export.checkpoint import load_model, read_checkpoint

            self._models[arch] = load_model(read_checkpoint(self.hf_dir(arch), SUPPORTED))
        return self._models[arch]


@pytest.fixture(scope="session")
def models() -> Models:
    return Models()


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("vislens export timings")
        for what, seconds in TIMINGS:
            terminalreporter.write_line(f"{seconds:6.1f} s  {what}")

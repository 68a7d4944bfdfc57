"""Writing a vislens contextual bank from Python (docs/bank-format.md), byte-compatible with the
TypeScript writer (src/bank/build.ts, src/io/npy.ts, src/bank/verify.ts).

A bank is built in a hidden directory beside its target and moved into place in one rename, so a
failed or killed write never leaves a directory that looks like a bank. Every file is hashed as it
is written; the hashes go into bank.json's `files` table and into `verified.json` (the verification
record), so the first `openBank` hashes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from .errors import ExportError

MAGIC = b"\x93NUMPY"
BANK_FORMAT_VERSION = 1
VERIFY_RECORD_FORMAT = "vislens-bank-verified"
MANIFEST = "bank.json"
VERIFIED = "verified.json"
SENTENCES = "sentences.txt"
TOKENS = "tokens.json"
TOKEN_ID = "rows.token_id.npy"
SENTENCE = "rows.sentence.npy"
POSITION = "rows.position.npy"
CHAR_SPAN = "rows.char_span.npy"


def layer_file(layer: int) -> str:
    return f"layer_{layer:02d}.npy"


def npy_header(descr: str, shape: tuple[int, ...]) -> bytes:
    """The .npy 1.0 header exactly as src/io/npy.ts writes it (C order, padded to 64 bytes)."""
    shape_text = f"({shape[0]},)" if len(shape) == 1 else "(" + ", ".join(str(s) for s in shape) + ")"
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}"
    unpadded = len(MAGIC) + 2 + 2 + len(text) + 1
    text += " " * ((64 - unpadded % 64) % 64) + "\n"
    if len(text) > 0xFFFF:
        raise ValueError(f"npy header too long for format 1.0: shape {shape}")
    return MAGIC + bytes([1, 0]) + len(text).to_bytes(2, "little") + text.encode("latin1")


class HashingWriter:
    """A file written front to back, hashed as it goes; `close()` makes it durable."""

    def __init__(self, path: Path):
        self.path = path
        self._file = path.open("wb")
        self._hash = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self.bytes += len(data)

    def close(self) -> dict:
        """Flushes and fsyncs the file; returns its bank.json entry {bytes, sha256}."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return {"bytes": self.bytes, "sha256": self._hash.hexdigest()}

    def abort(self) -> None:
        self._file.close()


class NpyMatrixWriter(HashingWriter):
    """A `[rows, dim]` (or `[rows]`) .npy file written in chunks of whole rows, in order."""

    def __init__(self, path: Path, descr: str, shape: tuple[int, ...]):
        super().__init__(path)
        self.descr, self.shape, self._rows = descr, shape, 0
        self.write(npy_header(descr, shape))

    def append(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype=np.dtype(self.descr))
        if rows.shape[1:] != self.shape[1:]:
            raise ValueError(f"{self.path.name}: rows of shape {rows.shape[1:]}, the matrix is {self.shape}")
        self._rows += rows.shape[0]
        if self._rows > self.shape[0]:
            raise ValueError(f"{self.path.name}: more than the {self.shape[0]} rows of its header")
        self.write(rows.tobytes())

    def close(self) -> dict:
        if self._rows != self.shape[0]:
            raise ValueError(f"{self.path.name}: {self._rows} rows written, the header says {self.shape[0]}")
        return super().close()


def write_npy(path: Path, array: np.ndarray, descr: str) -> dict:
    """A whole array as .npy; returns its bank.json entry."""
    array = np.ascontiguousarray(array, dtype=np.dtype(descr))
    w = NpyMatrixWriter(path, descr, array.shape)
    w.append(array)
    return w.close()


def write_bytes(path: Path, data: bytes) -> dict:
    w = HashingWriter(path)
    w.write(data)
    return w.close()


def write_json_compact(path: Path, value) -> dict:
    """JSON as JavaScript's JSON.stringify(value) writes it (no spaces, UTF-8)."""
    return write_bytes(path, json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def write_verify_record(bank: Path, files: dict[str, dict]) -> None:
    """verified.json for files this writer alone wrote and hashed (src/bank/verify.ts,
    recordBuiltFiles): each entry holds the hash and the file's size, mtime, ctime and inode now."""
    entries = {}
    for name in sorted(files):
        st = os.stat(bank / name)
        if st.st_size != files[name]["bytes"]:
            continue  # changed since it was hashed: leave it to the next open to hash
        entries[name] = {
            "bytes": st.st_size,
            "sha256": files[name]["sha256"],
            "mtime_ns": str(st.st_mtime_ns),
            "ctime_ns": str(st.st_ctime_ns),
            "ino": str(st.st_ino),
        }
    record = {"format": VERIFY_RECORD_FORMAT, "format_version": 1, "files": entries}
    write_bytes(bank / VERIFIED, (json.dumps(record, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))


def check_out_dir(out: Path, force: bool) -> None:
    """Refuses an output directory that holds anything but (with `force`) a finished bank."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ExportError(f"{out}: exists and is not a directory")
    entries = list(out.iterdir())
    if not entries:
        return
    if not (out / MANIFEST).exists():
        raise ExportError(
            f"{out}: the output directory is not empty and holds no bank; choose an empty or new directory"
        )
    if not force:
        raise ExportError(f"{out}: a finished bank is already here ({MANIFEST}); pass --force to replace it")


def partial_dir(out: Path) -> Path:
    """A fresh hidden directory beside `out` to build the bank in."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.{os.getpid()}.import-partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


def install(tmp: Path, out: Path) -> None:
    """Moves the finished bank from `tmp` to `out` (an existing bank there was allowed by check_out_dir)."""
    old = None
    if out.exists() and any(out.iterdir()):
        old = out.parent / f".{out.name}.{os.getpid()}.replaced"
        os.rename(out, old)
    elif out.exists():
        out.rmdir()
    os.rename(tmp, out)
    fd = os.open(out.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    if old is not None:
        shutil.rmtree(old)

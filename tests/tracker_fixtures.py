"""What the tracker-format tests share: the committed fixtures, reading one run, a read-only check, and damaged copies."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runsift.core.discover import Found, discover
from runsift.core.loader import load
from runsift.core.records import Run

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def expected(name: str) -> dict[str, Any]:
    """``tests/fixtures/<name>/expected.json``: what the library reported when it wrote the fixtures."""
    return json.loads((FIXTURES / name / "expected.json").read_text(encoding="utf-8"))


def copy_fixture(name: str, dest: Path) -> Path:
    """A private copy of ``tests/fixtures/<name>`` (file times kept), so a test may change it."""
    root = dest / name
    shutil.copytree(FIXTURES / name, root)
    return root


def found_runs(root: Path) -> dict[str, Found]:
    """What the walk finds below ``root``, by id."""
    walk = discover(root)
    assert not walk.problems, walk.problems
    return {f.id: f for f in walk.found}


def read_run(root: Path, run_id: str) -> Run:
    """One run read as the catalog reads it (the walk's listing, then its format's reader)."""
    found = found_runs(root)[run_id]
    record = load(found, root)
    assert isinstance(record, Run)
    return record


def snapshot(root: Path) -> dict[str, tuple[str, int, int, int]]:
    """Every file and folder below ``root`` with its content hash, size, modification time and mode."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            st = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else ""
            out[str(path.relative_to(root))] = (digest, st.st_size, st.st_mtime_ns, st.st_mode)
    return out


def damaged(data: bytes, cuts: int = 12, flips: int = 12) -> Iterator[tuple[str, bytes]]:
    """Copies of ``data`` truncated at spread offsets and with single bytes changed (to NUL, to 0xff, to a brace)."""
    n = len(data)
    offsets = sorted({0, 1, n // 2, max(n - 1, 0)} | {n * i // cuts for i in range(1, cuts)})
    for cut in offsets:
        yield f"truncated at {cut}", data[:cut]
    for i in range(flips):
        at = (n * i // flips + 7 * i) % n if n else 0
        if not n:
            break
        for new in (0x00, 0xFF, ord("{")):
            yield f"byte {at} set to {new:#x}", data[:at] + bytes([new]) + data[at + 1 :]


def floats(points: Any) -> tuple[tuple[float, float], ...]:
    """``[[step, value], ...]`` as the ``((step, value), ...)`` of a runsift series."""
    return tuple((float(s), float(v)) for s, v in points)

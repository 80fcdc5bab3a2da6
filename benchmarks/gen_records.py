#!/usr/bin/env python3
"""Realistic catalog records without files: N rows shaped like ``gen_corpus.py``'s runs, for the catalog's write path.

A few dozen template runs are written by ``gen_corpus.py`` and read by runsift's own reader (the
rows a refresh would store: summary columns, facets, record JSON). Record ``i`` is template
``i % T`` under a new id (``<project>/b<i // 10000>/<date>_run-<i>``), with ``run_number = i`` (so
``run_number<10000`` selects exactly 10k records), its final metrics and learning rate jittered,
and its id and folder replaced in the record JSON. Nothing else in the record JSON changes (its
curves stay the template's): what a list, filter or sort reads is varied, the bulk is realistic.

Used by ``bench_scale.py``; ``python benchmarks/gen_records.py N`` prints the generation rate.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
Row = tuple[Any, ...]


def templates(count: int = 64, seed: int = 0) -> list[Row]:
    """``count`` rows read by runsift from a fresh ``gen_corpus.py`` corpus (deterministic for a seed)."""
    from runsift.core.discover import discover
    from runsift.core.rows import read_row

    with tempfile.TemporaryDirectory(prefix="runsift-templates-") as tmp:
        out = Path(tmp) / "corpus"
        subprocess.run([sys.executable, str(HERE / "gen_corpus.py"), "--out", str(out), "--runs", str(count), "--seed", str(seed)],
                       check=True, capture_output=True)
        walk = discover(out)
        return [read_row(f, out) for f in walk.found if f.kind == "run"]


def records(base: list[Row], start: int, stop: int, root: str, seed: int = 0) -> Iterator[Row]:
    """Rows ``start`` .. ``stop - 1`` (the same ``i`` always gives the same row), with folders under ``root``."""
    for i in range(start, stop):
        t = base[i % len(base)]
        rnd = random.Random(seed * 1_000_003 + i)
        project, old_name = t[0].split("/", 1)[0], t[3]
        name = f"{old_name.split('_run-')[0]}_run-{i:07d}"
        rid = f"{project}/b{i // 10_000:03d}/{name}"
        path = f"{root}/{rid}"
        final = {k: (v * (1 + rnd.uniform(-0.03, 0.03)) if isinstance(v, float) else v) for k, v in json.loads(t[11]).items()}
        facets = json.loads(t[14])
        if "config.optimizer.lr" in facets:
            lr = 10 ** rnd.uniform(-5, -1)
            facets["config.optimizer.lr"] = [repr(lr), lr]
        detail = t[15].replace(t[0], rid).replace(t[4], path)
        yield (rid, t[1], t[2], name, path, t[5], t[6], i, t[8], t[9], t[10], json.dumps(final), f"bench-{i}",
               t[13], json.dumps(facets, separators=(",", ":")), detail)


def batches(base: list[Row], start: int, stop: int, root: str, size: int = 500) -> Iterator[list[Row]]:
    """:func:`records` in lists of ``size`` (one transaction each, as a refresh stores them)."""
    batch: list[Row] = []
    for row in records(base, start, stop, root):
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    base = templates()
    started = time.perf_counter()
    size = sum(len(r[15]) for r in records(base, 0, n, "/bench"))
    seconds = time.perf_counter() - started
    print(f"{n:,} records from {len(base)} templates in {seconds:.2f} s ({n / seconds:,.0f}/s), record JSON {size / n / 1024:.1f} KiB each")

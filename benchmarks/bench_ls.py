#!/usr/bin/env python3
"""``runsift ls`` as a table (piped, every column) against ``--format json``, warm cache, and the table at 80 columns.

Wall time of the CLI process, stdout to a pipe that is read to the end, median of ``--repeat``.

Usage::

    python benchmarks/bench_ls.py --runs 2000 [--keep /tmp/rsbench-ls] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_corpus import generate


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--keep", type=Path, default=None, help="keep (and reuse) the corpus and cache here")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    base = args.keep or Path(tempfile.mkdtemp(prefix="rsbench-ls-"))
    root, cache = base / f"runs-{args.runs}", base / "cache"
    if not root.exists():
        generate(str(root), args.runs, progress=False)
    cli = [sys.executable, "-m", "runsift", "ls", str(root), "--cache-dir", str(cache), "-q"]
    env = {**os.environ}
    subprocess.run([*cli, "--format", "json"], stdout=subprocess.DEVNULL, check=True, env=env)  # cold index, not timed
    rows = {
        "ls --format json": [*cli, "--format", "json"],
        "ls (table, piped: every column)": cli,
        "ls --columns val_auc,config.optimizer.lr,error": [*cli, "--columns", "val_auc,config.optimizer.lr,error"],
        "ls -f val_auc>0.5 (table)": [*cli, "-f", "val_auc>0.5"],
    }
    print(f"{args.runs:,} runs, warm cache, median of {args.repeat} (min-max), seconds")
    for label, cmd in rows.items():
        times = [timed(cmd, env) for _ in range(args.repeat)]
        print(f"  {label:48s} {statistics.median(times):6.2f}  ({min(times):.2f}-{max(times):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

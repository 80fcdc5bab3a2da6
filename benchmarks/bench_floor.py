"""The floor of a cold index: read and parse every file of a corpus once, single-threaded, doing nothing else.

The issue's 10k target ("cold index under 8 s") was set against this floor measured on another
machine (about 4.3 s for 10k runs). Running it here tells how fast this machine is by that yardstick,
so the cold-index figure from bench_catalog.py can be read against it:

    python benchmarks/bench_floor.py /tmp/rsbench/runs-10000

YAML with PyYAML's C loader, JSON with the stdlib, text files split into lines, split id files
split, sorted and hashed. No records are built and nothing is written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(path: str) -> None:
    """Read one file and parse it the cheapest sensible way for its kind."""
    with open(path, "rb") as f:
        data = f.read()
    name = os.path.basename(path)
    if name.endswith((".yaml", ".yml")):
        yaml.load(data, Loader=LOADER)
    elif name.endswith(".json"):
        json.loads(data)
    elif os.path.basename(os.path.dirname(path)) == "splits":
        ids = sorted(filter(None, (line.strip() for line in data.decode("utf-8").split("\n"))))
        hashlib.sha256(("\n".join(ids) + "\n").encode()).hexdigest()
    else:
        data.decode("utf-8", errors="replace").splitlines()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", help="a corpus written by gen_corpus.py")
    args = ap.parse_args()
    paths = [
        os.path.join(folder, name)
        for folder, _dirs, files in os.walk(args.root)
        for name in files
        if not name.startswith(".") and not folder.endswith("artifacts")
    ]
    runs = sum(1 for p in paths if os.path.basename(p) == "config.yaml")
    started, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        parse(path)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{len(paths):,} files of {runs:,} runs parsed in {wall:.2f} s ({cpu:.2f} s CPU), {wall / max(runs, 1) * 1000:.2f} ms per run")
    print(f"the issue's machine: ~4.3 s for 10,000 runs (0.43 ms per run); this machine is {wall / max(runs, 1) / 0.00043:.1f}x that")


if __name__ == "__main__":
    main()

"""Time warm opens of an already indexed root in fresh processes: Catalog.open, then the full list.

    python benchmarks/bench_warm.py ROOT --cache-dir DIR [--repeat 5]

Index ROOT into DIR first (``runsift ls ROOT --cache-dir DIR -q > /dev/null``). Unlike bench_catalog.py,
this reuses a kept cache, so a 100k-run warm open can be timed again without a 6-minute cold index.
Prints each repetition and the median; nothing asserts. The open's CPU time (user + system, this process)
is printed beside its wall time: on a loaded machine it moves less.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = """
import json, sys, time
from runsift.core.catalog import Catalog
t, c = time.perf_counter(), time.process_time()
cat = Catalog.open(sys.argv[1], cache_dir=sys.argv[2])
opened, cpu = time.perf_counter() - t, time.process_time() - c
rows = cat.summaries()
listed = time.perf_counter() - t
print(json.dumps({"open": opened, "open_cpu": cpu, "open_and_list": listed, "rows": len(rows), "listed": cat.last_refresh.listed,
                  "changed": cat.last_refresh.changed + cat.last_refresh.added + cat.last_refresh.removed}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root")
    ap.add_argument("--cache-dir", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    runs = []
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, "-c", CHILD, args.root, args.cache_dir], capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout))
        r = runs[-1]
        print(f"open {r['open']:.2f} s ({r['open_cpu']:.2f} s CPU), open + full list {r['open_and_list']:.2f} s "
              f"({r['rows']:,} records, {r['listed']:,} listed file by file, {r['changed']} changed)")
    print(f"median: open {statistics.median(r['open'] for r in runs):.2f} s "
          f"({statistics.median(r['open_cpu'] for r in runs):.2f} s CPU), "
          f"open + full list {statistics.median(r['open_and_list'] for r in runs):.2f} s")


if __name__ == "__main__":
    main()

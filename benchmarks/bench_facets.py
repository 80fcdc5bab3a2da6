#!/usr/bin/env python3
"""Detail keys (``config.*``) on the embedded catalog at scale: what a first filter on one costs, in time and memory.

Fills an SQLite cache with ``--records`` realistic records (``gen_records.py``, through the catalog's own write path,
as ``bench_scale.py`` does; kept under ``--keep`` and reused), then, in a fresh process, times what the app asks when
someone filters, sorts or picks columns by config keys, one after the other:

  summaries         the whole list, loaded once (what every filter starts from)
  first filter      ``config.optimizer.lr>0.001``: the first detail filter of the session
  same key          ``config.optimizer.lr>0.002``
  another key       a sort by ``config.batch_size``
  keys              every detail key (what a filter's key is checked against, and the column picker offers)
  picker            the config keys whose values differ among the first 5,000 rows (the column picker)

and the process's peak RSS before and after. No asserts: figures only.

    python benchmarks/bench_facets.py --records 100000 --keep /tmp/rs-facets
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, resource, sys, time
from runsift.core.catalog import Catalog
from runsift.core.columns import varying_config
from runsift.core.query import parse_filter, parse_sort
root, cache = sys.argv[1:3]
out = {}
def timed(name, fn):
    t = time.perf_counter(); result = fn(); out[name] = round(time.perf_counter() - t, 3); return result
cat = Catalog.open(root, cache_dir=cache, refresh=False)
rows = timed("summaries", cat.summaries)
out["rss before MB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
timed("first filter", lambda: cat.list(filters=[parse_filter("config.optimizer.lr>0.001")]))
timed("same key", lambda: cat.list(filters=[parse_filter("config.optimizer.lr>0.002")]))
timed("another key", lambda: cat.list(sort=parse_sort("config.batch_size")))
keys = timed("keys", cat.facet_keys)
ids = [r.id for r in rows[:5000]]
timed("picker", lambda: varying_config(keys, lambda key: cat.facet(key, ids), ids))
out["peak RSS MB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(out))
"""

FILL = r"""
import sys
sys.path.insert(0, sys.argv[4])
from gen_records import batches, templates
from runsift.core.catalog import Catalog, _store
root, cache, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
cat = Catalog.open(root, cache_dir=cache, refresh=False)
for batch in batches(templates(), 0, n, root):
    with cat._lock, cat.db:
        _store(cat.db, batch)
cat.close()
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, required=True, help="folder for the root and its cache (reused when filled)")
    ap.add_argument("--runs", type=int, default=2, help="fresh processes measuring (default 2)")
    args = ap.parse_args()
    base = args.keep / f"records-{args.records}"
    root, cache = base / "root", base / "cache"
    root.mkdir(parents=True, exist_ok=True)
    if not (base / "filled").exists():
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", FILL, str(root), str(cache), str(args.records), str(HERE)], check=True)
        (base / "filled").write_text("")
        print(f"filled {args.records:,} records in {time.perf_counter() - started:.0f} s")
    for _ in range(args.runs):
        done = subprocess.run([sys.executable, "-c", CHILD, str(root), str(cache)], check=True, capture_output=True, text=True)
        print(json.dumps(json.loads(done.stdout)))


if __name__ == "__main__":
    main()

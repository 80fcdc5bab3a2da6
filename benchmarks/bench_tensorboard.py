"""TensorBoard reading speed: decode every event file below ROOT (the fixtures: tests/fixtures/tensorboard) N times, then read its runs whole.

    python benchmarks/bench_tensorboard.py tests/fixtures/tensorboard [N]

Prints µs per record (framing, checksums and protobuf parsing) and ms per pass over the runs; best of 5.
"""
import io
import sys
import time
from pathlib import Path

from runsift.core.discover import discover
from runsift.core.formats import _tfrecord as tf
from runsift.core.loader import load

root = Path(sys.argv[1])
files = [p.read_bytes() for p in root.rglob("events.out.tfevents.*")]
records = sum(tf.read_events(io.BytesIO(d), tf.Decoder(), 10**9).framing.records for d in files)
n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
best = float("inf")
for _ in range(5):
    t = time.perf_counter()
    for _ in range(n):
        for d in files:
            tf.read_events(io.BytesIO(d), tf.Decoder(), 10**9)
    best = min(best, time.perf_counter() - t)
print(f"{len(files)} files, {records} records: {best / n * 1e3:.3f} ms per pass over all files, {best / n / records * 1e6:.2f} µs per record (best of 5 x {n})")
found = [f for f in discover(root).found if f.kind == "run"]
best = float("inf")
for _ in range(5):
    t = time.perf_counter()
    for _ in range(20):
        for f in found:
            load(f, root)
    best = min(best, time.perf_counter() - t)
print(f"{len(found)} runs read whole (tensorboard.read): {best / 20 * 1e3:.2f} ms per pass")

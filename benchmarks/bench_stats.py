#!/usr/bin/env python3
"""Benchmark "is this change real or noise?" on two runs with 100,000 predictions each.

Writes two synthetic runs' ``artifacts/val_predictions.csv`` (same ids in a different order,
run B about 0.3% AUC better, scores correlated as for two trainings of one model), then times:

  read x2     read_predictions() of both files (csv module, streaming)
  align       align(a, b) on their common ids
  bootstrap   paired_bootstrap(..., roc_auc, n_resamples=10_000) on all cores
  delong      delong_test(...)

and, for context, the other bootstrap paths: F1 at a threshold (resampled confusion cells),
AUC with the classic multinomial resampling, AUC on one thread, average precision.

    python benchmarks/bench_stats.py                      # 100k examples, 10k resamples
    python benchmarks/bench_stats.py --n 20000 --resamples 2000 --skip-extras

No asserts: it prints figures (wall and CPU seconds, the target next to the total) and exits 0.
On a busy machine compare CPU seconds; the load average is printed first.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

TARGET_TOTAL_S = 2.0


def make_runs(root: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    """Two runs' prediction files: B = A's model with a little more signal and its own noise."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.1).astype(int)
    shared = rng.normal(size=n)
    logit_a = -2.5 + 1.60 * y + shared + 0.35 * rng.normal(size=n)
    logit_b = -2.5 + 1.63 * y + shared + 0.35 * rng.normal(size=n)
    ids = np.array([f"ex_{i:07d}" for i in range(n)])
    paths = []
    for name, logit in (("run-a", logit_a), ("run-b", logit_b)):
        order = rng.permutation(n)  # each run writes its rows in its own order
        p = 1 / (1 + np.exp(-logit))
        f = root / name / "artifacts" / "val_predictions.csv"
        f.parent.mkdir(parents=True, exist_ok=True)
        with open(f, "w") as fh:
            fh.write("id,label,score\n")
            fh.writelines(f"{ids[i]},{y[i]},{p[i]:.6f}\n" for i in order)
        paths.append(f)
    return paths[0], paths[1]


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds of this process, all threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="predictions per run (default 100000)")
    parser.add_argument("--resamples", type=int, default=10_000, help="bootstrap resamples (default 10000)")
    parser.add_argument("--keep", type=Path, help="write the runs here and keep them (default: a temp folder)")
    parser.add_argument("--skip-extras", action="store_true", help="only the timed pipeline, not the context rows")
    args = parser.parse_args(argv)

    from runsift.core import stats
    from runsift.core.readers.predictions import align, read_predictions
    from runsift.core.safeio import ReadContext

    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    tmp = None
    if args.keep:
        root = args.keep
        root.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="runsift-bench-stats-")
        root = Path(tmp.name)
    try:
        (fa, fb), gen_wall, _ = timed(lambda: make_runs(root, args.n))
        print(f"wrote 2 x {args.n:,} predictions in {gen_wall:.1f} s under {root}\n")
        ctx = ReadContext(root)
        rows: list[tuple[str, float, float, str]] = []

        (pa, pb), wall, cpu = timed(lambda: (read_predictions(fa, ctx), read_predictions(fb, ctx)))
        rows.append(("read_predictions x2", wall, cpu, f"{len(pa):,} + {len(pb):,} rows, {len(ctx.problems)} problems"))
        al, wall, cpu = timed(lambda: align(pa, pb))
        ids, y, sa, sb = al
        rows.append(("align", wall, cpu, f"{len(ids):,} common ids"))
        boot, wall, cpu = timed(lambda: stats.paired_bootstrap(y, sa, sb, stats.roc_auc, n_resamples=args.resamples))
        rows.append((f"paired_bootstrap AUC {args.resamples:,}", wall, cpu,
                     f"delta {boot.delta:+.5f}, 95% CI [{boot.ci_low:+.5f}, {boot.ci_high:+.5f}], p {boot.p_value:.4f}"))
        dl, wall, cpu = timed(lambda: stats.delong_test(y, sa, sb))
        rows.append(("delong_test", wall, cpu, f"delta {dl.delta:+.5f}, se {dl.se:.5f}, z {dl.z:+.2f}, p {dl.p_value:.2e}"))
        total_wall = sum(r[1] for r in rows)
        total_cpu = sum(r[2] for r in rows)

        print("| step | wall s | cpu s | result |")
        print("|---|---:|---:|---|")
        for name, wall, cpu, note in rows:
            print(f"| {name} | {wall:.3f} | {cpu:.3f} | {note} |")
        print(f"| **total** | **{total_wall:.3f}** | {total_cpu:.3f} | target < {TARGET_TOTAL_S:.0f} s wall on 2 cores |")
        print(f"\nbootstrap se {boot.se:.5f} vs DeLong se {dl.se:.5f}; "
              f"AUC a {dl.auc_a:.5f}, b {dl.auc_b:.5f}")

        if not args.skip_extras:
            extras: list[tuple[str, float, float, str]] = []
            k = max(1, args.resamples // 10)
            f1 = partial(stats.f1_at, threshold=0.5)
            r, wall, cpu = timed(lambda: stats.paired_bootstrap(y, sa, sb, f1, n_resamples=args.resamples))
            extras.append((f"bootstrap F1@0.5 {args.resamples:,} (cells)", wall, cpu, f"CI [{r.ci_low:+.5f}, {r.ci_high:+.5f}]"))
            r, wall, cpu = timed(lambda: stats.paired_bootstrap(y, sa, sb, stats.roc_auc, n_resamples=k, resampling="multinomial"))
            extras.append((f"bootstrap AUC {k:,} multinomial", wall, cpu, f"se {r.se:.5f}"))
            r, wall, cpu = timed(lambda: stats.paired_bootstrap(y, sa, sb, stats.roc_auc, n_resamples=k, workers=1))
            extras.append((f"bootstrap AUC {k:,} poisson, 1 thread", wall, cpu, f"se {r.se:.5f}"))
            r, wall, cpu = timed(lambda: stats.paired_bootstrap(y, sa, sb, stats.roc_auc, n_resamples=k))
            extras.append((f"bootstrap AUC {k:,} poisson, all threads", wall, cpu, f"se {r.se:.5f}"))
            r, wall, cpu = timed(lambda: stats.paired_bootstrap(y, sa, sb, stats.average_precision, n_resamples=k))
            extras.append((f"bootstrap AP {k:,}", wall, cpu, f"delta {r.delta:+.5f}, se {r.se:.5f}"))
            r, wall, cpu = timed(lambda: stats.flips(ids, y, sa, sb, 0.5))
            extras.append(("flips at 0.5", wall, cpu, f"fixed {r.fixed}, broken {r.broken}"))
            print("\n| context | wall s | cpu s | result |")
            print("|---|---:|---:|---|")
            for name, wall, cpu, note in extras:
                print(f"| {name} | {wall:.3f} | {cpu:.3f} | {note} |")
        print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmark the A/B replay on a synthetic kit with 1,000,000 assignments and 1,000,000 events.

Writes a repro kit (experiment.yaml, metric_definitions.yaml, event_schemas.yaml,
analysis_plan.yaml, assignments.csv, events.csv) like the sample checkout kit, but big:
50/50 control/treatment, ~0.3% units assigned twice, ~45% purchase events (a few of
schema v4, some before exposure or after the 7-day window), the rest page views, and
events of units that are not in the log. Then times ``replay()`` in this process:

  workers=1     one process: the csv module over both logs
  workers=2     units split between two spawned processes (each reads both logs)
  auto          replay()'s own choice for this size and this machine

    python benchmarks/bench_abreplay.py                         # 1M + 1M, kit in a temp folder
    python benchmarks/bench_abreplay.py --units 200000 --events 200000 --keep /tmp/abkit

No asserts: it prints figures (wall and CPU seconds, the target next to them) and exits 0.
On a busy machine compare CPU seconds; the load average is printed first. CPU seconds of
the spawned workers are included (children's times after the pool closes).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_S = 5.0
EXP_ID = "bench-exp-001"


def write_kit(folder: Path, n_units: int, n_events: int, seed: int = 0) -> None:
    """A kit with ``n_units`` assigned units and ``n_events`` event rows (deterministic)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    start = np.datetime64("2025-02-03T00:00:00", "s")
    (folder / "experiment.yaml").write_text(
        f"experiment_id: {EXP_ID}\nunit: user_id\nvariants:\n  control: 0.5\n  treatment: 0.5\n"
        "start: '2025-02-03T00:00:00+00:00'\nend: '2025-02-17T00:00:00+00:00'\n"
    )
    (folder / "metric_definitions.yaml").write_text(
        "conversion_v2:\n  version: 2\n  window_days: 7\n  exposure: assigned_at\n"
        "  filters:\n    - \"event == 'purchase'\"\n    - \"schema_version == 5\"\n"
    )
    (folder / "event_schemas.yaml").write_text("page_view: 3\npurchase: 5\n")
    (folder / "analysis_plan.yaml").write_text("primary_metric: conversion_v2\nalpha: 0.05\n")

    ids = np.array([f"u{i:07d}" for i in rng.permutation(n_units) + 1_000_000], dtype=object)
    offsets = rng.integers(0, 14 * 86400, n_units)
    assigned = start + offsets.astype("timedelta64[s]")
    stamps = np.char.add(np.datetime_as_string(assigned, unit="s"), "Z")
    variant = np.where(rng.random(n_units) < 0.5, "control", "treatment")
    twice = rng.random(n_units) < 0.003  # assigned again, to the other variant
    other = np.where(variant == "control", "treatment", "control")
    with open(folder / "assignments.csv", "w", encoding="utf-8") as fh:
        fh.write("user_id,experiment_id,variant,assigned_at\n")
        fh.writelines(f"{u},{EXP_ID},{v},{t}\n" for u, v, t in zip(ids, variant, stamps))
        fh.writelines(f"{u},{EXP_ID},{v},{t}\n" for u, v, t in zip(ids[twice], other[twice], stamps[twice]))

    who = rng.integers(0, n_units, n_events)
    stranger = rng.random(n_events) < 0.01
    delay = rng.integers(-86400, 9 * 86400, n_events)  # some before exposure, some after the window
    when = assigned[who] + delay.astype("timedelta64[s]")
    when_text = np.char.add(np.datetime_as_string(when, unit="s"), "Z")
    purchase = rng.random(n_events) < 0.45
    schema = np.where(purchase, np.where(rng.random(n_events) < 0.01, "4", "5"), "3")
    users = np.where(stranger, "x9999999", ids[who])
    order = np.argsort(when, kind="stable")
    with open(folder / "events.csv", "w", encoding="utf-8") as fh:
        fh.write("user_id,event,event_time,schema_version,value\n")
        fh.writelines(
            f"{users[i]},{'purchase' if purchase[i] else 'page_view'},{when_text[i]},{schema[i]},"
            f"{'42.50' if purchase[i] else ''}\n"
            for i in order
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write (or reuse) the kit here instead of a temp folder")
    parser.add_argument("--repeat", type=int, default=1, help="time each mode this many times (best is shown)")
    args = parser.parse_args()

    import scipy.stats  # noqa: F401 - imported up front so the timings are the replay's own

    from runsift.core.abreplay import replay
    from runsift.core.readers.abtest import read_abtest
    from runsift.core.safeio import ReadContext

    tmp = None
    if args.keep:
        root = args.keep
    else:
        tmp = tempfile.mkdtemp(prefix="bench-abreplay-")
        root = Path(tmp)
    kit = root / "kit"
    try:
        print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if not (kit / "events.csv").exists():
            t = time.perf_counter()
            write_kit(kit, args.units, args.events)
            print(f"wrote the kit in {time.perf_counter() - t:.1f} s")
        sizes = sum((kit / n).stat().st_size for n in ("assignments.csv", "events.csv"))
        print(f"kit: {kit} ({sizes / 2**20:.0f} MiB of logs)")
        ab = read_abtest(kit, ReadContext(root), id="kit", project="bench", name="kit")
        print(f"assignment rows {ab.assignment_rows:,}, event rows {ab.events_rows:,}")
        print()
        print("| mode | wall s | CPU s (this + workers) | target | control units / conv | treatment units / conv | p |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for label, workers in (("workers=1", 1), ("workers=2", 2), ("auto", None)):
            best = None
            for _ in range(args.repeat):
                c0 = resource.getrusage(resource.RUSAGE_SELF)
                k0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                w0 = time.perf_counter()
                r = replay(root, ab, workers=workers)
                wall = time.perf_counter() - w0
                c1 = resource.getrusage(resource.RUSAGE_SELF)
                k1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime) + (
                    k1.ru_utime + k1.ru_stime - k0.ru_utime - k0.ru_stime
                )
                if best is None or wall < best[0]:
                    best = (wall, cpu, r)
            assert best is not None
            wall, cpu, r = best
            c, t = r.variant("control"), r.variant("treatment")
            assert c is not None and t is not None
            print(
                f"| {label} | {wall:.2f} | {cpu:.2f} | {TARGET_S:.0f} | {c.units:,} / {c.conversions:,} | "
                f"{t.units:,} / {t.conversions:,} | {r.p_value:.3g} |"
            )
        d = r.diagnostics
        print()
        print(f"diagnostics: {d.multi_variant_units:,} multi-variant units, {d.events_before_exposure:,} before exposure, "
              f"{d.events_outside_window:,} outside the window, {d.events_other_schema:,} other schema, "
              f"{d.events_unassigned:,} unassigned")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process: {peak:.0f} MiB")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmark runsift's catalog on synthetic corpora of run containers (see README.md here).

For each corpus size N: generate a corpus with gen_corpus.py (or reuse one under --keep),
then measure, every measurement in a fresh subprocess:

  cold         Catalog.open() with an empty cache dir (walk + read every record + write SQLite)
  warm         Catalog.open() again, nothing changed (walk + fingerprint compare)
  incremental  Catalog.open() after touching metrics.json of 1% of the runs
  ls json      `runsift ls ROOT --format json --cache-dir DIR`, wall time of the CLI process
  diff         cat.get(a) + cat.get(b) + diff_runs(a, b, root=...) for two runs of one project
  floor        the issue's yardstick, right before and right after the cold index: a plain
               single-thread script that walks the corpus, reads and parses every file once
               (bench_floor.py's parse(): PyYAML's C loader, json) and does nothing else

Peak memory: each child reports resource.getrusage(RUSAGE_SELF).ru_maxrss and
RUSAGE_CHILDREN.ru_maxrss (the largest pool worker); the parent also samples the summed RSS
of the child's whole process tree (main + pool workers at the same instant) every 20 ms.
The "peak MB" column is the largest of these over all phases of that N.

    python benchmarks/bench_catalog.py                      # 1k and 10k runs, temporary corpora
    python benchmarks/bench_catalog.py --runs 1000 10000 --big 100000 --keep /tmp/rsbench

No asserts: it prints figures (and the targets next to them) and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOUCH_FRACTION = 0.01
SAMPLE_EVERY = 0.02
PAGE = os.sysconf("SC_PAGE_SIZE")

TARGETS = [
    # (label, N, phase key, limit, unit)
    ("cold index", 10_000, "cold", 8.0, "s"),
    ("warm open", 10_000, "warm", 1.0, "s"),
    ("ls json", 10_000, "ls", 2.0, "s"),
    ("peak memory", 10_000, "peak", 500.0, "MB"),
    ("warm open", 100_000, "warm", 2.0, "s"),
]


# -- child side (runs in a fresh interpreter) ---------------------------------------------


def _rusage_mb() -> dict[str, float]:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self_mb": round(own, 1), "children_mb": round(kids, 1)}


def child(args: argparse.Namespace) -> int:
    t_import = time.perf_counter()
    from dataclasses import asdict

    from runsift.core.catalog import Catalog

    out: dict = {"import_s": time.perf_counter() - t_import}
    if args.child == "floor":
        sys.path.insert(0, str(HERE))
        from bench_floor import parse

        t0 = time.perf_counter()
        paths = [os.path.join(folder, name) for folder, _dirs, files in os.walk(args.root)
                 for name in files if not name.startswith(".") and not folder.endswith("artifacts")]
        t1 = time.perf_counter()
        for path in paths:
            parse(path)
        out["seconds"] = time.perf_counter() - t0
        out["walk_s"] = t1 - t0
        out["files"] = len(paths)
    elif args.child == "open":
        t0 = time.perf_counter()
        cat = Catalog.open(args.root, cache_dir=args.cache_dir, workers=args.workers)
        out["seconds"] = time.perf_counter() - t0
        out["refresh"] = asdict(cat.last_refresh)
        out["records"] = cat.count()
        cat.close()
    elif args.child == "diff":
        from runsift.core.diff import diff_runs

        cat = Catalog.open(args.root, cache_dir=args.cache_dir, refresh=False)
        a, b = _pick_pair(cat.ids(kind="run"))
        t0 = time.perf_counter()
        ra = cat.get(a)
        rb = cat.get(b)
        t1 = time.perf_counter()
        result = diff_runs(ra, rb, root=cat.root)
        out["seconds"] = time.perf_counter() - t0
        out["get_s"] = t1 - t0
        out["pair"] = [a, b]
        out["changes"] = {s: len(result.changes(s)) for s in result.sections}
        cat.close()
    else:
        raise SystemExit(f"unknown child phase {args.child}")
    out.update(_rusage_mb())
    print(json.dumps(out))
    return 0


def _pick_pair(ids: list[str]) -> tuple[str, str]:
    """Two neighbouring runs of one project, from the middle of the catalog (deterministic)."""
    mid = len(ids) // 2
    for i in range(mid, len(ids) - 1):
        if ids[i].split("/")[0] == ids[i + 1].split("/")[0]:
            return ids[i], ids[i + 1]
    return ids[0], ids[-1]


# -- parent side ----------------------------------------------------------------------------


def _descendants(pid: int) -> list[int]:
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
            except OSError:
                pass
    return out


def _tree_rss_mb(pid: int) -> float:
    total = 0
    for p in _descendants(pid):
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            pass
    return total / 2**20


def run_measured(cmd: list[str], stdout=subprocess.PIPE) -> dict:
    """Run ``cmd``; return wall time, its rusage peak (wait4), the sampled tree RSS peak, its stdout."""
    load1 = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
    peak = 0.0
    # Sample until the child exits; wait4 must reap it so we get its rusage.
    chunks: list[bytes] = []
    import threading

    def drain(stream, into):
        for block in iter(lambda: stream.read(65536), b""):
            into.append(block)

    readers = []
    err_chunks: list[bytes] = []
    if proc.stdout is not None:
        readers.append(threading.Thread(target=drain, args=(proc.stdout, chunks), daemon=True))
    readers.append(threading.Thread(target=drain, args=(proc.stderr, err_chunks), daemon=True))
    for r in readers:
        r.start()
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        peak = max(peak, _tree_rss_mb(proc.pid))
        time.sleep(SAMPLE_EVERY)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    return {
        "wall_s": wall,
        "rc": proc.returncode,
        "wait4_maxrss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "load1": load1,
        "tree_peak_mb": round(peak, 1),
        "stdout": b"".join(chunks).decode(errors="replace"),
        "stderr": b"".join(err_chunks).decode(errors="replace"),
    }


def run_child(phase: str, root: Path, cache_dir: Path, workers: int | None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", phase, "--root", str(root), "--cache-dir", str(cache_dir)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    m = run_measured(cmd)
    if m["rc"] != 0:
        raise RuntimeError(f"child {phase} failed ({m['rc']}):\n{m['stderr'][-3000:]}")
    result = json.loads(m["stdout"].strip().splitlines()[-1])
    result.update({k: m[k] for k in ("wall_s", "wait4_maxrss_mb", "tree_peak_mb", "cpu_s", "load1")})
    result["peak_mb"] = max(result["self_mb"], result["children_mb"], result["tree_peak_mb"])
    return result


def runsift_cmd() -> list[str]:
    script = Path(sys.executable).parent / "runsift"
    return [str(script)] if script.exists() else [sys.executable, "-m", "runsift"]


def run_ls(root: Path, cache_dir: Path) -> dict:
    with open(os.devnull, "wb") as null:
        m = run_measured([*runsift_cmd(), "ls", str(root), "--format", "json", "--cache-dir", str(cache_dir)], stdout=null)
    if m["rc"] != 0:
        raise RuntimeError(f"runsift ls failed ({m['rc']}):\n{m['stderr'][-3000:]}")
    return {"seconds": m["wall_s"], "peak_mb": max(m["wait4_maxrss_mb"], m["tree_peak_mb"]), **m, "stdout": None}


def run_dirs(root: Path) -> list[Path]:
    return sorted(r for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") for r in p.iterdir() if r.is_dir())


def touch_runs(root: Path, fraction: float) -> int:
    """Bump the mtime of metrics.json in every (1/fraction)-th run; return how many runs were touched."""
    runs = run_dirs(root)
    step = max(1, round(1 / fraction))
    now = time.time_ns()
    n = 0
    for i, run in enumerate(runs[::step]):
        target = run / "metrics.json"
        if target.exists():
            os.utime(target, ns=(now + i, now + i))
            n += 1
    return n


def ensure_corpus(n: int, base: Path, seed: int) -> tuple[Path, float | None]:
    """The corpus of n runs under base (reused when its marker matches); generation time or None."""
    sys.path.insert(0, str(HERE))
    import gen_corpus

    out = base / f"runs-{n}"
    marker = out / gen_corpus.MARKER
    if marker.exists():
        info = json.loads(marker.read_text())
        if info.get("runs") == n and info.get("seed") == seed:
            print(f"[N={n:,}] reusing corpus {out} ({info['files']:,} files, {info['bytes'] / 1e6:.0f} MB)", flush=True)
            return out, None
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    print(f"[N={n:,}] generating corpus in {out} ...", flush=True)
    t0 = time.perf_counter()
    files, size = gen_corpus.generate(str(out), n, seed)
    dt = time.perf_counter() - t0
    print(f"[N={n:,}] generated {files:,} files, {size / 1e6:.0f} MB in {dt:.1f} s; syncing ...", flush=True)
    os.sync()  # let writeback finish so it does not run during the measurements
    time.sleep(2)
    return out, dt


def bench_one(n: int, corpus_base: Path, cache_base: Path, args: argparse.Namespace) -> dict:
    root, gen_s = ensure_corpus(n, corpus_base, args.seed)
    cache_dir = cache_base / f"cache-{n}"
    if cache_dir.exists():
        shutil.rmtree(cache_dir)
    cache_dir.mkdir(parents=True)
    res: dict = {"n": n, "root": str(root), "generate_s": gen_s, "phases": {}}
    ph = res["phases"]

    def log(name: str, r: dict) -> None:
        extra = f" refresh={r['refresh']}" if "refresh" in r else ""
        print(f"[N={n:,}] {name:<12} {r['seconds']:8.3f} s  cpu {r['cpu_s']:7.2f} s  peak {r['peak_mb']:7.1f} MB  "
              f"load {r['load1']:.1f}{extra}", flush=True)

    ph["floor"] = [run_child("floor", root, cache_dir, None)]
    log("floor", ph["floor"][0])
    ph["cold"] = [run_child("open", root, cache_dir, args.workers)]
    log("cold", ph["cold"][0])
    ph["floor"].append(run_child("floor", root, cache_dir, None))
    log("floor", ph["floor"][1])
    ph["warm"] = []
    for _ in range(args.repeat):
        ph["warm"].append(run_child("open", root, cache_dir, args.workers))
        log("warm", ph["warm"][-1])
    touched = touch_runs(root, TOUCH_FRACTION)
    ph["incremental"] = [run_child("open", root, cache_dir, args.workers)]
    ph["incremental"][0]["touched"] = touched
    log("incremental", ph["incremental"][0])
    ph["ls"] = []
    for _ in range(args.repeat):
        ph["ls"].append(run_ls(root, cache_dir))
        log("ls json", ph["ls"][-1])
    ph["diff"] = []
    for _ in range(args.repeat):
        ph["diff"].append(run_child("diff", root, cache_dir, args.workers))
        log("diff", ph["diff"][-1])
    res["summary"] = {k: statistics.median(r["seconds"] for r in v) for k, v in ph.items()}
    res["summary"]["peak"] = max(r["peak_mb"] for k, v in ph.items() if k != "floor" for r in v)  # runsift's own
    res["cache_mb"] = sum(f.stat().st_size for f in cache_dir.iterdir()) / 1e6
    return res


# -- report ----------------------------------------------------------------------------------


def _f(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def code_version() -> str:
    """Commit of the runsift checkout being measured, with '+dirty' when its tracked files differ."""
    from runsift.core import catalog

    repo = Path(catalog.__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, check=False).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def report(results: list[dict], args: argparse.Namespace) -> None:
    print()
    print(f"runsift catalog benchmark — runsift {code_version()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"{platform.system()} {platform.release()}, median of {args.repeat} for warm/ls/diff")
    print()
    print("| N | cold index s | floor s (before, after) | cold / floor | warm open s | incremental s | ls json s | diff s | peak MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        s = r["summary"]
        floors = [x["seconds"] for x in r["phases"]["floor"]]
        ratio = s["cold"] / statistics.mean(floors)
        print(f"| {r['n']:,} | {_f(s['cold'])} | {_f(floors[0])}, {_f(floors[1])} | {ratio:.2f}x | {_f(s['warm'], 3)} "
              f"| {_f(s['incremental'], 3)} | {_f(s['ls'], 3)} | {_f(s['diff'], 3)} | {_f(s['peak'], 0)} |")
    print()
    print("floor = one process, one thread: walk the corpus, read and parse each file once (bench_floor.py), nothing")
    print("else; cold / floor uses the mean of the two floors. Target: cold / floor <= 1 (two cores should beat one).")
    print()
    print("Details (cpu s = user+sys of the process and its pool; load = 1-min load average before the phase;")
    print("peak MB = max of own ru_maxrss, largest worker ru_maxrss, sampled RSS sum of the process tree):")
    print()
    print("| N | phase | s (median) | cpu s | own MB | worker MB | tree MB | load | notes |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        for name, runs in r["phases"].items():
            last = runs[-1]
            own = last.get("self_mb", last.get("wait4_maxrss_mb"))
            notes = []
            if "refresh" in last:
                rf = last["refresh"]
                notes.append(f"added {rf['added']}, changed {rf['changed']}, unchanged {rf['unchanged']}")
            if "touched" in last:
                notes.append(f"touched {last['touched']}")
            if name == "diff":
                notes.append(f"get×2 {last['get_s'] * 1000:.0f} ms; changes {sum(last['changes'].values())}")
            if name == "floor":
                notes.append(f"{last['files']:,} files; walk {last['walk_s']:.2f} s; each: "
                             + ", ".join(f"{x['seconds']:.2f} s" for x in runs))
            if name == "ls":
                notes.append("CLI wall incl. interpreter start-up")
            cpu = statistics.median(x["cpu_s"] for x in runs)
            load = max(x["load1"] for x in runs)
            print(f"| {r['n']:,} | {name} | {_f(r['summary'][name], 3)} | {_f(cpu)} | {_f(own, 0)} "
                  f"| {_f(last.get('children_mb'), 0)} | {_f(last.get('tree_peak_mb'), 0)} | {load:.1f} | {'; '.join(notes)} |")
    for r in results:
        gen = f"generated in {r['generate_s']:.0f} s" if r["generate_s"] is not None else "reused"
        print(f"\nN={r['n']:,}: corpus {r['root']} ({gen}); cache {r['cache_mb']:.0f} MB")
    print()
    print("Targets (for comparison only):")
    print()
    print("| target | N | limit | measured |")
    print("|---|---:|---:|---:|")
    by_n = {r["n"]: r["summary"] for r in results}
    for label, n, key, limit, unit in TARGETS:
        got = by_n.get(n, {}).get(key)
        shown = "not run" if got is None else (f"{got:.0f} {unit}" if unit == "MB" else f"{got:.2f} {unit}")
        print(f"| {label} | {n:,} | < {limit:g} {unit} | {shown} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, nargs="*", default=[1000, 10000],
                    help="corpus sizes (default: 1000 10000; give --runs with no value to run only --big)")
    ap.add_argument("--big", type=int, default=None, help="also run this size (e.g. 100000); generated once, reuse with --keep")
    ap.add_argument("--keep", type=Path, default=None, help="keep corpora in this folder (runs-N/) and reuse them next time")
    ap.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of warm/ls/diff; the median is shown (default 3)")
    ap.add_argument("--workers", type=int, default=None, help="pass workers= to Catalog.open (default: runsift's choice)")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--root", help=argparse.SUPPRESS)
    ap.add_argument("--cache-dir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args)

    sizes = list(args.runs) + ([args.big] if args.big else [])
    corpus_base = args.keep or Path(tempfile.mkdtemp(prefix="runsift-bench-corpus-"))
    corpus_base.mkdir(parents=True, exist_ok=True)
    cache_base = Path(tempfile.mkdtemp(prefix="runsift-bench-cache-"))
    results = []
    try:
        for n in sizes:
            results.append(bench_one(n, corpus_base, cache_base, args))
            if args.json:
                args.json.write_text(json.dumps(results, indent=2, default=str))
    finally:
        shutil.rmtree(cache_base, ignore_errors=True)
        if args.keep is None:
            shutil.rmtree(corpus_base, ignore_errors=True)
    report(results, args)
    print(f"\ncommand: {' '.join([Path(sys.executable).name, *sys.argv])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""MLflow's own ``mlflow.search_runs`` against ``runsift ls --format json`` on one MLflow file store.

    python benchmarks/bench_mlflow.py --runs 10000 --mlflow-python /tmp/fixvenv-mlflow/bin/python \\
        [--out /tmp/mlflow-bench] [--repeat 3] [--keep]

Writes ``OUT/runs-N/mlruns/``: N finished runs over 8 experiments, byte for byte as MLflow 3's file
store writes them (``meta.yaml``, 12 params of which 4 dotted, 4 metrics x 20 steps, 6 tags per run:
23 files), unless ``--keep`` finds one already there. MLflow is a benchmark-only dependency: it runs
from the separate venv of ``--mlflow-python`` (``pip install mlflow`` there), never from runsift's.

Every timing is a whole process, start to exit, as a user would wait for it:

* ``mlflow``: ``import mlflow``, ``mlflow.search_runs(search_all_experiments=True)`` over the store;
* ``runsift cold``: ``runsift ls ROOT --format json`` with an empty cache (indexes every run);
* ``runsift warm``: the same again with the cache it left.

The store's files are read once before any timing, so every process finds them in the page cache.
Each is repeated ``--repeat`` times (a fresh cache for every cold one); the median is printed with
the issue's targets beside it (warm runsift >= 20x faster than MLflow, cold runsift faster than
MLflow). Nothing asserts: the figures are printed, the row counts checked.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

EXPERIMENTS = ("fraud-model", "churn-predictor", "nlp-intent", "ranker", "vision-cls", "forecast", "ads-ctr", "speech")
METRICS = ("train_loss", "val_loss", "val_auc", "val_f1")
STEPS = 20
T0 = 1_767_225_600_000  # 2026-01-01, in ms

SEARCH = """
import os, sys, time
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
import mlflow
mlflow.set_tracking_uri(sys.argv[1])
runs = mlflow.search_runs(search_all_experiments=True, max_results=1_000_000)
print(len(runs))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--mlflow-python", required=True, help="python of a venv that has mlflow (never runsift's own)")
    ap.add_argument("--out", default="/tmp/mlflow-bench")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="reuse a store already written for this --runs")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    root = Path(args.out) / f"runs-{args.runs}"
    store = root / "mlruns"
    marker = root / ".store.json"
    if not (args.keep and marker.exists()):
        if root.exists():
            shutil.rmtree(root)
        t = time.perf_counter()
        files = write_store(store, args.runs, args.seed)
        marker.write_text(json.dumps({"runs": args.runs, "files": files}))
        print(f"wrote {args.runs:,} runs ({files:,} files) in {time.perf_counter() - t:.0f} s to {store}", file=sys.stderr)
    version = subprocess.run([args.mlflow_python, "-c", "import mlflow; print(mlflow.__version__)"], capture_output=True, text=True, check=True).stdout.strip()
    read_everything(store)

    caches = Path(tempfile.mkdtemp(prefix="bench-mlflow-cache-"))
    try:
        mlflow_s = [timed([args.mlflow_python, "-c", SEARCH, store.resolve().as_uri()], expect=args.runs) for _ in range(args.repeat)]
        cold, warm = [], []
        for i in range(args.repeat):
            cache = caches / f"c{i}"
            cold.append(timed(runsift_ls(root, cache), expect=args.runs, json_rows=True))
            warm.append(timed(runsift_ls(root, cache), expect=args.runs, json_rows=True))
    finally:
        shutil.rmtree(caches, ignore_errors=True)

    m, c, w = statistics.median(mlflow_s), statistics.median(cold), statistics.median(warm)
    print(f"\nMLflow {version} file store, {args.runs:,} runs, {os.cpu_count()} CPUs; median of {args.repeat} whole processes\n")
    print("| | seconds | runs | vs mlflow.search_runs | target |")
    print("|---|---|---|---|---|")
    print(f"| `mlflow.search_runs` | {m:.2f} | {args.runs:,} | 1x | |")
    print(f"| `runsift ls --format json`, cold | {c:.2f} | {args.runs:,} | {m / c:.1f}x faster | faster |")
    print(f"| `runsift ls --format json`, warm | {w:.2f} | {args.runs:,} | {m / w:.1f}x faster | >= 20x faster |")
    print(f"\nall repetitions: mlflow {fmt(mlflow_s)}; cold {fmt(cold)}; warm {fmt(warm)}")


def fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def runsift_ls(root: Path, cache: Path) -> list[str]:
    return [sys.executable, "-m", "runsift", "ls", str(root), "--format", "json", "--cache-dir", str(cache), "-q"]


def timed(cmd: list[str], *, expect: int, json_rows: bool = False) -> float:
    """Wall time of one whole process; its output must count ``expect`` runs."""
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{out.stderr[-2000:]}")
    count = len(json.loads(out.stdout)) if json_rows else int(out.stdout.strip().splitlines()[-1])
    if count != expect:
        raise SystemExit(f"{' '.join(cmd[:4])}: {count} runs, expected {expect}")
    return elapsed


def read_everything(store: Path) -> None:
    """Read every file once, so that no timed process pays for the first read from disk."""
    for folder, _dirs, files in os.walk(store):
        for name in files:
            with open(os.path.join(folder, name), "rb") as f:
                f.read()


# -- the store, as MLflow 3's file store writes it ------------------------------------


def write_store(store: Path, runs: int, seed: int) -> int:
    rng = random.Random(seed)
    store.mkdir(parents=True)
    (store / ".trash").mkdir()
    files = 0
    exp_ids = ["0"] + [str(rng.randrange(10**17, 10**18)) for _ in EXPERIMENTS]
    for exp_id, name in zip(exp_ids, ("Default", *EXPERIMENTS), strict=True):
        folder = store / exp_id
        folder.mkdir()
        write(folder / "meta.yaml", experiment_meta(store, exp_id, name))
        files += 1
    weights = [rng.random() + 0.2 for _ in EXPERIMENTS]
    for i in range(runs):
        exp_id = rng.choices(exp_ids[1:], weights)[0]
        files += write_run(store, exp_id, i, rng)
    return files


def experiment_meta(store: Path, exp_id: str, name: str) -> str:
    return (
        f"artifact_location: {(store / exp_id).resolve().as_uri()}\n"
        f"creation_time: {T0}\n"
        "effective_trace_archival_retention: null\n"
        f"experiment_id: '{exp_id}'\n"
        f"last_update_time: {T0}\n"
        "lifecycle_stage: active\n"
        f"name: {name}\n"
        "trace_location: null\n"
        "workspace: default\n"
    )


def write_run(store: Path, exp_id: str, i: int, rng: random.Random) -> int:
    run_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
    folder = store / exp_id / run_id
    for sub in ("metrics", "params", "tags", "artifacts"):
        (folder / sub).mkdir(parents=True)
    start = T0 + i * 60_000 + rng.randrange(1000)
    end = start + rng.randrange(60_000, 3_600_000)
    name = f"run-{i:05d}"
    write(
        folder / "meta.yaml",
        f"artifact_uri: {(folder / 'artifacts').resolve().as_uri()}\n"
        f"end_time: {end}\n"
        "entry_point_name: ''\n"
        f"experiment_id: '{exp_id}'\n"
        "lifecycle_stage: active\n"
        f"run_id: {run_id}\n"
        f"run_name: {name}\n"
        "source_name: ''\n"
        "source_type: 4\n"
        "source_version: ''\n"
        f"start_time: {start}\n"
        "status: 3\n"
        "tags: []\n"
        "user_id: bench\n",
    )
    params = {
        "optimizer.name": rng.choice(["adam", "sgd", "adamw"]),
        "optimizer.lr": rng.choice(["0.001", "0.0003", "0.01", "3e-4"]),
        "optimizer.weight_decay": rng.choice(["0.0", "0.01"]),
        "model.hidden": str(rng.choice([64, 128, 256])),
        "batch_size": str(rng.choice([32, 64, 128])),
        "epochs": str(STEPS),
        "seed": str(rng.randrange(10)),
        "dropout": str(rng.choice([0.0, 0.1, 0.2])),
        "scheduler": rng.choice(["cosine", "step", "None"]),
        "features": "['amount', 'merchant', 'hour', 'country']",
        "data_version": f"v{rng.randrange(20, 25)}",
        "early_stopping": rng.choice(["True", "False"]),
    }
    for key, value in params.items():
        write(folder / "params" / key, value)
    for metric in METRICS:
        base = rng.random()
        lines = [f"{start + step * 1000} {base + step * 0.01 + rng.random() * 0.01} {step}\n" for step in range(1, STEPS + 1)]
        write(folder / "metrics" / metric, "".join(lines))
    tags = {
        "mlflow.runName": name,
        "mlflow.user": "bench",
        "mlflow.source.name": "train.py",
        "mlflow.source.type": "LOCAL",
        "mlflow.source.git.commit": f"{rng.getrandbits(160):040x}",
        "team": "ml",
    }
    for key, value in tags.items():
        write(folder / "tags" / key, value)
    return 1 + len(params) + len(METRICS) + len(tags)


def write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()

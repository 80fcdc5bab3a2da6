"""W&B's own reader of offline runs against ``runsift ls --format json`` on one folder of W&B runs.

    python benchmarks/bench_wandb.py --runs 1000 --wandb-python /tmp/fixvenv-wbbench/bin/python \\
        [--out /tmp/wandb-bench] [--repeat 3] [--jobs 2] [--keep]

wandb is a benchmark-only dependency: it runs from the separate venv of ``--wandb-python``
(``pip install wandb`` there), never from runsift's.

The corpus: ``OUT/runs-N/<project>/wandb/offline-run-<time>-<id>/``, N runs over 8 projects, every
one written by wandb itself (``WANDB_MODE=offline``, no network), one ``python`` process per
project that calls ``wandb.init`` ... ``run.finish`` once per run. wandb starts its service
process once per Python process and keeps it for the runs that follow, so each further run costs
~0.1 s, and no run is a copy of another: ids, folder names, start times and every byte of the
``.wandb`` logs are wandb's own. Each run has a config of 38 keys (14 at the top, nested:
model, optimizer, scheduler, early stopping, loss, data, a 12-24 item feature list, augmentation,
eval), tags, notes, a group and job type, 30 epochs of ``wandb.log`` with 4 metrics and the epoch (and a console line
per epoch), a ``best_val_auc`` summary and an exit record. About 3% fail: a ``RuntimeError``
raised inside ``with wandb.init(...)`` at a random epoch, so wandb records exit code 1 and the
traceback on standard error. No run is left unfinished. The project folders sit in a scratch
git repository (``OUT/runs-N`` itself, its ``.git`` and ``.gitignore`` are dot names that no
reader walks into), so wandb records a commit as it would in a real project.

Every timing is a whole process, start to exit, as a user would wait for it:

* ``wandb sync --dry-run ROOT/*/wandb`` (reference only): wandb 0.31's ``sync`` (wandb-core's
  ``beta_sync``) with ``--dry-run`` only globs for ``run-*.wandb`` files, prints "Would sync N
  run(s)" and exits; it reads no record, so it is not a reader and is shown only for scale;
* ``wandb-core leet inspect --summary --json``: W&B's own reader of a transaction log, in the
  version installed (wandb-core, the Go binary inside the wandb wheel, which ``wandb leet
  inspect`` runs). It reads every record of one run and gives its state, exit code, config,
  summary (the latest value of every metric) and console tail. It takes one run per call, so a
  small Python driver (from ``--wandb-python``) finds every ``run-*.wandb`` under the root the
  way ``wandb sync`` does and runs it once per run, ``--jobs`` at a time (default: the CPU
  count, as runsift's cold index uses every CPU), parsing each answer. The driver locates the
  binary without importing wandb; going through the ``wandb leet inspect`` CLI instead would add
  a Python start and ``import wandb`` per run (printed below the table, measured on a sample);
* ``wandb_internal_pb2`` scan: one Python process that reads every log with wandb's own
  generated protobuf classes (``wandb.proto.wandb_internal_pb2.Record``) and collects each run's
  config, summary, exit code and whole history. wandb 0.31 ships no Python reader of the
  framing (0.16's ``wandb.sdk.internal.datastore.DataStore`` is not in it), so the script
  unframes the log itself as ``DataStore.scan_data`` did (7-byte header, 32 KiB blocks, chunk
  CRC32 checked). This is the in-process floor of a Python reader;
* ``runsift cold``: ``runsift ls ROOT --format json --cache-dir DIR`` on an empty cache dir;
* ``runsift warm``: the same again with the cache it left.

The corpus's files are read once before any timing, so every process finds them in the page
cache. Each command is repeated ``--repeat`` times (a fresh cache for every cold one); the median
is printed with the min-max. Nothing asserts: the figures are printed, the run counts checked,
and the first answers of runsift and of wandb-core are compared run by run (project, name,
status, final metric values); any difference is printed. Then, untimed, a full check: the pb2
scan writes every run's records, and each run as runsift reads it (``Catalog.get``, in this
process) is compared with them: config, the four series point by point (at wandb's own step),
run id, tags, notes, group, start, exit code, commit, seed, the failed runs' traceback, and that
runsift reports no problem.
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
from pathlib import Path

PROJECTS = ("fraud-model", "churn-predictor", "nlp-intent", "ranker", "vision-cls", "forecast", "ads-ctr", "speech")
FAIL_RATE = 0.03
EPOCHS = 30

WANDB_ENV = {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_ERROR_REPORTING": "false", "WANDB_CONSOLE": "auto"}

# -- scripts run with --wandb-python ------------------------------------------------------

GENERATE = r'''
import json, math, random, sys
import wandb

spec = json.loads(sys.argv[1])
EPOCHS = spec["epochs"]


def config(rng, i):
    feats = ["amount", "merchant", "hour", "country", "device", "channel", "age", "tenure", "balance",
             "velocity_1h", "velocity_24h", "mcc", "ip_risk", "email_age", "card_age", "weekday",
             "distance", "prev_declines", "basket", "currency", "os", "browser", "promo", "segment"]
    return {
        "model": {"name": rng.choice(["mlp", "gbdt", "resnet18", "bert-small"]), "hidden": rng.choice([64, 128, 256, 512]),
                  "layers": rng.randint(2, 6), "dropout": rng.choice([0.0, 0.1, 0.2, 0.3]), "activation": rng.choice(["relu", "gelu"])},
        "optimizer": {"name": rng.choice(["adam", "adamw", "sgd"]), "lr": rng.choice([1e-4, 3e-4, 1e-3, 3e-3]),
                      "weight_decay": rng.choice([0.0, 0.01, 0.05]), "betas": [0.9, 0.999], "eps": 1e-8},
        "scheduler": {"name": rng.choice(["cosine", "step", "none"]), "warmup_steps": rng.choice([0, 100, 500]), "min_lr": 1e-6},
        "early_stopping": {"patience": rng.choice([3, 5, 10]), "metric": "val/auc", "mode": "max"},
        "loss": {"name": rng.choice(["bce", "focal"]), "label_smoothing": rng.choice([0.0, 0.05, 0.1]), "pos_weight": rng.choice([1.0, 2.0, 5.0])},
        "data": {"name": spec["project"], "version": f"v{rng.randint(20, 24)}", "path": f"/data/{spec['project']}/v{rng.randint(20, 24)}.parquet",
                 "rows": rng.randrange(100_000, 2_000_000), "val_fraction": 0.1, "split_seed": 42, "num_workers": rng.choice([2, 4, 8])},
        "features": rng.sample(feats, rng.randint(12, 24)),
        "augmentation": {"enabled": rng.random() < 0.5, "mixup": rng.choice([0.0, 0.2]), "noise_std": rng.choice([0.0, 0.01])},
        "eval": {"batch_size": 1024, "threshold": 0.5, "every_n_epochs": 1},
        "epochs": EPOCHS,
        "batch_size": rng.choice([64, 128, 256, 512]),
        "seed": rng.randrange(10),
        "precision": rng.choice(["fp32", "bf16"]),
        "grad_clip": rng.choice([None, 1.0]),
    }


for i in spec["runs"]:
    rng = random.Random(spec["seed"] * 1_000_003 + i)
    fail_at = rng.randint(3, EPOCHS - 2) if rng.random() < spec["fail_rate"] else None
    cfg = config(rng, i)
    try:
        with wandb.init(project=spec["project"], dir=spec["dir"], name=f"run-{i:05d}", config=cfg, job_type="train",
                        group=f"sweep-{rng.randrange(12)}", tags=[cfg["model"]["name"], cfg["data"]["version"]],
                        notes=f"{cfg['model']['name']} with {cfg['optimizer']['name']} lr={cfg['optimizer']['lr']}") as run:
            base, speed, best = rng.uniform(0.55, 0.7), rng.uniform(0.05, 0.2), 0.0
            for epoch in range(1, EPOCHS + 1):
                progress = 1 - math.exp(-speed * epoch)
                auc = base + 0.3 * progress + rng.gauss(0, 0.005)
                train_loss = 0.7 - 0.5 * progress + rng.gauss(0, 0.01)
                val_loss = train_loss + 0.05 + rng.gauss(0, 0.01)
                best = max(best, auc)
                run.log({"epoch": epoch, "train/loss": train_loss, "val/loss": val_loss, "val/auc": auc, "val/f1": auc - 0.1 + rng.gauss(0, 0.01)})
                print(f"epoch {epoch:02d} train_loss={train_loss:.4f} val_loss={val_loss:.4f} val_auc={auc:.4f}", flush=True)
                if epoch == fail_at:
                    raise RuntimeError(f"loss became NaN at epoch {epoch}")
            run.summary["best_val_auc"] = best
    except RuntimeError:
        pass
'''

# W&B's own reader, wandb-core's ``leet inspect``, once per run; the driver finds the logs like ``wandb sync``.
LEET = r'''
import glob, importlib.util, json, os, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

root, jobs = sys.argv[1], int(sys.argv[2])
core = os.path.join(importlib.util.find_spec("wandb").submodule_search_locations[0], "bin", "wandb-core")
logs = sorted(glob.glob(os.path.join(glob.escape(root), "*", "wandb", "*run-*", "run-*.wandb")))


def inspect(log):
    run_dir = os.path.dirname(log)
    out = subprocess.run([core, "leet", "inspect", "--no-observability", "--summary", "--json", "--run-file", log, os.path.dirname(run_dir)],
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"wandb-core leet inspect {log}: {out.stderr[-500:]}")
    doc = json.loads(out.stdout)
    return os.path.relpath(run_dir, root), {
        "project": doc.get("project"), "name": doc.get("name"), "state": doc.get("state"), "exit_code": doc.get("exit_code"),
        "config_keys": len(doc.get("config") or {}), "summary": doc.get("summary") or {},
    }


with ThreadPoolExecutor(jobs) as pool:
    runs = dict(pool.map(inspect, logs))
print(json.dumps(runs))
print(len(runs))
'''

# wandb's generated protobuf classes over every log, in one process; the framing as 0.16's DataStore read it.
PB2_SCAN = r'''
import glob, json, os, struct, sys, zlib
from wandb.proto import wandb_internal_pb2 as pb

root = sys.argv[1]
full_out = sys.argv[2] if len(sys.argv) > 2 else None  # also write every run's full records here (the check, not timed)
BLOCK, FULL, FIRST, MIDDLE, LAST = 32768, 1, 2, 3, 4
CRC = [zlib.crc32(bytes([t])) for t in range(5)]
CHUNK = struct.Struct("<IHB")


def records(path):
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:4] != b":W&B" or struct.unpack_from("<HB", data, 4) != (0xBEE1, 0):
        raise SystemExit(f"{path}: not a W&B log")
    pos, end, parts = 7, len(data), []
    while True:
        left = BLOCK - pos % BLOCK
        if left < 7:
            pos += left  # zero padding to the end of the block
            continue
        if pos + 7 > end:
            return
        crc, length, kind = CHUNK.unpack_from(data, pos)
        if kind == 0 and length == 0:
            return  # a block wandb-core never filled
        chunk = data[pos + 7:pos + 7 + length]
        if len(chunk) < length or kind > LAST or zlib.crc32(chunk, CRC[kind]) & 0xFFFFFFFF != crc:
            raise SystemExit(f"{path}: bad chunk at {pos}")
        pos += 7 + length
        if kind == FULL:
            yield chunk
        elif kind == FIRST:
            parts = [chunk]
        elif kind == MIDDLE:
            parts.append(chunk)
        else:
            parts.append(chunk)
            yield b"".join(parts)


def key(item):
    return ".".join(item.nested_key) if len(item.nested_key) else item.key


def value(item):
    return json.loads(item.value_json) if item.value_json else None


def history_value(item):  # wandb-core may type a history value instead of writing JSON
    if item.value_json:
        return json.loads(item.value_json)
    which = item.WhichOneof("value")
    return json.loads(item.json) if which == "json" else (getattr(item, which) if which else None)


runs, full = {}, {}
for log in sorted(glob.glob(os.path.join(glob.escape(root), "*", "wandb", "*run-*", "run-*.wandb"))):
    run = {"project": "", "name": "", "config": {}, "summary": {}, "history": [], "exit_code": None, "stderr": ""}
    for data in records(log):
        rec = pb.Record()
        rec.ParseFromString(data)
        kind = rec.WhichOneof("record_type")
        if kind == "history":
            run["history"].append({**{key(i): history_value(i) for i in rec.history.item}, "__step": rec.history.step.num})
        elif kind == "summary":
            for i in rec.summary.update:
                run["summary"][key(i)] = value(i)
            for i in rec.summary.remove:
                run["summary"].pop(key(i), None)
        elif kind == "config":
            for i in rec.config.update:
                run["config"][key(i)] = value(i)
        elif kind == "run":
            r = rec.run
            run.update(project=r.project, name=r.display_name, run_id=r.run_id, tags=list(r.tags), notes=r.notes, group=r.run_group,
                       start=r.start_time.seconds + r.start_time.nanos / 1e9, commit=r.git.commit)
            for i in rec.run.config.update:
                run["config"][key(i)] = value(i)
        elif kind == "exit":
            run["exit_code"] = rec.exit.exit_code
        elif kind in ("output", "output_raw") and getattr(rec, kind).output_type == 0:  # stderr
            run["stderr"] += getattr(rec, kind).line
    own = lambda k: k == "_wandb" or k.startswith("_wandb.")  # wandb's own entries, which leet leaves out too
    rid = os.path.relpath(os.path.dirname(log), root)
    if full_out:
        full[rid] = {**run, "config": {k: v for k, v in run["config"].items() if not own(k)}}
    runs[rid] = {
        "project": run["project"], "name": run["name"], "exit_code": run["exit_code"],
        "config_keys": sum(1 for k in run["config"] if not own(k)), "history_rows": len(run["history"]),
        "summary": {k: v for k, v in run["summary"].items() if not own(k)},
    }
if full_out:
    with open(full_out, "w") as fh:
        json.dump(full, fh)
print(json.dumps(runs))
print(len(runs))
'''

# One run through the ``wandb leet inspect`` CLI, for the per-run cost a shell loop over it would pay.
CLI_SAMPLE = 10


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1_000)
    ap.add_argument("--wandb-python", required=True, help="python of a venv that has wandb (never runsift's own)")
    ap.add_argument("--out", default="/tmp/wandb-bench")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="wandb-core processes at a time (default: CPU count)")
    ap.add_argument("--keep", action="store_true", help="reuse a corpus already written for this --runs")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    wandb_python = Path(args.wandb_python)
    version = subprocess.run([wandb_python, "-c", "import wandb; print(wandb.__version__)"], capture_output=True, text=True, check=True).stdout.strip()
    root = Path(args.out) / f"runs-{args.runs}"
    marker = root / ".corpus.json"
    if not (args.keep and marker.exists()):
        if root.exists():
            shutil.rmtree(root)
        t = time.perf_counter()
        write_corpus(root, args.runs, args.seed, wandb_python)
        made = {"runs": args.runs, "seed": args.seed, "wandb": version, "seconds": round(time.perf_counter() - t, 1)}
        marker.write_text(json.dumps(made))
    made = json.loads(marker.read_text())
    stats = describe(root)
    if stats["runs"] != args.runs:
        raise SystemExit(f"{root}: {stats['runs']} run logs, expected {args.runs}")
    print(
        f"corpus {root}: {stats['runs']:,} runs written by wandb {made['wandb']} in {made['seconds']:.0f} s "
        f"({stats['files']:,} files, {stats['mb']:.1f} MB; .wandb logs {stats['log_kb_min']:.1f}-{stats['log_kb_max']:.1f} KB, "
        f"{stats['log_mb']:.1f} MB in all; {stats['failed']} failed)",
        file=sys.stderr,
    )
    read_everything(root)

    wandb_dirs = sorted(str(p) for p in root.glob("*/wandb"))
    env = {**os.environ, **WANDB_ENV}
    caches = Path(tempfile.mkdtemp(prefix="bench-wandb-cache-"))
    answers: dict[str, object] = {}
    try:
        sync = [timed([str(wandb_python.with_name("wandb")), "sync", "--dry-run", *wandb_dirs], env=env, count=sync_count, expect=args.runs)
                for _ in range(args.repeat)]
        leet = [timed([str(wandb_python), "-c", LEET, str(root), str(args.jobs)], env=env, count=driver_count, expect=args.runs, keep=answers, tag="leet")
                for _ in range(args.repeat)]
        pb2 = [timed([str(wandb_python), "-c", PB2_SCAN, str(root)], env=env, count=driver_count, expect=args.runs, keep=answers, tag="pb2")
               for _ in range(args.repeat)]
        cold, warm = [], []
        for i in range(args.repeat):
            cache = caches / f"c{i}"
            cold.append(timed(runsift_ls(root, cache), count=json_count, expect=args.runs, keep=answers, tag="runsift"))
            warm.append(timed(runsift_ls(root, cache), count=json_count, expect=args.runs))
        cli = cli_sample(wandb_python, root, env)
        dump = caches / "records.json"
        subprocess.run([str(wandb_python), "-c", PB2_SCAN, str(root), str(dump)], env=env, check=True, stdout=subprocess.DEVNULL)
        full_problems = full_check(root, json.loads(dump.read_text()), caches / "check-cache")
    finally:
        shutil.rmtree(caches, ignore_errors=True)

    base = statistics.median(leet)
    rows = [
        ("`wandb sync --dry-run` (finds the logs, reads no record)", sync, None),
        (f"`wandb-core leet inspect --summary --json`, once per run, {args.jobs} at a time", leet, ""),
        ("`wandb_internal_pb2` scan of every log, one process", pb2, None),
        ("`runsift ls --format json`, cold", cold, "faster"),
        ("`runsift ls --format json`, warm", warm, ">= 20x faster"),
    ]
    print(f"\nwandb {version} offline runs, {args.runs:,} runs in {len(wandb_dirs)} projects, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}; median (min-max) of {args.repeat} whole processes\n")
    print("| | seconds | runs | vs wandb-core's reader | target (as for MLflow) |")
    print("|---|---|---|---|---|")
    for label, values, target in rows:
        m = statistics.median(values)
        ratio = "1x" if values is leet else (f"{base / m:.1f}x faster" if m < base else f"{m / base:.1f}x slower")
        print(f"| {label} | {m:.2f} ({min(values):.2f}-{max(values):.2f}) | {args.runs:,} | {ratio} | {target or ''} |")
    print(f"\nthrough the `wandb leet inspect` CLI instead (Python + import wandb + wandb-core, one run at a time): "
          f"{cli:.2f} s a run over {CLI_SAMPLE} runs, so ~{cli * args.runs:.0f} s for {args.runs:,} runs (extrapolated)")
    print(f"all repetitions: sync {fmt(sync)}; leet {fmt(leet)}; pb2 {fmt(pb2)}; cold {fmt(cold)}; warm {fmt(warm)}")
    cross_check(answers)
    print("full check, every run's records (wandb_internal_pb2) against runsift's Run (Catalog.get): "
          + ("no difference in config, the 4 series point by point, run id, tags, notes, group, start, exit code, "
             "commit, seed, failed runs' traceback, problems" if not full_problems else f"{len(full_problems)} differences"))
    for line in full_problems[:20]:
        print("  " + line)


def fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def runsift_ls(root: Path, cache: Path) -> list[str]:
    return [sys.executable, "-m", "runsift", "ls", str(root), "--format", "json", "--cache-dir", str(cache), "-q"]


def sync_count(out: str, err: str) -> int:
    for line in (out + err).splitlines():
        if "Would sync" in line:
            return int(line.split("Would sync", 1)[1].split()[0])
    return 0


def driver_count(out: str, err: str) -> int:
    return int(out.strip().splitlines()[-1])


def json_count(out: str, err: str) -> int:
    return len(json.loads(out))


def timed(cmd: list[str], *, count, expect: int, env: dict | None = None, keep: dict | None = None, tag: str = "") -> float:
    """Wall time of one whole process; its output must count ``expect`` runs. Keeps the first answer under ``tag``."""
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed:\n{out.stderr[-2000:]}")
    n = count(out.stdout, out.stderr)
    if n != expect:
        raise SystemExit(f"{' '.join(cmd[:4])}: {n} runs, expected {expect}\n{out.stderr[-2000:]}")
    if keep is not None and tag not in keep:
        keep[tag] = json.loads(out.stdout.strip().splitlines()[0]) if tag != "runsift" else json.loads(out.stdout)
    return elapsed


def cli_sample(wandb_python: Path, root: Path, env: dict) -> float:
    """Seconds a run through ``wandb leet inspect --summary --json RUN_DIR``, over the first runs."""
    runs = sorted(root.glob("*/wandb/*run-*"))[:CLI_SAMPLE]
    t = time.perf_counter()
    for run in runs:
        subprocess.run([str(wandb_python.with_name("wandb")), "leet", "inspect", "--summary", "--json", str(run)],
                       capture_output=True, env=env, check=True, stdin=subprocess.DEVNULL)
    return (time.perf_counter() - t) / len(runs)


def cross_check(answers: dict) -> None:
    """runsift's rows against wandb-core's answers (and this script's pb2 scan against both), run by run."""
    leet, pb2 = answers["leet"], answers["pb2"]
    rows = {r["id"]: r for r in answers["runsift"]}
    problems: list[str] = []
    left_out: dict[str, int] = {}
    status_of = {"finished": "finished", "failed": "failed"}
    with_problems = sum(1 for r in rows.values() if r.get("problems"))
    if set(rows) != set(leet):
        problems.append(f"run sets differ: only runsift {sorted(set(rows) - set(leet))[:3]}, only wandb-core {sorted(set(leet) - set(rows))[:3]}")
    for rid, w in leet.items():
        r = rows.get(rid)
        if r is None:
            continue
        for field, mine, theirs in (("project", r["project"], w["project"]), ("name", r["name"], w["name"]),
                                    ("status", r["status"], status_of.get(w["state"], w["state"]))):
            if mine != theirs:
                problems.append(f"{rid}: {field} runsift {mine!r}, wandb-core {theirs!r}")
        finals = {k: v for k, v in w["summary"].items() if not k.startswith("_") and isinstance(v, (int, float))}
        for k, v in finals.items():
            if k not in r["metrics"]:
                left_out[k] = left_out.get(k, 0) + 1
            elif abs(r["metrics"][k] - v) > 1e-12 * max(1.0, abs(v)):
                problems.append(f"{rid}: final {k} runsift {r['metrics'][k]!r}, wandb-core {v!r}")
        for k in set(r["metrics"]) - set(finals):
            problems.append(f"{rid}: final {k} in runsift only")
        p = pb2.get(rid)
        if p is None or p["summary"] != w["summary"] or p["config_keys"] != w["config_keys"] or p["exit_code"] != w["exit_code"]:
            problems.append(f"{rid}: this script's pb2 scan and wandb-core disagree")
    rows_per_run = sorted({p["history_rows"] for p in pb2.values()})
    print(f"\ncross-check of the first answers, {len(leet):,} runs: runsift and wandb-core "
          + ("agree on project, name, status and every final metric value" if not problems else f"differ in {len(problems)} places"))
    if left_out:
        print(f"  summary keys wandb-core reports and runsift's finals leave out (by design, x-axes): {left_out}")
    print(f"  runs with problems in runsift's answer: {with_problems}; history rows per run (pb2 scan): {rows_per_run[0]}-{rows_per_run[-1]}")
    for line in problems[:20]:
        print("  " + line)


def full_check(root: Path, records: dict, cache: Path) -> list[str]:
    """Every run as runsift reads it (in this process) against the records wandb's protobuf classes decode."""
    from datetime import datetime

    from runsift.core.catalog import Catalog

    cat = Catalog.open(root, cache_dir=cache)
    out: list[str] = []
    try:
        if set(cat.ids(kind="run")) != set(records):
            out.append(f"run sets differ: {len(cat.ids(kind='run'))} in runsift, {len(records)} logs")
        for rid, w in records.items():
            run = cat.get(rid)
            checks = [
                ("config", json.loads(json.dumps(run.config)), w["config"]),
                ("run id", run.tags.get("wandb.run_id"), w["run_id"]),
                ("tags", sorted(t for t, v in run.tags.items() if v == ""), sorted(w["tags"])),
                ("notes", run.notes, w["notes"]),
                ("group", run.tags.get("wandb.group"), w["group"]),
                ("started", run.started, datetime.fromtimestamp(w["start"]).replace(microsecond=0)),
                ("exit code", run.exit_code, w["exit_code"]),
                ("commit", run.code.commit, w["commit"]),
                ("seed", dict(run.seeds).get("seed"), w["config"].get("seed")),
                ("problems", list(run.problems), []),
            ]
            for name in ("train/loss", "val/loss", "val/auc", "val/f1"):
                want = [(h["__step"], h[name]) for h in w["history"] if name in h]  # wandb's step, the x-axis runsift keeps
                checks.append((f"series {name}", [tuple(p) for p in run.metrics.series.get(name, ())], want))
            if w["exit_code"]:
                last = w["stderr"].strip().splitlines()[-1:] or [""]
                checks.append(("error", bool(run.error) and last[0] in run.error, True))
            for what, mine, theirs in checks:
                if mine != theirs:
                    out.append(f"{rid}: {what}: runsift {str(mine)[:200]}, wandb {str(theirs)[:200]}")
    finally:
        cat.close()
    return out


def read_everything(root: Path) -> None:
    """Read every file once, so that no timed process pays for the first read from disk."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                with open(path, "rb") as f:
                    f.read()


def describe(root: Path) -> dict:
    files = size = 0
    logs: list[int] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                continue
            st = os.stat(path)
            files += 1
            size += st.st_size
            if name.startswith("run-") and name.endswith(".wandb"):
                logs.append(st.st_size)
    failed = sum(1 for p in root.glob("*/wandb/*run-*/files/output.log") if b"Traceback" in p.read_bytes())
    return {"runs": len(logs), "files": files, "mb": size / 1e6, "log_mb": sum(logs) / 1e6,
            "log_kb_min": min(logs, default=0) / 1e3, "log_kb_max": max(logs, default=0) / 1e3, "failed": failed}


# -- the corpus, written by wandb itself ------------------------------------------------


def write_corpus(root: Path, runs: int, seed: int, wandb_python: Path) -> None:
    """N offline runs over the projects: one wandb process per project, inside a scratch git repository."""
    rng = random.Random(seed)
    root.mkdir(parents=True)
    (root / "train.py").write_text("# the training script the runs came from\n")
    (root / ".gitignore").write_text("/*/\n.corpus.json\n")
    git_env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "Bench",
               "GIT_COMMITTER_EMAIL": "bench@example.com", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
    for cmd in (["init", "-q"], ["add", "train.py", ".gitignore"], ["commit", "-q", "-m", "bench"],
                ["remote", "add", "origin", "https://example.com/team/models.git"]):
        subprocess.run(["git", *cmd], cwd=root, env=git_env, check=True)
    weights = [rng.random() + 0.2 for _ in PROJECTS]
    assigned: dict[str, list[int]] = {p: [] for p in PROJECTS}
    for i in range(runs):
        assigned[rng.choices(PROJECTS, weights)[0]].append(i)
    env = {**os.environ, **WANDB_ENV}
    t = time.perf_counter()
    done = 0
    for project, indices in assigned.items():
        if not indices:
            continue
        folder = root / project
        folder.mkdir()
        spec = {"project": project, "dir": str(folder), "runs": indices, "seed": seed, "fail_rate": FAIL_RATE, "epochs": EPOCHS}
        out = subprocess.run([str(wandb_python), "-c", GENERATE, json.dumps(spec)], cwd=root, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        if out.returncode:
            raise SystemExit(f"wandb failed writing {project}:\n{out.stderr[-2000:]}")
        done += len(indices)
        print(f"  {project}: {len(indices)} runs ({done:,}/{runs:,}, {time.perf_counter() - t:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()

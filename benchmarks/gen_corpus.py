#!/usr/bin/env python3
"""Generate a synthetic corpus of run-container folders for benchmarking runsift.

Each run follows the run-container tutorial (Example 1)::

    OUT/<project>/2025-01-07_14-32-11_run-00023/
        config.yaml          ~40 nested keys (model, optimizer, scheduler, data, features, augmentation ...)
        code_commit.txt      commit hash; about 1 run in 4 is dirty (git status --porcelain lines)
        env.txt              Python/OS/GPU lines + a ~120-line ``pip freeze`` (one of 4 release sets)
        seeds.txt            global=..., data_split=...
        data_snapshot.txt    key: value lines (dataset, version, format, path, hash, rows)
        metrics.json         final (4 metrics), per_epoch (30 epochs x 4 metrics), definitions
        splits/val_ids.txt   ~500 ids (shared by runs with the same data version and split seed)
        notes.md             a few lines
        artifacts/model.pt   a few bytes (only its size shows in a listing)
        error.log            only in failed runs (about 3%)

About 3% of the runs failed (status "failed", fewer epochs, error.log) and 2% are still
running (no ``final`` block). The same ``--seed`` and ``--runs`` give the same folder names
and the same file contents.

Files and folders get the modification times of an archive: each run's the time its folder name
says, shifted so that the newest run is two days old. (Freshly written files would all be from
today, so the runs that never finished would look like runs still being written, which runsift
lists file by file on every open.) ``--retime`` gives an existing corpus these times.

Usage::

    python benchmarks/gen_corpus.py --out /tmp/corpus-10k --runs 10000 [--seed 0] [--force]

Files are written directly (no subprocess per run); 10k runs take a few seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from datetime import datetime, timedelta

MARKER = ".corpus.json"
"""Written last in OUT; says which --runs/--seed made the corpus (runsift ignores dot files at the root)."""

# -- vocabulary ------------------------------------------------------------------------

PROJECTS: list[tuple[str, str, str, str, list[str]]] = [
    # name, task, dataset, id prefix, metric names (3 eval metrics + a loss)
    ("fraud-model", "binary_classification", "fraud_txn", "txn", ["val_auc", "val_pr_auc", "val_f1", "train_loss"]),
    ("churn-predictor", "binary_classification", "customer_month", "cust", ["val_auc", "val_pr_auc", "val_f1", "train_loss"]),
    ("nlp-intent", "multiclass_classification", "intent_utterances", "utt", ["val_acc", "val_macro_f1", "val_top3_acc", "train_loss"]),
    ("search-ranker", "ranking", "query_doc_pairs", "qd", ["val_ndcg_at_10", "val_mrr", "val_recall_at_100", "train_loss"]),
    ("ctr-model", "binary_classification", "ad_impressions", "imp", ["val_auc", "val_logloss", "val_calibration", "train_loss"]),
    ("demand-forecast", "regression", "sku_daily_sales", "sku", ["val_mape", "val_rmse", "val_wape", "train_loss"]),
    ("image-defects", "binary_classification", "wafer_images", "img", ["val_auc", "val_recall", "val_precision", "train_loss"]),
    ("speech-kws", "multiclass_classification", "keyword_clips", "clip", ["val_acc", "val_far", "val_frr", "train_loss"]),
    ("recsys-retrieval", "retrieval", "user_item_events", "evt", ["val_recall_at_50", "val_ndcg_at_10", "val_hit_rate", "train_loss"]),
    ("toxicity-filter", "binary_classification", "comments_labeled", "cmt", ["val_auc", "val_f1", "val_precision", "train_loss"]),
    ("eta-model", "regression", "trip_legs", "trip", ["val_mae", "val_rmse", "val_p90_error", "train_loss"]),
    ("credit-risk", "binary_classification", "loan_applications", "app", ["val_auc", "val_ks", "val_f1", "train_loss"]),
    ("ocr-lines", "sequence", "scanned_lines", "line", ["val_cer", "val_wer", "val_acc", "train_loss"]),
    ("anomaly-metrics", "binary_classification", "infra_timeseries", "ts", ["val_auc", "val_pr_auc", "val_f1", "train_loss"]),
    ("query-autocomplete", "ranking", "query_prefixes", "pfx", ["val_mrr", "val_recall_at_10", "val_ndcg_at_10", "train_loss"]),
    ("price-elasticity", "regression", "price_experiments", "px", ["val_rmse", "val_mae", "val_r2", "train_loss"]),
    ("doc-classifier", "multiclass_classification", "support_tickets", "tkt", ["val_acc", "val_macro_f1", "val_weighted_f1", "train_loss"]),
    ("lead-scoring", "binary_classification", "crm_leads", "lead", ["val_auc", "val_pr_auc", "val_f1", "train_loss"]),
    ("sentiment", "multiclass_classification", "product_reviews", "rev", ["val_acc", "val_macro_f1", "val_mae_stars", "train_loss"]),
    ("supply-risk", "binary_classification", "supplier_events", "sup", ["val_auc", "val_recall", "val_f1", "train_loss"]),
]
PROJECT_WEIGHTS = [12, 8, 9, 6, 10, 5, 4, 3, 7, 4, 5, 6, 2, 3, 2, 2, 3, 4, 2, 3]

AUTHORS = ["dana.k", "priya.n", "marco.r", "li.wei", "sam.o", "ana.g", "tom.b", "yuki.t", "omar.h", "eva.s"]
MODEL_TYPES = ["mlp", "gbdt", "transformer", "cnn", "wide_and_deep", "logistic_regression", "lstm"]
ACTIVATIONS = ["relu", "gelu", "silu", "tanh"]
INITS = ["he_normal", "xavier_uniform", "zeros", "orthogonal"]
NORMS = ["batchnorm", "layernorm", "none"]
OPTIMIZERS = ["adam", "adamw", "sgd", "lion", "rmsprop"]
SCHEDULERS = ["constant", "cosine", "step", "linear_warmup", "one_cycle"]
PRECISIONS = ["float32", "bf16", "fp16", "float64"]
LOSSES = {"binary_classification": "bce", "multiclass_classification": "cross_entropy", "ranking": "listwise_softmax",
          "regression": "huber", "retrieval": "sampled_softmax", "sequence": "ctc"}
FORMATS = ["parquet", "parquet", "parquet", "tfrecord", "jsonl", "arrow"]
FEATURE_WORDS = [
    "amount", "count", "ratio", "age", "days_since", "velocity", "mean", "std", "max", "min", "hour", "weekday",
    "distance", "risk", "score", "embedding", "ctr", "price", "discount", "rank", "len", "tfidf", "bm25", "freq",
    "entropy", "lag", "rolling", "trend", "seasonal", "device", "geo", "session", "clicks", "views", "returns",
]
FEATURE_SUFFIXES = ["", "_log", "_7d", "_30d", "_24h", "_norm", "_bucket", "_sin", "_cos", "_zscore"]

DIRTY_FILES = ["src/train.py", "src/models/net.py", "src/data/loader.py", "configs/base.yaml", "src/eval/metrics.py",
               "notebooks/explore.ipynb", "scripts/sweep.sh", "src/features/build.py", "README.md", "src/utils/seed.py"]
PORCELAIN_CODES = [" M", "M ", "MM", "??", " D", "A "]

NOTES_OPENERS = [
    "# {kind} run for {project}",
    "# Trying {sched} schedule, lr {lr}",
    "# Ablation: {n_feat} features",
    "# Seed replicate for the {model} baseline",
    "# Re-run after the data refresh ({version})",
]
NOTES_BODIES = [
    "Same config as the last baseline except the learning-rate schedule; want to see if warmup helps.",
    "Dropped two weak features to check whether they were noise. Everything else as before.",
    "Bigger batch to use the new GPUs; scaled lr linearly.",
    "Seed replicate: only the global seed changes, to estimate seed noise.",
    "Trying mixup after the augmentation discussion; label smoothing kept at 0.05.",
    "Data refresh: newer snapshot, same split rule and split seed.",
]
NOTES_ANOMALIES = [
    "Anomalies: none.",
    "Anomalies: loss spiked at epoch {e} and recovered.",
    "Anomalies: val metric plateaued early; early stopping did not trigger.",
    "Anomalies: one dataloader worker restarted (OOM) around epoch {e}.",
]

# ~120 realistic packages of an ML image, with the versions of the oldest release set.
BASE_PACKAGES = """absl-py==2.0.0 aiohttp==3.9.1 aiosignal==1.3.1 alembic==1.13.0 annotated-types==0.6.0 anyio==4.2.0
appdirs==1.4.4 asttokens==2.4.1 attrs==23.1.0 beautifulsoup4==4.12.2 bleach==6.1.0 blinker==1.7.0 boto3==1.34.10
botocore==1.34.10 cachetools==5.3.2 catboost==1.2.2 certifi==2023.11.17 cffi==1.16.0 charset-normalizer==3.3.2
click==8.1.7 cloudpickle==3.0.0 comm==0.2.0 contourpy==1.2.0 cryptography==41.0.7 cycler==0.12.1 databricks-sdk==0.17.0
datasets==2.16.0 debugpy==1.8.0 decorator==5.1.1 Deprecated==1.2.14 dill==0.3.7 docker==7.0.0 entrypoints==0.4
executing==2.0.1 fastjsonschema==2.19.0 filelock==3.13.1 Flask==3.0.0 fonttools==4.47.0 frozenlist==1.4.1
fsspec==2023.12.2 gitdb==4.0.11 GitPython==3.1.40 google-auth==2.25.2 graphene==3.3 graphql-core==3.2.3
greenlet==3.0.3 grpcio==1.60.0 gunicorn==21.2.0 h11==0.14.0 httpcore==1.0.2 httpx==0.26.0 huggingface-hub==0.20.1
hydra-core==1.3.2 idna==3.6 importlib-metadata==7.0.1 iniconfig==2.0.0 ipykernel==6.28.0 ipython==8.19.0
itsdangerous==2.1.2 jedi==0.19.1 Jinja2==3.1.2 jmespath==1.0.1 joblib==1.3.2 jsonschema==4.20.0
jupyter_client==8.6.0 jupyter_core==5.7.0 kiwisolver==1.4.5 lightgbm==4.2.0 llvmlite==0.41.1 Mako==1.3.0
Markdown==3.5.1 markdown-it-py==3.0.0 MarkupSafe==2.1.3 matplotlib==3.8.2 matplotlib-inline==0.1.6 mdurl==0.1.2
mlflow==2.9.2 mpmath==1.3.0 multidict==6.0.4 multiprocess==0.70.15 nest-asyncio==1.5.8 networkx==3.2.1 numba==0.58.1
numpy==1.26.2 nvidia-cublas-cu12==12.1.3.1 nvidia-cudnn-cu12==8.9.2.26 nvidia-nccl-cu12==2.18.1 omegaconf==2.3.0
onnx==1.15.0 opentelemetry-api==1.22.0 optuna==3.5.0 packaging==23.2 pandas==2.1.4 parso==0.8.3 pexpect==4.9.0
pillow==10.1.0 platformdirs==4.1.0 pluggy==1.3.0 polars==0.20.2 prompt-toolkit==3.0.43 protobuf==4.25.1
psutil==5.9.7 pyarrow==14.0.2 pyasn1==0.5.1 pycparser==2.21 pydantic==2.5.3 pydantic_core==2.14.6 Pygments==2.17.2
pyparsing==3.1.1 pytest==7.4.4 python-dateutil==2.8.2 pytz==2023.3.post1 PyYAML==6.0.1 pyzmq==25.1.2
querystring-parser==1.2.4 referencing==0.32.0 regex==2023.12.25 requests==2.31.0 rich==13.7.0 rpds-py==0.16.2
rsa==4.9 s3transfer==0.10.0 safetensors==0.4.1 scikit-learn==1.3.2 scipy==1.11.4 seaborn==0.13.1 sentencepiece==0.1.99
setuptools==69.0.3 shap==0.44.0 six==1.16.0 smmap==5.0.1 SQLAlchemy==2.0.25 sqlparse==0.4.4 stack-data==0.6.3
statsmodels==0.14.1 sympy==1.12 tabulate==0.9.0 tensorboard==2.15.1 threadpoolctl==3.2.0 tokenizers==0.15.0
torch==2.1.2 torchmetrics==1.2.1 tornado==6.4 tqdm==4.66.1 traitlets==5.14.1 transformers==4.36.2 triton==2.1.0
typing_extensions==4.9.0 tzdata==2023.4 urllib3==2.1.0 wandb==0.16.1 wcwidth==0.2.12 websocket-client==1.7.0
Werkzeug==3.0.1 wrapt==1.16.0 xgboost==2.0.3 xxhash==3.4.1 yarl==1.9.4 zipp==3.17.0""".split()  # noqa: SIM905 - readable as a block
_NOT_IN_TRAINING_IMAGE = set("""appdirs beautifulsoup4 bleach blinker catboost comm databricks-sdk debugpy Deprecated
docker entrypoints executing fastjsonschema graphene graphql-core greenlet gunicorn ipykernel itsdangerous jedi
jupyter_client jupyter_core Mako matplotlib-inline nest-asyncio parso pexpect prompt-toolkit pyzmq querystring-parser
stack-data tornado traitlets wcwidth websocket-client asttokens alembic sqlparse optuna""".split())  # noqa: SIM905
BASE_PACKAGES = [p for p in BASE_PACKAGES if p.split("==")[0] not in _NOT_IN_TRAINING_IMAGE]  # 120 packages

PYTHONS = ["3.10.13", "3.11.7", "3.11.9", "3.12.3"]
OSES = ["Ubuntu 22.04.4 LTS", "Ubuntu 20.04.6 LTS", "Debian GNU/Linux 12 (bookworm)"]
GPUS = ["1x NVIDIA A100-SXM4-40GB", "4x NVIDIA A10G", "1x NVIDIA T4", "none (CPU only)", "8x NVIDIA H100 80GB HBM3"]


def _release_sets(n_sets: int = 4) -> list[list[str]]:
    """Package lists for ``n_sets`` releases of the image: each release bumps some versions."""
    rng = random.Random(20240101)
    current = [tuple(p.split("==")) for p in BASE_PACKAGES]
    sets = [[f"{n}=={v}" for n, v in current]]
    for _ in range(n_sets - 1):
        bumped = []
        for name, version in current:
            parts = version.split(".")
            roll = rng.random()
            if roll < 0.35 and parts[-1].isdigit():
                parts[-1] = str(int(parts[-1]) + rng.randint(1, 3))
            elif roll < 0.55 and len(parts) >= 2 and parts[1].isdigit():
                parts[1] = str(int(parts[1]) + 1)
                parts[2:] = ["0"] * len(parts[2:])
            bumped.append((name, ".".join(parts)))
        current = bumped
        sets.append([f"{n}=={v}" for n, v in current])
    return sets


def _env_texts() -> list[list[str]]:
    """env.txt texts: [release set][variant] (variant = python/os/gpu combination)."""
    out = []
    for k, packages in enumerate(_release_sets()):
        variants = []
        for j in range(6):
            py = PYTHONS[min(len(PYTHONS) - 1, k // 2 + (j % 2))]
            head = (
                f"Python {py}\nOS: {OSES[(k + j) % len(OSES)]}\nGPU: {GPUS[(k * 3 + j) % len(GPUS)]}\n"
                f"CUDA: 12.{k + 1}\n# pip freeze\n"
            )
            variants.append(head + "\n".join(packages) + "\n")
        out.append(variants)
    return out


# -- one run -----------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return repr(round(x, 6))


def _project_state(rng: random.Random, index: int) -> dict:
    name, task, dataset, prefix, metrics = PROJECTS[index]
    feats = []
    while len(feats) < 40:
        f = rng.choice(FEATURE_WORDS) + "_" + rng.choice(FEATURE_WORDS) + rng.choice(FEATURE_SUFFIXES)
        if f not in feats:
            feats.append(f)
    return {
        "name": name, "task": task, "dataset": dataset, "prefix": prefix, "metrics": metrics,
        "features": feats,
        "commits": [f"{rng.getrandbits(160):040x}" for _ in range(40)],
        "clock": datetime(2024, 3, 1, 8, 0, 0) + timedelta(minutes=rng.randint(0, 5000)),
        "counter": 0,
        "data_version": 10 + rng.randint(0, 12),
        "rows": rng.randint(20, 2000) * 1000,
        "format": rng.choice(FORMATS),
        "env_offset": rng.randint(0, 2),
        "base_score": rng.uniform(0.6, 0.9),
        "data_hashes": {},
    }


def _config(rng: random.Random, p: dict, seed: int, epochs: int, lr: float, sched: str, model: str, feats: list[str]) -> str:
    opt = rng.choice(OPTIMIZERS)
    lines = [
        f"run_name: {p['name']}-{model}-{sched}",
        f"project: {p['name']}",
        f"author: {rng.choice(AUTHORS)}",
        f"task: {p['task']}",
        f"seed: {seed}",
        f"precision: {rng.choice(PRECISIONS)}",
        f"batch_size: {rng.choice([64, 128, 256, 512, 1024])}",
        f"epochs: {epochs}",
        "model:",
        f"  type: {model}",
        f"  hidden_units: {rng.choice([32, 64, 128, 256, 512])}",
        f"  num_layers: {rng.randint(2, 8)}",
        f"  activation: {rng.choice(ACTIVATIONS)}",
        f"  dropout: {rng.choice([0.0, 0.1, 0.2, 0.3])}",
        f"  init: {rng.choice(INITS)}",
        f"  norm: {rng.choice(NORMS)}",
        "optimizer:",
        f"  name: {opt}",
        f"  lr: {lr}",
        "  betas: [0.9, 0.999]",
        "  eps: 1.0e-08",
        f"  weight_decay: {rng.choice([0.0, 0.0001, 0.001, 0.01, 0.05])}",
        f"  grad_clip: {rng.choice([0.5, 1.0, 5.0])}",
        "scheduler:",
        f"  name: {sched}",
        f"  warmup_epochs: {rng.choice([0, 1, 2, 5])}",
        f"  min_lr: {rng.choice(['1.0e-06', '1.0e-05', '0.0'])}",
        "early_stopping:",
        f"  monitor: {p['metrics'][0]}",
        f"  patience: {rng.choice([3, 5, 10])}",
        "loss:",
        f"  name: {LOSSES[p['task']]}",
        f"  label_smoothing: {rng.choice([0.0, 0.05, 0.1])}",
        "data:",
        f"  dataset: {p['dataset']}",
        f"  version: v{p['data_version']}",
        f"  id_column: {p['prefix']}_id",
        f"  val_fraction: {rng.choice([0.1, 0.15, 0.2])}",
        f"  num_workers: {rng.choice([2, 4, 8])}",
        "  shuffle: true",
        '  split_rule: "permutation(seed=data_split); first val_fraction*n rows -> val"',
        "features:",
        *(f"  - {f}" for f in feats),
        "augmentation:",
        f"  mixup_alpha: {rng.choice([0.0, 0.2, 0.4])}",
        f"  noise_std: {rng.choice([0.0, 0.01, 0.05])}",
        f"  feature_dropout: {rng.choice([0.0, 0.05, 0.1])}",
        "eval:",
        "  every_n_epochs: 1",
        f"  threshold: {rng.choice([0.3, 0.4, 0.5])}",
        f"  use_ema_weights: {rng.choice(['true', 'false'])}",
    ]
    return "\n".join(lines) + "\n"


def _code(rng: random.Random, p: dict) -> str:
    commit = rng.choice(p["commits"])
    if rng.random() < 0.25:
        files = rng.sample(DIRTY_FILES, rng.randint(1, 4))
        return commit + "\n" + "".join(f"{rng.choice(PORCELAIN_CODES)} {f}\n" for f in files)
    return commit + "\n"


def _metrics(rng: random.Random, p: dict, run_label: str, status: str, epochs: int, done: int, threshold: float) -> str:
    names = p["metrics"]
    target = min(0.99, p["base_score"] + rng.gauss(0, 0.01))
    rows = []
    values = {}
    for e in range(1, done + 1):
        frac = 1 - 0.6 ** e
        values = {
            names[0]: round(target * (0.7 + 0.3 * frac) + rng.gauss(0, 0.002), 6),
            names[1]: round(target * 0.8 * (0.6 + 0.4 * frac) + rng.gauss(0, 0.003), 6),
            names[2]: round(target * 0.6 * (0.5 + 0.5 * frac) + rng.gauss(0, 0.004), 6),
            names[3]: round(0.7 * 0.85 ** e + 0.1 + abs(rng.gauss(0, 0.002)), 6),
        }
        rows.append(f'{{"epoch": {e}, ' + ", ".join(f'"{k}": {v!r}' for k, v in values.items()) + "}")
    goal = {n: ("min" if n.endswith(("loss", "mape", "rmse", "mae", "error", "cer", "wer", "far", "frr", "wape", "stars"))
                else "max") for n in names}
    definitions = {
        names[0]: {"version": "1", "text": f"{names[0]} on the val split", "goal": goal[names[0]]},
        names[1]: {"version": "1", "text": f"{names[1]} on the val split", "goal": goal[names[1]]},
        names[2]: {"version": "2", "threshold": threshold, "text": f"{names[2]} at score >= threshold", "goal": goal[names[2]]},
        names[3]: {"version": "1", "text": "mean training loss over the batches of the epoch", "goal": "min"},
    }
    parts = [f'{{\n  "run_id": "{run_label}",\n  "status": "{status}",\n']
    if status == "finished":
        parts.append(f'  "final": {json.dumps(values)},\n')
    parts.append('  "per_epoch": [\n    ' + ",\n    ".join(rows) + "\n  ],\n")
    parts.append('  "definitions": ' + json.dumps(definitions, indent=2).replace("\n", "\n  ") + "\n}\n")
    return "".join(parts)


def _val_ids(rng: random.Random, p: dict, split_seed: int, cache: dict) -> str:
    key = (p["name"], p["data_version"], split_seed)
    text = cache.get(key)
    if text is None:
        r = random.Random(f"{p['name']}/{p['data_version']}/{split_seed}")
        n = r.randint(450, 550)
        base = 4_000_000 + 100_000 * p["data_version"]
        ids = sorted(r.sample(range(base, base + p["rows"]), n))
        text = "".join(f"{p['prefix']}_{i}\n" for i in ids)
        cache[key] = text
    return text


def _write(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def generate(out: str, runs: int, seed: int = 0, progress: bool = True) -> tuple[int, int]:
    """Write ``runs`` run folders below ``out``; return (files, bytes) written."""
    rng = random.Random(seed)
    projects = [_project_state(random.Random(seed * 1000 + i), i) for i in range(len(PROJECTS))]
    envs = _env_texts()
    ids_cache: dict = {}
    files = 0
    total = 0
    started = time.perf_counter()
    for p in projects:
        os.makedirs(os.path.join(out, p["name"]), exist_ok=True)
    for i in range(runs):
        p = projects[rng.choices(range(len(projects)), weights=PROJECT_WEIGHTS)[0]]
        p["counter"] += 1
        p["clock"] += timedelta(minutes=rng.randint(7, 400), seconds=rng.randint(0, 59))
        if rng.random() < 0.01:  # a data refresh now and then
            p["data_version"] += 1
        when = p["clock"]
        run_label = f"run-{p['counter']:05d}"
        folder = os.path.join(out, p["name"], f"{when:%Y-%m-%d_%H-%M-%S}_{run_label}")
        os.makedirs(os.path.join(folder, "splits"))
        os.mkdir(os.path.join(folder, "artifacts"))

        roll = rng.random()
        status = "failed" if roll < 0.03 else "running" if roll < 0.05 else "finished"
        epochs = 30
        done = epochs if status == "finished" else rng.randint(1, epochs - 1)
        global_seed = rng.choice([1234, 1235, 1236, 1237, 7, 42, 2024]) if rng.random() < 0.7 else rng.randint(0, 99999)
        split_seed = rng.choice([42, 42, 42, 7, 13])
        lr = rng.choice([0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001])
        sched = rng.choice(SCHEDULERS)
        model = rng.choice(MODEL_TYPES)
        n_feat = rng.randint(12, 24)
        feats = p["features"][:n_feat]
        threshold = rng.choice([0.3, 0.4, 0.5, 0.5, 0.5])
        # release set: older runs use older images (by project clock), projects lag differently
        months = (when.year - 2024) * 12 + when.month - 3
        release = max(0, min(3, months // 4 - p["env_offset"] + (1 if rng.random() < 0.1 else 0)))
        env = envs[release][rng.randrange(6)]
        hash_bits = random.Random(f"{p['name']}{p['data_version']}").getrandbits(64)
        data_hash = p["data_hashes"].setdefault(p["data_version"], f"0x{hash_bits:016x}")
        rows = p["rows"] + 1500 * (p["data_version"] - 10)
        contents = {
            "config.yaml": _config(rng, p, global_seed, epochs, lr, sched, model, feats),
            "code_commit.txt": _code(rng, p),
            "env.txt": env,
            "seeds.txt": f"global={global_seed}, data_split={split_seed}\n",
            "data_snapshot.txt": (
                f"dataset: {p['dataset']}\nversion: {p['dataset']}_v{p['data_version']}\nformat: {p['format']}\n"
                f"path: s3://ml-data/{p['dataset']}/v{p['data_version']}/\nhash: {data_hash}\nrows: {rows}\n"
                f"snapshot_taken: {when - timedelta(days=3):%Y-%m-%dT06:00:00Z}\n"
            ),
            "metrics.json": _metrics(rng, p, run_label, status, epochs, done, threshold),
            "splits/val_ids.txt": _val_ids(rng, p, split_seed, ids_cache),
            "notes.md": "\n\n".join([
                rng.choice(NOTES_OPENERS).format(kind=status, project=p["name"], sched=sched, lr=lr, n_feat=n_feat,
                                                 model=model, version=f"v{p['data_version']}"),
                rng.choice(NOTES_BODIES),
                rng.choice(NOTES_ANOMALIES).format(e=rng.randint(2, 20)),
            ]) + "\n",
        }
        if status == "failed":
            contents["error.log"] = (
                "Traceback (most recent call last):\n  File \"src/train.py\", line 212, in <module>\n    main()\n"
                f"  File \"src/train.py\", line 187, in main\n    loss.backward()\n"
                f"RuntimeError: CUDA out of memory. Tried to allocate {rng.randint(1, 16)}.00 GiB (epoch {done + 1})\n"
            )
        if status != "running":
            contents["artifacts/model.pt"] = b"PK\x03\x04torch" + (i % 251).to_bytes(1, "little")
        for rel, text in contents.items():
            data = text.encode() if isinstance(text, str) else text
            _write(folder + "/" + rel, data)
            files += 1
            total += len(data)
        if progress and (i + 1) % 10_000 == 0:
            rate = (i + 1) / (time.perf_counter() - started)
            print(f"  {i + 1:,} runs ({rate:,.0f} runs/s)", file=sys.stderr, flush=True)
    with open(os.path.join(out, MARKER), "w") as fh:
        json.dump({"runs": runs, "seed": seed, "files": files, "bytes": total}, fh)
    retime(out)
    return files, total


NEWEST_AGE = timedelta(days=2)
"""How old the newest run of a corpus looks after :func:`retime`."""


def retime(out: str) -> int:
    """Give every run folder and its files the time its name says, shifted so the newest run is
    NEWEST_AGE old; each project folder gets the time of its newest run. Returns the runs retimed."""
    runs: list[tuple[str, datetime]] = []
    for project in os.scandir(out):
        if project.is_dir() and not project.name.startswith("."):
            for run in os.scandir(project.path):
                try:
                    runs.append((run.path, datetime.strptime(run.name[:19], "%Y-%m-%d_%H-%M-%S")))
                except ValueError:
                    continue
    if not runs:
        return 0
    shift = datetime.now() - NEWEST_AGE - max(when for _, when in runs)
    newest: dict[str, int] = {}
    for folder, when in runs:
        ns = int((when + shift).timestamp()) * 1_000_000_000
        for below, _dirs, names in os.walk(folder, topdown=False):
            for name in names:
                os.utime(os.path.join(below, name), ns=(ns, ns))
            os.utime(below, ns=(ns, ns))
        project = os.path.dirname(folder)
        newest[project] = max(newest.get(project, 0), ns)
    for project, ns in newest.items():
        os.utime(project, ns=(ns, ns))
    return len(runs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="folder to create (must be empty or absent, unless --force)")
    ap.add_argument("--runs", type=int, help="number of run folders (required unless --retime)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ap.add_argument("--force", action="store_true", help="delete OUT first if it exists")
    ap.add_argument("--retime", action="store_true", help="only give the existing corpus in OUT its archive times (see above)")
    args = ap.parse_args(argv)
    if args.retime:
        print(f"retimed {retime(args.out):,} runs in {args.out}")
        return 0
    if args.runs is None:
        ap.error("--runs is required")
    if os.path.exists(args.out) and os.listdir(args.out):
        if not args.force:
            ap.error(f"{args.out} is not empty (use --force to replace it)")
        shutil.rmtree(args.out)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    files, total = generate(args.out, args.runs, args.seed)
    dt = time.perf_counter() - t0
    print(f"wrote {args.runs:,} runs, {files:,} files, {total:,} bytes ({total / 1e6:.1f} MB) to {args.out} in {dt:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

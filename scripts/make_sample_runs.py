#!/usr/bin/env python3
"""Build the committed ``sample_runs/`` folder: realistic experiment records made by really
training small numpy models on synthetic data.

Everything is deterministic: fixed seeds, fixed timestamps written into files, no wall-clock
values in any file, fixed key order. Running the script twice gives the same bytes. Every
metric in every record is computed from a model that was actually trained here, on the split
that the record's ``splits/`` folder lists. ``python scripts/make_sample_runs.py`` rebuilds
``sample_runs/`` next to the repository root (``--out DIR`` to write elsewhere); it deletes and
recreates only that folder.

Three kinds of records are produced (the formats of the run-container tutorial):

``fraud-model/`` -- thirteen training-run containers (Example 1). A tiny "wide & deep" MLP
(16 ReLU units plus a linear skip, Adam, L2, EMA weights) is trained for 25 epochs on a
synthetic card-transaction table (``dataset_v23``: 15,000 rows, 16 features, ~6% fraud).
The files are written the way different people write them (hash alone / ``hash dirty`` /
porcelain lines / "local changes:" list; ``pip freeze`` vs prose env; ``global=1, split=2``
vs ``name: value`` seeds; one-line vs ``key: value`` data snapshots; nested metrics.json vs
flat scalars plus ``metrics.csv``), so lenient readers get exercised.

* run-014  exploratory logistic regression by another author on the 12 features of an older
           feature view; flat metrics.json + metrics.csv, prose env.txt, key: value data
           snapshot, "local changes:" code state, flow-style YAML lists, and a notes.md full
           of hostile text (ANSI escapes, Rich markup, a fake [link=...]) to test literal
           rendering.
* run-017..020  the baseline config with four seed replicates (global seed 1234..1237; same
           config, code, data and env): they show seed noise. run-020 uses the flat
           metrics.json + metrics.csv format.
* run-021  FAILED: the baseline tried in float16 (lr 0.003). The fp16 sigmoid really
           overflows (exp(-z) > 65504) and the loss really becomes NaN a few epochs in (epoch
           4); metrics.json has the finished epochs and ``"status": "failed"``, error.log the
           overflow warning and a traceback, artifacts/ the last checkpoint.
* run-022  F1 threshold change: identical config/seed/data as run-017 (so bit-identical
           weights and AUCs) but the eval code was edited locally: definition val_f1 v2 with
           threshold 0.4 instead of v1 at 0.5. Only val_f1 moves.
* run-023  learning-rate schedule change: constant -> cosine (seed 1234, else as baseline);
           with this data the change is within seed noise.
* run-024  library upgrade: env.txt has numpy 2.0.1 instead of 1.26.4, config and seed as
           run-017. The upgrade is emulated the way library upgrades usually change a seeded
           run: same seed and initial weights, but the minibatch shuffle stream is drawn
           differently (``default_rng([seed, 2])``). Its AUC differs from run-017 by a
           seed-noise-sized amount: a no-effect factor.
* run-025  data version change: dataset_v24 (the v23 rows plus 1,500 newer rows with a
           slightly shifted distribution); different data hash, row count and val ids.
* run-026, run-027, run-029  the planted ~0.3% val-AUC regression, three seeds (1234, 1235, 1236). The
           cause is only visible in the config diff: the ``features`` list lost
           ``shipping_billing_mismatch``, a weak but real signal in the data generator. The
           notes do not say so. The drop is several times the baseline seed std (WEAK_COEF and
           the weight decay were tuned for a ~0.3% drop and a seed std of ~0.0005-0.001).
* run-028  INCOMPLETE: still being written; metrics.json is cut off mid-way (invalid JSON),
           no artifacts.

``nlp-intent/2025-01-07_sweep-07/`` -- a grid sweep (Example 3). A bag-of-words intent
classifier (mean word embedding -> tanh -> dropout -> softmax over 10 intents) on a
synthetic utterance set. sweep.yaml holds the grid (optimizer.lr x model.embedding_dim x
model.dropout, 8 points) and budget; baseline_config.yaml the shared defaults; runs/run-101
... run-108 the grid points, run-109/run-110 two extra seed replicates of the best grid
point. Each run's config.yaml holds only its overriding keys. leaderboard.csv is computed from
the runs' metrics.json (same values, sorted by val_F1 descending). ``train_time`` is a
deterministic estimate from the counted floating-point work of the training loop (stated in
each metric definition), not a wall-clock measurement.

``checkout-address-validation/`` -- an A/B repro kit (Example 2): experiment.yaml with a
deterministic hash-bucket assignment rule and 5% holdout, ~20,500 assignments, an event log
with page_view v3 / purchase v5 events (true conversion 8.0% control vs 8.6% treatment) plus
planted traps for a replay (purchases before exposure, after the 7-day window, exactly at the
window end, with the old purchase schema v4, from held-out users), metric definitions, event
schemas, the analysis plan, the analysis SQL and result.json, which this script computes by
replaying the written CSV files with the metric definition (two-proportion z-test).

The script prints the achieved AUCs, the baseline seed std and the regression size.
"""

from __future__ import annotations

import os

# Single-threaded BLAS: faster for these tiny matrices and keeps summation order (and so the
# bytes written) independent of the number of cores.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
import zipfile  # noqa: E402
import zlib  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.special import expit  # noqa: E402
from scipy.stats import norm, rankdata  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL = ("checkout-address-validation", "fraud-model", "nlp-intent")

# ---------------------------------------------------------------------------
# Small deterministic writers
# ---------------------------------------------------------------------------


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def write_json(path: Path, obj, indent: int | None = 2) -> None:
    write_text(path, json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")


def r6(x: float) -> float:
    return float(round(float(x), 6))


_PLAIN = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./")
_YAML_WORDS = {"yes", "no", "true", "false", "on", "off", "null", "y", "n", "~", ""}


def yaml_scalar(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if v == int(v) and abs(v) < 1e6:
            return f"{v:.1f}"
        r = repr(v)
        if "e" in r:  # PyYAML (YAML 1.1) needs "1.0e-08", not "1e-08"
            mant, exp = r.split("e")
            if "." not in mant:
                mant += ".0"
            if exp[0] not in "+-":
                exp = "+" + exp
            r = f"{mant}e{exp}"
        return r
    s = str(v)
    looks_numeric = False
    try:
        float(s)
        looks_numeric = True
    except ValueError:
        pass
    if (
        s.lower() in _YAML_WORDS
        or looks_numeric
        or not set(s) <= _PLAIN
        or s[0] in "-./"
        or s[0].isdigit()
    ):
        return json.dumps(s, ensure_ascii=False)
    return s


def to_yaml(obj, indent: int = 0, flow_lists: bool = False) -> str:
    """Emit a nested dict/list as block YAML (insertion order, deterministic)."""
    pad = "  " * indent
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = yaml_scalar(k)
            if isinstance(v, dict) and v:
                out.append(f"{pad}{key}:")
                out.append(to_yaml(v, indent + 1, flow_lists))
            elif isinstance(v, list) and v and not (flow_lists or all_short_scalars(v)):
                out.append(f"{pad}{key}:")
                for item in v:
                    if isinstance(item, dict):
                        first = True
                        for ik, iv in item.items():
                            prefix = f"{pad}  - " if first else f"{pad}    "
                            out.append(f"{prefix}{yaml_scalar(ik)}: {flow(iv)}")
                            first = False
                    else:
                        out.append(f"{pad}  - {yaml_scalar(item)}")
            else:
                out.append(f"{pad}{key}: {flow(v)}")
    else:
        raise TypeError(type(obj))
    return "\n".join(out)


def all_short_scalars(v: list) -> bool:
    return (
        all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
        and len(v) <= 4
    )


def flow(v) -> str:
    if isinstance(v, dict):
        return (
            "{" + ", ".join(f"{yaml_scalar(k)}: {flow(x)}" for k, x in v.items()) + "}"
        )
    if isinstance(v, list):
        return "[" + ", ".join(flow(x) for x in v) + "]"
    return yaml_scalar(v)


def yaml_doc(obj, header: str = "", flow_lists: bool = False) -> str:
    return header + to_yaml(obj, 0, flow_lists) + "\n"


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """npz written with fixed zip timestamps (np.savez would do the same; be explicit)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in arrays:
            arr_buf = io.BytesIO()
            np.lib.format.write_array(
                arr_buf, np.ascontiguousarray(arrays[name]), allow_pickle=False
            )
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, arr_buf.getvalue())
    write_bytes(path, buf.getvalue())


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fake_commit(label: str) -> str:
    return hashlib.sha1(("runsift-sample:" + label).encode()).hexdigest()


# ---------------------------------------------------------------------------
# Minimal PNG writer and two tiny plots
# ---------------------------------------------------------------------------


def png_bytes(img: np.ndarray) -> bytes:
    """RGB uint8 array (h, w, 3) -> PNG bytes (8-bit truecolor, zlib level 9)."""
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[row].tobytes() for row in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _line(img, x0, y0, x1, y1, color):
    n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
    xs = np.rint(np.linspace(x0, x1, n)).astype(int)
    ys = np.rint(np.linspace(y0, y1, n)).astype(int)
    h, w, _ = img.shape
    ok = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    img[ys[ok], xs[ok]] = color


def pr_curve_png(recall: np.ndarray, precision: np.ndarray, prevalence: float) -> bytes:
    w, h, m = 200, 150, 16
    img = np.full((h, w, 3), 255, np.uint8)
    x0, y0, x1, y1 = m, h - m, w - m // 2, m // 2
    _line(img, x0, y0, x1, y0, (90, 90, 90))
    _line(img, x0, y0, x0, y1, (90, 90, 90))
    py = y0 - prevalence * (y0 - y1)
    for xs in range(x0, x1, 6):
        _line(img, xs, py, min(xs + 3, x1), py, (170, 170, 170))
    if len(recall) > 400:  # a 200-px plot needs no more points than this
        keep = np.unique(np.rint(np.linspace(0, len(recall) - 1, 400)).astype(int))
        recall, precision = recall[keep], precision[keep]
    px = x0 + recall * (x1 - x0)
    pyv = y0 - precision * (y0 - y1)
    for i in range(len(px) - 1):
        _line(img, px[i], pyv[i], px[i + 1], pyv[i + 1], (31, 119, 180))
    return png_bytes(img)


def confusion_png(cm: np.ndarray, cell: int = 0) -> bytes:
    k = cm.shape[0]
    cell = cell or max(8, 96 // k)
    size = k * cell + 2
    img = np.full((size, size, 3), 255, np.uint8)
    rows = cm.sum(axis=1, keepdims=True).astype(float)
    frac = cm / np.where(rows == 0, 1, rows)
    for i in range(k):
        for j in range(k):
            t = frac[i, j]
            color = (int(255 - 224 * t), int(255 - 136 * t), int(255 - 75 * t))
            img[
                1 + i * cell : 1 + (i + 1) * cell, 1 + j * cell : 1 + (j + 1) * cell
            ] = color
    for i in range(k + 1):
        img[min(i * cell, size - 1), :] = (120, 120, 120)
        img[:, min(i * cell, size - 1)] = (120, 120, 120)
    return png_bytes(img)


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    ranks = rankdata(s)
    npos = float(y.sum())
    nneg = float(len(y) - npos)
    return float((ranks[y == 1].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def pr_points(y: np.ndarray, s: np.ndarray):
    """Precision/recall at each distinct score threshold (descending)."""
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    distinct = np.where(np.diff(s_sorted))[0]
    idx = np.r_[distinct, len(s_sorted) - 1]
    tp = np.cumsum(y_sorted)[idx]
    fp = (idx + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / y.sum()
    return precision, recall


def average_precision(y: np.ndarray, s: np.ndarray) -> float:
    precision, recall = pr_points(y, s)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def f1_at(y: np.ndarray, p: np.ndarray, threshold: float) -> float:
    pred = p >= threshold
    tp = float(np.sum(pred & (y == 1)))
    fp = float(np.sum(pred & (y == 0)))
    fn = float(np.sum(~pred & (y == 1)))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def macro_f1(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    f1s = []
    for c in range(k):
        tp = np.sum((pred == c) & (y == c))
        fp = np.sum((pred == c) & (y != c))
        fn = np.sum((pred != c) & (y == c))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s))


# ---------------------------------------------------------------------------
# Fraud data
# ---------------------------------------------------------------------------

FRAUD_FEATURES = [
    "amount_log",
    "amount_vs_avg_30d",
    "merchant_risk_score",
    "mcc_high_risk",
    "hour_sin",
    "hour_cos",
    "account_age_days_log",
    "txn_count_24h",
    "distance_from_home_log",
    "card_present",
    "foreign_merchant",
    "new_device",
    "ip_risk_score",
    "email_domain_age_log",
    "failed_logins_24h",
    "shipping_billing_mismatch",
]
WEAK_FEATURE = "shipping_billing_mismatch"
WEAK_COEF = 0.83  # weight of the weak feature in the true fraud logit (tuned for a ~0.3% AUC drop)


def fraud_chunk(n: int, seed: int, shift: float = 0.0):
    """n synthetic transactions. ``shift`` > 0 moves the distribution (newer data)."""
    r = np.random.default_rng(seed)
    amount = r.lognormal(3.8 + 0.15 * shift, 1.0, n)
    ratio = r.lognormal(0.0, 0.5, n)
    mrisk = r.beta(2, 8, n)
    mcc = (r.random(n) < 0.08).astype(float)
    hour = r.normal(14, 5, n) % 24
    age = r.exponential(400, n)
    cnt = r.poisson(2 + 0.5 * shift, n).astype(float)
    dist = r.lognormal(2, 1.2, n)
    card_present = (r.random(n) < 0.55 - 0.1 * shift).astype(float)
    foreign = (r.random(n) < 0.07 + 0.05 * shift).astype(float)
    new_device = (r.random(n) < 0.10 + 0.04 * shift).astype(float)
    ip = r.beta(1.5, 6, n)
    email = r.exponential(900, n)
    failed = r.poisson(0.2, n).astype(float)
    mismatch = (r.random(n) < 0.12).astype(float)
    X = np.column_stack(
        [
            np.log1p(amount),
            np.log(ratio),
            mrisk,
            mcc,
            np.sin(2 * np.pi * hour / 24),
            np.cos(2 * np.pi * hour / 24),
            np.log1p(age),
            cnt,
            np.log1p(dist),
            card_present,
            foreign,
            new_device,
            ip,
            np.log1p(email),
            failed,
            mismatch,
        ]
    )
    night = ((hour < 5) | (hour > 23)).astype(float)
    core = (
        0.8 * (np.log1p(amount) - 3.8)
        + 0.6 * np.log(ratio)
        + 3.0 * mrisk
        + 0.8 * mcc
        + 0.7 * night
        - 0.5 * (np.log1p(age) - 5.4) / 1.25
        + 0.2 * cnt
        + 0.35 * (np.log1p(dist) - 2.1) / 1.1
        - 0.9 * card_present
        + 0.9 * foreign
        + 0.7 * new_device
        + 2.5 * ip
        - 0.3 * (np.log1p(email) - 6.2) / 1.25
        + 0.5 * failed
        + 1.0 * new_device * foreign
        + 0.8 * ((amount > 150) & (age < 60))
    )
    logit = -7.5 + 0.3 * shift + 1.8 * core + WEAK_COEF * mismatch
    y = (r.random(n) < expit(logit)).astype(float)
    return X, y


def fraud_dataset(version: str):
    """dataset_v23: 15,000 rows. dataset_v24: the same rows plus 1,500 newer, shifted rows."""
    X, y = fraud_chunk(15000, seed=7)
    gaps = np.random.default_rng(11).integers(1, 6, 16500)
    ids_all = np.array([f"txn_{4_000_000 + g:07d}" for g in np.cumsum(gaps)])
    if version == "v24":
        X2, y2 = fraud_chunk(1500, seed=8, shift=1.0)
        X, y = np.vstack([X, X2]), np.r_[y, y2]
    ids = ids_all[: len(y)]
    digest = hashlib.sha256()
    digest.update("\n".join(ids).encode())
    digest.update(np.ascontiguousarray(X, dtype="<f8").tobytes())
    digest.update(np.ascontiguousarray(y, dtype="<f8").tobytes())
    # split rule: permutation(data_split seed); first val_fraction*n rows -> val
    perm = np.random.default_rng(42).permutation(len(y))
    nval = round(0.2 * len(y))
    val_idx, train_idx = np.sort(perm[:nval]), np.sort(perm[nval:])
    return {
        "version": version,
        "ids": ids,
        "X": X,
        "y": y,
        "train": train_idx,
        "val": val_idx,
        "sha256": digest.hexdigest(),
        "rows": len(y),
    }


# ---------------------------------------------------------------------------
# Fraud model: tiny wide & deep MLP (or logistic regression) in numpy
# ---------------------------------------------------------------------------


class LossNotFinite(FloatingPointError):
    def __init__(self, epoch: int, step: int, loss: float, global_step: int):
        super().__init__(f"non-finite loss ({loss}) at epoch {epoch}, step {step}")
        self.epoch, self.step, self.loss, self.global_step = (
            epoch,
            step,
            loss,
            global_step,
        )


def train_fraud(
    ds,
    cfg: dict,
    seed: int,
    kernel: str = "blas",
    stop_after: int | None = None,
    f1_threshold: float = 0.5,
):
    """Train per ``cfg`` and evaluate on the val split after every epoch (F1 at ``f1_threshold``).

    Returns a dict with per-epoch metrics, final EMA weights, val scores and, if training
    broke, the failure (epoch, step, loss, warnings seen).
    """
    cols = [FRAUD_FEATURES.index(f) for f in cfg["features"]]
    Xtr, ytr = ds["X"][ds["train"]][:, cols], ds["y"][ds["train"]]
    Xva, yva = ds["X"][ds["val"]][:, cols], ds["y"][ds["val"]]
    pre = cfg["preprocessing"]
    mu, sd = Xtr.mean(0), Xtr.std(0)
    sd[sd == 0] = 1.0
    clip = pre["clip_sigma"]
    Xtr = np.clip((Xtr - mu) / sd, -clip, clip)
    Xva = np.clip((Xva - mu) / sd, -clip, clip)

    rng = np.random.default_rng(seed)
    # Emulated library upgrade ("numpy2"): same seed, but the loader's shuffle stream is drawn
    # differently, as when an upgraded library consumes random numbers in another order.
    shuffle_rng = np.random.default_rng([seed, 2]) if kernel == "numpy2" else rng
    d = Xtr.shape[1]
    mcfg, ocfg = cfg["model"], cfg["optimizer"]
    hidden = mcfg.get("hidden_units", 0) if mcfg["type"] == "mlp" else 0
    params: dict[str, np.ndarray] = {}
    if hidden:
        params["W1"] = rng.normal(0.0, math.sqrt(2.0 / d), (d, hidden))
        params["b1"] = np.zeros(hidden)
        params["W2"] = rng.normal(0.0, math.sqrt(1.0 / hidden), (hidden, 1))
    params["w_lin"] = np.zeros((d, 1))
    params["b_out"] = np.zeros(1)
    names = list(params)
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v2 = {k: np.zeros_like(v) for k, v in params.items()}
    ema = {k: v.copy() for k, v in params.items()}
    ema_decay = cfg["ema_decay"]
    beta1, beta2 = ocfg["betas"]
    eps, wd, lr0 = ocfg["eps"], ocfg["weight_decay"], ocfg["lr"]
    bs, epochs = cfg["batch_size"], cfg["epochs"]
    pos_w = cfg["loss"]["pos_weight"]
    fp16 = cfg["precision"] == "float16"
    n = len(ytr)
    steps_per_epoch = math.ceil(n / bs)
    total_steps = steps_per_epoch * epochs
    sched = ocfg["schedule"]["name"]

    def matmul(a, b):
        return a @ b

    def forward(P, X, dtype=np.float64):
        X = X.astype(dtype, copy=False)
        z = matmul(X, P["w_lin"].astype(dtype, copy=False)) + P["b_out"].astype(
            dtype, copy=False
        )
        h = a = None
        if hidden:
            h = matmul(X, P["W1"].astype(dtype, copy=False)) + P["b1"].astype(
                dtype, copy=False
            )
            a = np.maximum(h, 0)
            z = z + a @ P["W2"].astype(dtype, copy=False)
        return z[:, 0], h, a

    per_epoch: list[dict] = []
    failure = None
    caught: list[str] = []
    t = 0
    with warnings.catch_warnings(record=True) as wlist:
        warnings.simplefilter("always")
        try:
            for ep in range(1, epochs + 1):
                if stop_after is not None and ep > stop_after:
                    break
                perm = shuffle_rng.permutation(n)
                losses = []
                for step in range(1, steps_per_epoch + 1):
                    idx = perm[(step - 1) * bs : step * bs]
                    xb, yb = Xtr[idx], ytr[idx]
                    if fp16:
                        with np.errstate(over="warn", invalid="warn", divide="warn"):
                            z16, h, a = forward(params, xb, np.float16)
                            p16 = np.float16(1) / (np.float16(1) + np.exp(-z16))
                            loss = float(
                                -np.mean(
                                    pos_w * yb * np.log(p16)
                                    + (1 - yb) * np.log(np.float16(1) - p16)
                                )
                            )
                        z = z16.astype(np.float64)
                        p = p16.astype(np.float64)
                        h = h.astype(np.float64) if h is not None else None
                        a = a.astype(np.float64) if a is not None else None
                    else:
                        z, h, a = forward(params, xb)
                        p = expit(z)
                        loss = float(
                            np.mean(
                                pos_w * yb * np.logaddexp(0, -z)
                                + (1 - yb) * np.logaddexp(0, z)
                            )
                        )
                    if not math.isfinite(loss):
                        raise LossNotFinite(ep, step, loss, t + 1)
                    losses.append(loss)
                    g = (pos_w * yb * (p - 1) + (1 - yb) * p) / len(yb)
                    grads = {
                        "w_lin": matmul(xb.T, g[:, None]),
                        "b_out": np.array([g.sum()]),
                    }
                    if hidden:
                        grads["W2"] = a.T @ g[:, None]
                        gh = (g[:, None] @ params["W2"].T) * (h > 0)
                        grads["W1"] = matmul(xb.T, gh)
                        grads["b1"] = gh.sum(0)
                    t += 1
                    lr = (
                        lr0
                        if sched == "constant"
                        else lr0 * 0.5 * (1 + math.cos(math.pi * (t - 1) / total_steps))
                    )
                    for k in names:
                        gk = grads[k] + wd * params[k]
                        m[k] = beta1 * m[k] + (1 - beta1) * gk
                        v2[k] = beta2 * v2[k] + (1 - beta2) * gk * gk
                        mh = m[k] / (1 - beta1**t)
                        vh = v2[k] / (1 - beta2**t)
                        params[k] -= lr * mh / (np.sqrt(vh) + eps)
                        ema[k] = ema_decay * ema[k] + (1 - ema_decay) * params[k]
                zv, _, _ = forward(ema, Xva)
                pv = expit(zv)
                per_epoch.append(
                    {
                        "epoch": ep,
                        "train_loss": r6(np.mean(losses)),
                        "val_auc": r6(roc_auc(yva, zv)),
                        "val_pr_auc": r6(average_precision(yva, zv)),
                        "val_f1": r6(f1_at(yva, pv, f1_threshold)),
                    }
                )
        except LossNotFinite as exc:
            failure = exc
        caught = [f"{w.category.__name__}: {w.message}" for w in wlist]
    zv, _, _ = forward(ema, Xva)
    return {
        "per_epoch": per_epoch,
        "weights": {k: v.astype(np.float32) for k, v in ema.items()},
        "scaler": {"mean": mu.astype(np.float32), "std": sd.astype(np.float32)},
        "val_logit": zv,
        "val_score": expit(zv),
        "yva": yva,
        "failure": failure,
        "warnings": caught,
        "steps_per_epoch": steps_per_epoch,
    }


# ---------------------------------------------------------------------------
# Fraud run records
# ---------------------------------------------------------------------------

FRAUD_COMMIT = fake_commit("fraud-model@main-2025-01-06")
FRAUD_COMMIT_OLD = fake_commit("fraud-model@explore-2025-01-03")[:7]
FRAUD_COMMIT_NEW = fake_commit("fraud-model@main-2025-01-12")

FREEZE_PACKAGES = [
    ("absl-py", "2.1.0"), ("aiohttp", "3.9.5"), ("aiosignal", "1.3.1"),     ("annotated-types", "0.7.0"), ("anyio", "4.4.0"), ("asttokens", "2.4.1"), ("attrs", "23.2.0"),
    ("boto3", "1.34.144"), ("botocore", "1.34.144"), ("cachetools", "5.4.0"), ("certifi", "2024.7.4"),
    ("cffi", "1.16.0"), ("charset-normalizer", "3.3.2"), ("click", "8.1.7"), ("cloudpickle", "3.0.0"),
    ("comm", "0.2.2"), ("contourpy", "1.2.1"), ("cryptography", "42.0.8"), ("cycler", "0.12.1"),
    ("debugpy", "1.8.2"), ("decorator", "5.1.1"),     ("entrypoints", "0.4"), ("executing", "2.0.1"), ("fastjsonschema", "2.20.0"),
    ("filelock", "3.15.4"), ("Flask", "3.0.3"), ("fonttools", "4.53.1"), ("frozenlist", "1.4.1"),
    ("fsspec", "2024.6.1"), ("gitdb", "4.0.11"), ("GitPython", "3.1.43"), ("google-auth", "2.32.0"),
    ("greenlet", "3.0.3"),
    ("h11", "0.14.0"), ("httpcore", "1.0.5"), ("httpx", "0.27.0"),
    ("idna", "3.7"), ("importlib-metadata", "7.2.1"), ("iniconfig", "2.0.0"), ("ipykernel", "6.29.5"),
    ("ipython", "8.26.0"), ("itsdangerous", "2.2.0"), ("jedi", "0.19.1"), ("Jinja2", "3.1.4"),
    ("jmespath", "1.0.1"), ("joblib", "1.4.2"), ("jsonschema", "4.23.0"),
    ("jsonschema-specifications", "2023.12.1"), ("jupyter_client", "8.6.2"), ("jupyter_core", "5.7.2"),
    ("kiwisolver", "1.4.5"), ("lightgbm", "4.4.0"), ("llvmlite", "0.43.0"),     ("Markdown", "3.6"), ("markdown-it-py", "3.0.0"), ("MarkupSafe", "2.1.5"), ("matplotlib", "3.9.1"),
    ("matplotlib-inline", "0.1.7"), ("mdurl", "0.1.2"), ("multidict", "6.0.5"),
    ("nest-asyncio", "1.6.0"), ("numba", "0.60.0"), ("numpy", "1.26.4"),     ("packaging", "24.1"), ("pandas", "2.2.2"), ("parso", "0.8.4"),
    ("pexpect", "4.9.0"), ("pillow", "10.4.0"), ("platformdirs", "4.2.2"), ("pluggy", "1.5.0"),
    ("polars", "1.2.1"), ("prompt_toolkit", "3.0.47"), ("protobuf", "4.25.3"), ("psutil", "6.0.0"),
    ("ptyprocess", "0.7.0"), ("pure-eval", "0.2.2"), ("pyarrow", "16.1.0"), ("pyasn1", "0.6.0"),
    ("pycparser", "2.22"), ("pydantic", "2.8.2"), ("pydantic_core", "2.20.1"), ("Pygments", "2.18.0"),
    ("pyparsing", "3.1.2"), ("pytest", "8.2.2"), ("python-dateutil", "2.9.0.post0"), ("pytz", "2024.1"),
    ("PyYAML", "6.0.1"), ("pyzmq", "26.0.3"), ("referencing", "0.35.1"),
    ("requests", "2.32.3"), ("rich", "13.7.1"), ("rpds-py", "0.19.0"), ("rsa", "4.9"),
    ("s3transfer", "0.10.2"), ("scikit-learn", "1.5.1"), ("scipy", "1.13.1"), ("shap", "0.46.0"),
    ("six", "1.16.0"), ("slicer", "0.0.8"), ("smmap", "5.0.1"), ("sniffio", "1.3.1"),
    ("SQLAlchemy", "2.0.31"), ("stack-data", "0.6.3"), ("tabulate", "0.9.0"),
    ("threadpoolctl", "3.5.0"), ("tornado", "6.4.1"), ("tqdm", "4.66.4"), ("traitlets", "5.14.3"),
    ("typing_extensions", "4.12.2"), ("tzdata", "2024.1"), ("urllib3", "2.2.2"), ("wcwidth", "0.2.13"),
    ("Werkzeug", "3.0.3"), ("wrapt", "1.16.0"), ("xgboost", "2.1.0"), ("yarl", "1.9.4"), ("zipp", "3.19.2"),
]  # fmt: skip


def env_freeze(numpy_version: str = "1.26.4") -> str:
    lines = []
    for name, ver in sorted(FREEZE_PACKAGES, key=lambda p: p[0].lower()):
        lines.append(f"{name}=={numpy_version if name == 'numpy' else ver}")
    return "\n".join(lines) + "\n"


ENV_PROSE_FRAUD = """\
# environment, written down by hand (pip freeze of the shared image is in the wiki)
Python 3.10.12
OS: Ubuntu 22.04.4 LTS (kernel 5.15)
CPU: 16 vCPU Intel Xeon Platinum 8375C (c6i.4xlarge)
GPU: none -- CPU training, the model is tiny

numpy 1.26.4
pandas 2.2.2
scipy 1.13.1
scikit-learn 1.5.1
pyarrow 16.1.0
lightgbm 4.4.0   # only for the comparison notebook
"""


def base_fraud_config() -> dict:
    return {
        "run_name": "mlp-baseline",
        "project": "fraud-model",
        "author": "dana.k",
        "task": "binary_classification",
        "model": {
            "type": "mlp",
            "hidden_units": 16,
            "activation": "relu",
            "linear_skip": True,
            "init": "he_normal",
        },
        "precision": "float64",
        "optimizer": {
            "name": "adam",
            "lr": 0.01,
            "betas": [0.9, 0.999],
            "eps": 1e-08,
            "weight_decay": 0.002,
            "schedule": {"name": "constant", "warmup_epochs": 0},
        },
        "ema_decay": 0.99,
        "batch_size": 256,
        "epochs": 25,
        "loss": {"name": "bce", "pos_weight": 1.0},
        "data": {
            "dataset": "fraud_txn",
            "version": "v23",
            "label": "is_fraud",
            "id_column": "txn_id",
            "val_fraction": 0.2,
            "split_rule": "permutation(seed=data_split); first val_fraction*n rows -> val",
        },
        "features": list(FRAUD_FEATURES),
        "preprocessing": {"standardize": True, "clip_sigma": 5.0},
        "eval": {"every_n_epochs": 1, "use_ema_weights": True},
    }


FRAUD_DEFINITIONS_V1 = {
    "val_auc": {"version": "1", "text": "ROC AUC on val split", "goal": "max"},
    "val_pr_auc": {
        "version": "1",
        "text": "average precision (area under the precision-recall curve, step-wise) on val split",
        "goal": "max",
    },
    "val_f1": {
        "version": "1",
        "threshold": 0.5,
        "text": "F1 at score >= threshold",
        "goal": "max",
    },
    "train_loss": {
        "version": "1",
        "text": "mean binary cross-entropy over the training batches of the epoch",
        "goal": "min",
    },
}


def data_snapshot_text(ds, style: str) -> str:
    short = "0x" + ds["sha256"][:16]
    if style == "oneline":
        return f"fraud_txn_{ds['version']} parquet hash={short} rows={ds['rows']}\n"
    return (
        f"dataset: fraud_txn\n"
        f"version: {ds['version']}\n"
        f"format: parquet\n"
        f"path: s3://risk-ml-data/fraud_txn/{ds['version']}/part-0000.parquet\n"
        f"hash: {short}\n"
        f"rows: {ds['rows']}\n"
        f"label: is_fraud (chargeback within 90 days)\n"
        f"snapshot_taken: {'2024-12-20T06:00:00Z' if ds['version'] == 'v23' else '2025-01-08T06:00:00Z'}\n"
    )


def seeds_text(seed: int, style: str, split_seed: int = 42) -> str:
    if style == "inline":
        return f"global={seed}, data_split={split_seed}\n"
    return f"global: {seed}\ndata_split: {split_seed}\n"


def write_splits(
    run_dir: Path, ids: np.ndarray, train_idx: np.ndarray, val_idx: np.ndarray
) -> None:
    write_text(
        run_dir / "splits" / "train_ids.txt",
        "\n".join(sorted(ids[train_idx].tolist())) + "\n",
    )
    write_text(
        run_dir / "splits" / "val_ids.txt",
        "\n".join(sorted(ids[val_idx].tolist())) + "\n",
    )


def fraud_final(per_epoch: list[dict]) -> dict:
    last = per_epoch[-1]
    return {k: last[k] for k in ("val_auc", "val_pr_auc", "val_f1", "train_loss")}


def fraud_artifacts(run_dir: Path, ds, res, cfg, threshold: float) -> None:
    art = run_dir / "artifacts"
    save_npz(
        art / "model.npz",
        {
            **res["weights"],
            "scaler_mean": res["scaler"]["mean"],
            "scaler_std": res["scaler"]["std"],
        },
    )
    y, s, p = res["yva"], res["val_logit"], res["val_score"]
    precision, recall = pr_points(y, s)
    write_bytes(
        art / "pr_curve.png",
        pr_curve_png(np.r_[0.0, recall], np.r_[1.0, precision], float(y.mean())),
    )
    pred = (p >= threshold).astype(int)
    cm = np.array([[np.sum((y == 0) & (pred == 0)), np.sum((y == 0) & (pred == 1))],
                   [np.sum((y == 1) & (pred == 0)), np.sum((y == 1) & (pred == 1))]])  # fmt: skip
    write_bytes(art / "confusion_matrix.png", confusion_png(cm, cell=48))
    ids = ds["ids"][ds["val"]]
    order = np.argsort(ids, kind="mergesort")
    rows = ["id,label,score"] + [f"{ids[i]},{int(y[i])},{p[i]:.6f}" for i in order]
    write_text(art / "val_predictions.csv", "\n".join(rows) + "\n")


def write_fraud_metrics_nested(
    run_dir: Path, run_id: str, res, definitions: dict
) -> None:
    doc = {
        "run_id": run_id,
        "status": "finished",
        "final": fraud_final(res["per_epoch"]),
        "per_epoch": res["per_epoch"],
        "definitions": definitions,
    }
    write_json(run_dir / "metrics.json", doc)


def write_fraud_metrics_flat(run_dir: Path, res, threshold: float = 0.5) -> None:
    final = fraud_final(res["per_epoch"])
    doc = {
        "val_auc": final["val_auc"],
        "val_pr_auc": final["val_pr_auc"],
        "val_f1": final["val_f1"],
        "f1_threshold": threshold,
        "train_loss": final["train_loss"],
        "epochs_completed": len(res["per_epoch"]),
        "per_epoch_log": "metrics.csv",
    }
    write_json(run_dir / "metrics.json", doc, indent=1)
    lines = ["epoch,train_loss,val_auc,val_pr_auc,val_f1"]
    for e in res["per_epoch"]:
        lines.append(
            f"{e['epoch']},{e['train_loss']},{e['val_auc']},{e['val_pr_auc']},{e['val_f1']}"
        )
    write_text(run_dir / "metrics.csv", "\n".join(lines) + "\n")


OLD_VIEW_MISSING = (
    "ip_risk_score",
    "email_domain_age_log",
    "failed_logins_24h",
    "shipping_billing_mismatch",
)

HOSTILE_NOTES = (
    "# Exploratory: plain logistic regression\n\n"
    "Quick linear floor before we commit to the MLP (Dana asked for something to compare against).\n"
    "Same v23 snapshot and split seed as the upcoming MLP runs, but my branch and only the 12\n"
    "features of the old feature view (no ip/email/login/shipping signals yet).\n\n"
    "Pasted the end of the console output, colours and all:\n\n"
    "    \x1b[31mWARNING\x1b[0m lbfgs replaced by adam, loss flat after ~15 epochs\n"
    "    \x1b[1;32mdone\x1b[0m  val_auc={auc}\n\n"
    "The alert bot rendered it as [bold red]boom[/] in the channel, leaving that here verbatim.\n"
    "Plots: [link=https://example.invalid/steal-your-token]open the dashboard[/link]\n"
    "Escapes must show up literally: [/], [red], \\[not markup], <b>not html</b>, {{braces}}.\n\n"
    "Anomalies: none in training.\n"
)


def make_fraud(out: Path, summary: dict) -> None:
    proj = out / "fraud-model"
    v23 = fraud_dataset("v23")
    v24 = fraud_dataset("v24")

    def run_dir(ts: str, num: int) -> Path:
        return proj / f"{ts}_run-{num:03d}"

    results: dict[int, dict] = {}

    # ---- run-014: exploratory logistic regression, flat metrics, hostile notes ---------------
    cfg = base_fraud_config()
    cfg.update({"run_name": "logreg-floor", "author": "priya.n"})
    cfg["model"] = {"type": "logistic_regression", "init": "zeros"}
    cfg["optimizer"]["lr"] = 0.02
    cfg["optimizer"]["weight_decay"] = 0.001
    cfg["epochs"] = 20
    cfg["features"] = [f for f in FRAUD_FEATURES if f not in OLD_VIEW_MISSING]
    d = run_dir("2025-01-03_16-05-12", 14)
    res = train_fraud(v23, cfg, seed=7)
    results[14] = res
    write_text(
        d / "config.yaml",
        yaml_doc(cfg, "# logreg floor, copied from dana's template\n", flow_lists=True),
    )
    write_text(
        d / "code_commit.txt",
        f"{FRAUD_COMMIT_OLD}\n\nlocal changes:\n  - notebooks/explore_logreg.ipynb\n  - src/models/linear.py\n",
    )
    write_text(d / "env.txt", ENV_PROSE_FRAUD)
    write_text(d / "seeds.txt", seeds_text(7, "lines"))
    write_text(d / "data_snapshot.txt", data_snapshot_text(v23, "kv"))
    write_splits(d, v23["ids"], v23["train"], v23["val"])
    write_fraud_metrics_flat(d, res)
    fraud_artifacts(d, v23, res, cfg, 0.5)
    write_text(
        d / "notes.md", HOSTILE_NOTES.format(auc=res["per_epoch"][-1]["val_auc"])
    )

    # ---- run-017..020: baseline, four seed replicates ------------------------------------------
    base_specs = [
        (17, "2025-01-06_09-12-40", 1234, "inline"),
        (18, "2025-01-06_10-47-03", 1235, "lines"),
        (19, "2025-01-06_13-05-51", 1236, "inline"),
        (20, "2025-01-06_15-30-27", 1237, "lines"),
    ]
    for num, ts, seed, seed_style in base_specs:
        cfg = base_fraud_config()
        d = run_dir(ts, num)
        res = train_fraud(v23, cfg, seed=seed)
        results[num] = res
        write_text(d / "config.yaml", yaml_doc(cfg))
        write_text(d / "code_commit.txt", FRAUD_COMMIT + "\n")
        write_text(d / "env.txt", env_freeze())
        write_text(d / "seeds.txt", seeds_text(seed, seed_style))
        write_text(d / "data_snapshot.txt", data_snapshot_text(v23, "oneline"))
        write_splits(d, v23["ids"], v23["train"], v23["val"])
        if num == 20:
            write_fraud_metrics_flat(d, res)
        else:
            write_fraud_metrics_nested(d, f"run-{num:03d}", res, FRAUD_DEFINITIONS_V1)
        fraud_artifacts(d, v23, res, cfg, 0.5)
        idx = [s[0] for s in base_specs].index(num) + 1
        notes = f"# Baseline MLP, seed replicate {idx}/4\n\n"
        if idx == 1:
            notes += (
                f"New baseline for Q1: {cfg['model']['hidden_units']}-unit MLP with a linear skip, Adam lr "
                f"{cfg['optimizer']['lr']}, constant schedule,\nL2 {cfg['optimizer']['weight_decay']}, "
                f"EMA({cfg['ema_decay']}) weights for eval. Four replicates (global seed 1234..1237) to get\n"
                "a feel for seed noise before we compare anything against it.\n\nAnomalies: none.\n"
            )
        else:
            notes += f"Same config/commit/data as run-017, only the global seed differs ({seed}).\n"
            if num == 20:
                notes += "\nLogged with the old flat metrics writer by mistake (metrics.json + metrics.csv).\n"
            else:
                notes += "\nAnomalies: none.\n"
        write_text(d / "notes.md", notes)

    # ---- run-021: failed (float16 -> NaN loss) ------------------------------------------------
    cfg = base_fraud_config()
    cfg["run_name"] = "mlp-fp16-trial"
    cfg["precision"] = "float16"
    cfg["optimizer"]["lr"] = 0.003
    d = run_dir("2025-01-06_17-44-09", 21)
    res = train_fraud(v23, cfg, seed=1234)
    results[21] = res
    fail = res["failure"]
    assert fail is not None, "fp16 run was expected to diverge"
    write_text(d / "config.yaml", yaml_doc(cfg))
    write_text(d / "code_commit.txt", f"{FRAUD_COMMIT} dirty\n")
    write_text(d / "env.txt", env_freeze())
    write_text(d / "seeds.txt", seeds_text(1234, "inline"))
    write_text(d / "data_snapshot.txt", data_snapshot_text(v23, "oneline"))
    write_splits(d, v23["ids"], v23["train"], v23["val"])
    doc = {
        "run_id": "run-021",
        "status": "failed",
        "per_epoch": res["per_epoch"],
        "definitions": FRAUD_DEFINITIONS_V1,
        "error": {
            "type": "FloatingPointError",
            "message": str(fail),
            "epoch": fail.epoch,
            "step": fail.step,
            "global_step": fail.global_step,
        },
    }
    write_json(d / "metrics.json", doc)
    save_npz(d / "artifacts" / f"checkpoint_epoch{fail.epoch - 1}.npz", res["weights"])
    first_warning = (
        res["warnings"][0]
        if res["warnings"]
        else "RuntimeWarning: overflow encountered in exp"
    )
    loss_repr = "nan" if math.isnan(fail.loss) else repr(fail.loss)
    error_log = (
        f"[2025-01-06 17:51:02,118] INFO train.py:88 - epoch {fail.epoch - 1} done\n"
        f"/opt/conda/lib/python3.10/site-packages/fraudml/nn.py:41: {first_warning}\n"
        f"  p = 1.0 / (1.0 + np.exp(-z))\n"
        f"[2025-01-06 17:51:03,902] ERROR train.py:131 - loss is {loss_repr} at epoch {fail.epoch}, "
        f"step {fail.step}/{res['steps_per_epoch']} (global step {fail.global_step}); aborting\n"
        "Traceback (most recent call last):\n"
        '  File "/home/dana/fraud-model/src/train.py", line 212, in <module>\n'
        "    main()\n"
        '  File "/home/dana/fraud-model/src/train.py", line 197, in main\n'
        "    history = fit(model, train_loader, val_loader, cfg)\n"
        '  File "/home/dana/fraud-model/src/train.py", line 133, in fit\n'
        "    raise FloatingPointError(\n"
        f"FloatingPointError: non-finite loss ({loss_repr}) at epoch {fail.epoch}, step {fail.step}\n"
    )
    write_text(d / "error.log", error_log)
    write_text(
        d / "notes.md",
        "# fp16 trial\n\n"
        "Trying half precision to see if the nightly job gets cheaper. Lowered lr to 0.003 to be safe.\n"
        "Local patch (not committed) casts the forward pass to float16.\n\n"
        f"FAILED: loss went NaN in epoch {fail.epoch} (overflow warning in the sigmoid first), see error.log.\n"
        "No final metrics. Not worth pursuing on CPU anyway.\n",
    )

    # ---- run-022: F1 threshold change (same model as run-017) ---------------------------------
    cfg = base_fraud_config()
    d = run_dir("2025-01-07_09-58-30", 22)
    res22 = train_fraud(v23, cfg, seed=1234, f1_threshold=0.4)
    results[22] = res22
    defs = json.loads(json.dumps(FRAUD_DEFINITIONS_V1))
    defs["val_f1"] = {
        "version": "2",
        "threshold": 0.4,
        "text": "F1 at score >= threshold",
        "goal": "max",
    }
    write_text(d / "config.yaml", yaml_doc(cfg))
    write_text(d / "code_commit.txt", f"{FRAUD_COMMIT}\n M src/eval/metrics.py\n")
    write_text(d / "env.txt", env_freeze())
    write_text(d / "seeds.txt", seeds_text(1234, "lines"))
    write_text(d / "data_snapshot.txt", data_snapshot_text(v23, "oneline"))
    write_splits(d, v23["ids"], v23["train"], v23["val"])
    write_fraud_metrics_nested(d, "run-022", res22, defs)
    fraud_artifacts(d, v23, res22, cfg, 0.4)
    write_text(
        d / "notes.md",
        "# Operating point for the review queue\n\n"
        "Risk ops want a recall-leaning operating point for the manual review queue, so the eval\n"
        "F1 threshold goes from 0.5 to 0.4 (metric definition val_f1 bumped to v2; local edit in\n"
        "src/eval/metrics.py, to be committed after review).\n"
        "Retrained with exactly run-017's config and seed so the model itself is unchanged.\n",
    )

    # ---- run-023: cosine schedule ----------------------------------------------------------------
    cfg = base_fraud_config()
    cfg["run_name"] = "mlp-cosine"
    cfg["optimizer"]["schedule"] = {"name": "cosine", "warmup_epochs": 0, "min_lr": 0.0}
    d = run_dir("2025-01-07_14-32-11", 23)
    res = train_fraud(v23, cfg, seed=1234)
    results[23] = res
    write_text(d / "config.yaml", yaml_doc(cfg))
    write_text(d / "code_commit.txt", FRAUD_COMMIT + "\n")
    write_text(d / "env.txt", env_freeze())
    write_text(d / "seeds.txt", seeds_text(1234, "inline"))
    write_text(d / "data_snapshot.txt", data_snapshot_text(v23, "oneline"))
    write_splits(d, v23["ids"], v23["train"], v23["val"])
    write_fraud_metrics_nested(d, "run-023", res, FRAUD_DEFINITIONS_V1)
    fraud_artifacts(d, v23, res, cfg, 0.5)
    write_text(
        d / "notes.md",
        "# Why cosine\n\n"
        "The constant-lr baseline keeps bouncing in the last epochs (train loss is noisy), so try a\n"
        "cosine decay to zero over the 25 epochs, everything else as run-017 (same seed).\n\n"
        "Anomalies: none. Next: if it helps, replicate with seeds 1235-1237 before switching.\n",
    )

    # ---- run-024: library upgrade (numpy 2.0.1) --------------------------------------------------
    cfg = base_fraud_config()
    d = run_dir("2025-01-08_11-20-45", 24)
    res = train_fraud(v23, cfg, seed=1234, kernel="numpy2")
    results[24] = res
    write_text(d / "config.yaml", yaml_doc(cfg))
    write_text(d / "code_commit.txt", FRAUD_COMMIT + "\n")
    write_text(d / "env.txt", env_freeze(numpy_version="2.0.1"))
    write_text(d / "seeds.txt", seeds_text(1234, "lines"))
    write_text(d / "data_snapshot.txt", data_snapshot_text(v23, "oneline"))
    write_splits(d, v23["ids"], v23["train"], v23["val"])
    write_fraud_metrics_nested(d, "run-024", res, FRAUD_DEFINITIONS_V1)
    fraud_artifacts(d, v23, res, cfg, 0.5)
    write_text(
        d / "notes.md",
        "# Image rebuild\n\n"
        "Training image rebuilt for the base-image security patch; it pulled numpy 2.0.1.\n"
        "Sanity run with run-017's config and seed. Numbers are not bit-identical to run-017\n"
        "(different BLAS/summation path), which is expected.\n",
    )

    # ---- run-025: data version change (v24) ------------------------------------------------------
    cfg = base_fraud_config()
    cfg["run_name"] = "mlp-baseline-v24"
    cfg["author"] = "sam.o"
    cfg["data"]["version"] = "v24"
    d = run_dir("2025-01-09_10-03-17", 25)
    res = train_fraud(v24, cfg, seed=1234)
    results[25] = res
    write_text(d / "config.yaml", yaml_doc(cfg))
    write_text(d / "code_commit.txt", FRAUD_COMMIT + "\n")
    write_text(d / "env.txt", env_freeze())
    write_text(d / "seeds.txt", seeds_text(1234, "inline"))
    write_text(d / "data_snapshot.txt", data_snapshot_text(v24, "kv"))
    write_splits(d, v24["ids"], v24["train"], v24["val"])
    write_fraud_metrics_nested(d, "run-025", res, FRAUD_DEFINITIONS_V1)
    fraud_artifacts(d, v24, res, cfg, 0.5)
    write_text(
        d / "notes.md",
        "# Baseline on dataset_v24\n\n"
        "v24 = v23 plus the December transactions (1,500 rows; more card-not-present and foreign\n"
        "merchant traffic). Same split rule and seed, but with more rows the val ids change.\n"
        "Not directly comparable to the v23 runs.\n",
    )

    # ---- run-026/027: the planted regression (feature dropped from the config) ------------------
    reg = []
    for num, ts, seed, style in [
        (26, "2025-01-10_15-41-52", 1234, "inline"),
        (27, "2025-01-10_17-09-36", 1235, "lines"),
        (29, "2025-01-13_16-20-44", 1236, "inline"),
    ]:
        cfg = base_fraud_config()
        cfg["run_name"] = "mlp-weekly-retrain"
        cfg["features"] = [f for f in FRAUD_FEATURES if f != WEAK_FEATURE]
        d = run_dir(ts, num)
        res = train_fraud(v23, cfg, seed=seed)
        results[num] = res
        reg.append(res)
        write_text(d / "config.yaml", yaml_doc(cfg))
        write_text(d / "code_commit.txt", FRAUD_COMMIT + "\n")
        write_text(d / "env.txt", env_freeze())
        write_text(d / "seeds.txt", seeds_text(seed, style))
        write_text(d / "data_snapshot.txt", data_snapshot_text(v23, "oneline"))
        write_splits(d, v23["ids"], v23["train"], v23["val"])
        write_fraud_metrics_nested(d, f"run-{num:03d}", res, FRAUD_DEFINITIONS_V1)
        fraud_artifacts(d, v23, res, cfg, 0.5)
        if num == 26:
            notes = (
                "# Weekly retrain\n\n"
                "Weekly retrain; config regenerated from the feature-registry export (FRAUD-412).\n"
                "Curves look normal, no warnings. Val AUC came in a little under the baseline runs,\n"
                "could be noise -- queued a second seed (run-027).\n"
            )
        elif num == 27:
            notes = "# Weekly retrain, second seed\n\nSame as run-026 with global seed 1235. Still a bit low.\n"
        else:
            notes = "# Weekly retrain, third seed\n\nSame as run-026 with global seed 1236.\n"
        write_text(d / "notes.md", notes)

    # ---- run-028: incomplete (still being written) ------------------------------------------------
    cfg = base_fraud_config()
    cfg["run_name"] = "mlp-cosine-v24-long"
    cfg["author"] = "sam.o"
    cfg["epochs"] = 40
    cfg["optimizer"]["schedule"] = {"name": "cosine", "warmup_epochs": 0, "min_lr": 0.0}
    cfg["data"]["version"] = "v24"
    d = run_dir("2025-01-13_08-55-02", 28)
    res = train_fraud(v24, cfg, seed=1234, stop_after=11)
    results[28] = res
    write_text(d / "config.yaml", yaml_doc(cfg))
    write_text(
        d / "code_commit.txt",
        f"{FRAUD_COMMIT_NEW}\n M configs/schedules.yaml\n?? scratch/long_run.sh\n",
    )
    write_text(d / "env.txt", ENV_PROSE_FRAUD)
    write_text(d / "seeds.txt", seeds_text(1234, "lines"))
    write_text(d / "data_snapshot.txt", data_snapshot_text(v24, "kv"))
    write_splits(d, v24["ids"], v24["train"], v24["val"])
    doc = {
        "run_id": "run-028",
        "status": "running",
        "definitions": FRAUD_DEFINITIONS_V1,
        "per_epoch": res["per_epoch"],
    }
    text = json.dumps(doc, indent=2)
    cut = text.rfind(
        '"val_pr_auc"'
    )  # cut inside the last epoch's entry, as a crashed writer would
    write_text(d / "metrics.json", text[: cut + len('"val_pr_auc": 0.')])
    write_text(
        d / "notes.md",
        "# Long cosine run on v24 (in progress)\n\n40 epochs, cosine. Started Monday morning; check back later.\n",
    )

    # ---- summary -------------------------------------------------------------------------------------
    auc = {
        num: results[num]["per_epoch"][-1]["val_auc"]
        for num in results
        if results[num]["failure"] is None and num != 28
    }
    base = np.array([auc[n] for n in (17, 18, 19, 20)])
    regv = np.array([auc[26], auc[27], auc[29]])
    summary["fraud_auc"] = auc
    summary["seed_std"] = float(np.std(base, ddof=1))
    summary["base_mean"] = float(base.mean())
    summary["reg_mean"] = float(regv.mean())
    summary["regression"] = float(regv.mean() - base.mean())
    summary["paired_regression"] = float(
        np.mean([auc[26] - auc[17], auc[27] - auc[18], auc[29] - auc[19]])
    )
    summary["failed_at"] = (fail.epoch, fail.step)
    summary["f1_022_vs_017"] = (
        results[17]["per_epoch"][-1]["val_f1"],
        res22["per_epoch"][-1]["val_f1"],
    )
    summary["incomplete_epochs"] = len(results[28]["per_epoch"])


# ---------------------------------------------------------------------------
# Intent data and sweep
# ---------------------------------------------------------------------------

INTENTS = [
    (
        "check_balance",
        ["balance", "much", "left", "available", "funds"],
        ["account", "money", "check"],
    ),
    (
        "transfer_money",
        ["transfer", "send", "wire", "pay", "recipient"],
        ["account", "money", "to"],
    ),
    (
        "report_lost_card",
        ["lost", "stolen", "missing", "block", "freeze"],
        ["card", "my", "new"],
    ),
    (
        "activate_card",
        ["activate", "activation", "arrived", "enable", "start"],
        ["card", "new", "use"],
    ),
    (
        "reset_password",
        ["password", "reset", "forgot", "locked", "login"],
        ["account", "change", "update"],
    ),
    (
        "update_address",
        ["address", "moved", "street", "postcode", "mailing"],
        ["change", "update", "new"],
    ),
    (
        "track_order",
        ["track", "where", "shipping", "delivery", "arrive"],
        ["order", "package", "when"],
    ),
    (
        "cancel_order",
        ["cancel", "stop", "abort", "dont", "mistake"],
        ["order", "purchase", "want"],
    ),
    (
        "request_refund",
        ["refund", "back", "return", "reimburse", "charged"],
        ["money", "order", "purchase"],
    ),
    (
        "talk_to_agent",
        ["human", "agent", "person", "representative", "someone"],
        ["talk", "speak", "help"],
    ),
]
FILLER = ["i", "want", "to", "please", "can", "you", "help", "me", "my", "the", "a", "need", "now", "how",
          "do", "is", "it", "hi", "hello", "thanks", "today", "quickly", "there", "with", "for", "this"]  # fmt: skip


def intent_dataset():
    rng = np.random.default_rng(2025)
    n = 3000
    k = len(INTENTS)
    labels = rng.integers(0, k, n)
    utterances = []
    for lab in labels:
        _, strong, weak = INTENTS[lab]
        n_strong = rng.binomial(2, 0.55)
        n_weak = 1 + rng.poisson(0.8)
        words = (
            list(rng.choice(strong, size=n_strong, replace=False)) if n_strong else []
        )
        words += list(rng.choice(weak, size=min(n_weak, len(weak)), replace=False))
        if rng.random() < 0.35:  # a word borrowed from another intent
            other = INTENTS[int(rng.integers(0, k))]
            words.append(str(rng.choice(other[1] + other[2])))
        words += list(rng.choice(FILLER, size=int(rng.integers(2, 6)), replace=True))
        rng.shuffle(words)
        utterances.append(" ".join(str(w) for w in words))
    noisy = rng.random(n) < 0.03  # annotation noise
    labels = np.where(noisy, rng.integers(0, k, n), labels)
    ids = np.array([f"utt_{i + 1:05d}" for i in range(n)])
    vocab = sorted({w for u in utterances for w in u.split()})
    widx = {w: i for i, w in enumerate(vocab)}
    X = np.zeros((n, len(vocab)))
    for i, u in enumerate(utterances):
        for w in u.split():
            X[i, widx[w]] += 1
    perm = np.random.default_rng(7).permutation(n)
    nval = int(0.2 * n)
    blob = "\n".join(
        f"{ids[i]}\t{INTENTS[labels[i]][0]}\t{utterances[i]}" for i in range(n)
    ).encode()
    return {
        "ids": ids,
        "labels": labels,
        "X": X,
        "vocab": vocab,
        "utterances": utterances,
        "train": np.sort(perm[nval:]),
        "val": np.sort(perm[:nval]),
        "sha256": sha256_hex(blob),
        "rows": n,
    }


def intent_baseline_config() -> dict:
    return {
        "project": "nlp-intent",
        "author": "lee.m",
        "task": "intent_classification",
        "model": {
            "type": "bow_embedding_softmax",
            "embedding_dim": 32,
            "pooling": "mean",
            "activation": "tanh",
            "dropout": 0.1,
            "num_classes": len(INTENTS),
        },
        "optimizer": {
            "name": "adam",
            "lr": 0.01,
            "betas": [0.9, 0.999],
            "eps": 1e-08,
            "weight_decay": 0.0001,
        },
        "batch_size": 64,
        "epochs": 15,
        "data": {
            "dataset": "intents",
            "version": "v7",
            "text_column": "utterance",
            "label_column": "intent",
            "val_fraction": 0.2,
            "tokenizer": "whitespace_lower",
        },
        "eval": {"metric": "val_f1", "average": "macro"},
    }


def deep_merge(base: dict, over: dict) -> dict:
    out = json.loads(json.dumps(base))
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def train_intent(ds, cfg: dict, seed: int):
    rng = np.random.default_rng(seed)
    X, y = ds["X"], ds["labels"]
    tr, va = ds["train"], ds["val"]
    Xtr, ytr, Xva, yva = X[tr], y[tr], X[va], y[va]
    V, k = X.shape[1], cfg["model"]["num_classes"]
    dim, drop = cfg["model"]["embedding_dim"], cfg["model"]["dropout"]
    o = cfg["optimizer"]
    lr, wd, eps = o["lr"], o["weight_decay"], o["eps"]
    b1, b2 = o["betas"]
    bs, epochs = cfg["batch_size"], cfg["epochs"]
    P = {
        "E": rng.normal(0, 0.3, (V, dim)),
        "W": rng.normal(0, 1 / math.sqrt(dim), (dim, k)),
        "b": np.zeros(k),
    }
    M = {n_: np.zeros_like(v) for n_, v in P.items()}
    S = {n_: np.zeros_like(v) for n_, v in P.items()}
    Ytr = np.eye(k)[ytr]

    def forward(Xb, train: bool):
        lens = Xb.sum(1, keepdims=True)
        m = (Xb @ P["E"]) / lens
        h = np.tanh(m)
        mask = None
        if train and drop > 0:
            mask = (rng.random(h.shape) >= drop) / (1 - drop)
            h = h * mask
        logits = h @ P["W"] + P["b"]
        logits = logits - logits.max(1, keepdims=True)
        pr = np.exp(logits)
        pr /= pr.sum(1, keepdims=True)
        return pr, h, m, mask, lens

    n = len(ytr)
    steps = math.ceil(n / bs)
    per_epoch = []
    t = 0
    for ep in range(1, epochs + 1):
        perm = rng.permutation(n)
        losses = []
        for s in range(steps):
            idx = perm[s * bs : (s + 1) * bs]
            Xb, Yb = Xtr[idx], Ytr[idx]
            pr, h, m, mask, lens = forward(Xb, True)
            losses.append(float(-np.mean(np.sum(Yb * np.log(pr + 1e-12), 1))))
            g = (pr - Yb) / len(idx)
            gW = h.T @ g
            gb = g.sum(0)
            gh = g @ P["W"].T
            if mask is not None:
                gh = gh * mask
            gm = gh * (1 - np.tanh(m) ** 2)
            gE = Xb.T @ (gm / lens)
            t += 1
            for name_, gr in (("E", gE), ("W", gW), ("b", gb)):
                gr = gr + wd * P[name_]
                M[name_] = b1 * M[name_] + (1 - b1) * gr
                S[name_] = b2 * S[name_] + (1 - b2) * gr * gr
                P[name_] -= (
                    lr
                    * (M[name_] / (1 - b1**t))
                    / (np.sqrt(S[name_] / (1 - b2**t)) + eps)
                )
        pv, _, _, _, _ = forward(Xva, False)
        pred = pv.argmax(1)
        per_epoch.append(
            {
                "epoch": ep,
                "train_loss": r6(np.mean(losses)),
                "val_loss": r6(-np.mean(np.log(pv[np.arange(len(yva)), yva] + 1e-12))),
                "val_accuracy": r6(np.mean(pred == yva)),
                "val_f1": r6(macro_f1(yva, pred, k)),
            }
        )
    pv, _, _, _, _ = forward(Xva, False)
    # estimated training time from counted work: forward+backward ~ 3x forward multiply-adds
    flops_per_step = 3 * 2 * bs * (V * dim + dim * k)
    train_time = r6(round(steps * epochs * flops_per_step / 2.0e7, 1))
    return {
        "per_epoch": per_epoch,
        "proba": pv,
        "yva": yva,
        "weights": {n_: v.astype(np.float32) for n_, v in P.items()},
        "train_time_s": train_time,
    }


INTENT_DEFINITIONS = {
    "val_f1": {
        "version": "1",
        "text": "macro-averaged F1 over the 10 intents on val split, prediction = argmax of softmax",
        "average": "macro",
        "goal": "max",
    },
    "val_accuracy": {
        "version": "1",
        "text": "share of val utterances whose argmax intent is correct",
        "goal": "max",
    },
    "val_loss": {
        "version": "1",
        "text": "mean cross-entropy on val split (no dropout)",
        "goal": "min",
    },
    "train_loss": {
        "version": "1",
        "text": "mean cross-entropy over the training batches of the epoch",
        "goal": "min",
    },
    "train_time_s": {
        "version": "1",
        "text": "training time in seconds, estimated from the counted multiply-adds of the training loop "
        "at 20 MFLOP/s (deterministic; not a wall-clock measurement)",
        "goal": "min",
    },
}

ENV_PROSE_INTENT = """\
# captured from the sweep worker image (nlp-intent:2025.01)
Python 3.10.12
torch 2.1.0+cu121
CUDA 12.1
cuDNN 8.9.2
GPU: 1x A100 (40GB)
OS: Ubuntu 22.04

# python libs that matter for this model
numpy 1.26.4
tokenizers 0.15.0
pyyaml 6.0.1
"""


def make_sweep(out: Path, summary: dict) -> None:
    sweep_dir = out / "nlp-intent" / "2025-01-07_sweep-07"
    ds = intent_dataset()
    base = intent_baseline_config()
    grid = {
        "optimizer.lr": [0.005, 0.02],
        "model.embedding_dim": [16, 64],
        "model.dropout": [0.0, 0.3],
    }
    spec = {
        "sweep_id": "sweep-07",
        "project": "nlp-intent",
        "created": "2025-01-07T10:15:00Z",
        "author": "lee.m",
        "method": "grid",
        "metric": {"name": "val_f1", "goal": "max"},
        "parameters": {k: {"values": v} for k, v in grid.items()},
        "budget": {"max_runs": 10, "max_gpu_hours": 2, "seeds_per_config": 1},
        "replicates": {"top_k": 1, "extra_seeds": [2, 3]},
        "baseline_config": "baseline_config.yaml",
        "seed_policy": "global seed 1 for every grid point; data_split seed 7 for all runs",
    }
    write_text(
        sweep_dir / "sweep.yaml",
        yaml_doc(spec, "# sweep-07: grid over lr x embedding size x dropout\n"),
    )
    write_text(sweep_dir / "baseline_config.yaml", yaml_doc(base))

    points = []
    for lr in grid["optimizer.lr"]:
        for dim in grid["model.embedding_dim"]:
            for drop in grid["model.dropout"]:
                points.append(
                    {
                        "optimizer": {"lr": lr},
                        "model": {"embedding_dim": dim, "dropout": drop},
                    }
                )

    def signature(over: dict) -> str:
        return f"dropout={over['model']['dropout']};embedding_dim={over['model']['embedding_dim']};lr={over['optimizer']['lr']}"

    commit = fake_commit("nlp-intent@sweep-07")
    results = []

    def one_run(num: int, over: dict, seed: int, note: str):
        cfg = deep_merge(base, over)
        res = train_intent(ds, cfg, seed)
        d = sweep_dir / "runs" / f"run-{num}"
        write_text(d / "config.yaml", yaml_doc(over))
        write_text(d / "code_commit.txt", commit + "\n")
        write_text(d / "env.txt", ENV_PROSE_INTENT)
        write_text(d / "seeds.txt", seeds_text(seed, "lines", split_seed=7))
        write_text(
            d / "data_snapshot.txt",
            f"intents_v7 jsonl sha256={ds['sha256']} rows={ds['rows']}\n",
        )
        write_splits(d, ds["ids"], ds["train"], ds["val"])
        final = dict(res["per_epoch"][-1])
        final.pop("epoch")
        final["train_time_s"] = res["train_time_s"]
        write_json(
            d / "metrics.json",
            {
                "run_id": f"run-{num}",
                "sweep_id": "sweep-07",
                "status": "finished",
                "final": final,
                "per_epoch": res["per_epoch"],
                "definitions": INTENT_DEFINITIONS,
            },
        )
        save_npz(
            d / "artifacts" / "model.npz",
            {**res["weights"], "vocab": np.array(ds["vocab"])},
        )
        pred = res["proba"].argmax(1)
        k = len(INTENTS)
        cm = np.zeros((k, k), dtype=int)
        for a, b in zip(res["yva"], pred, strict=True):
            cm[a, b] += 1
        write_bytes(d / "artifacts" / "confusion_matrix.png", confusion_png(cm))
        ids = ds["ids"][ds["val"]]
        rows = ["id,label,score,predicted"]
        for i in range(len(ids)):
            rows.append(
                f"{ids[i]},{INTENTS[res['yva'][i]][0]},{res['proba'][i, pred[i]]:.6f},{INTENTS[pred[i]][0]}"
            )
        write_text(d / "artifacts" / "val_predictions.csv", "\n".join(rows) + "\n")
        write_text(d / "notes.md", note)
        results.append(
            (
                f"run-{num}",
                final["val_f1"],
                final["train_time_s"],
                signature(over),
                over,
                seed,
            )
        )

    for i, over in enumerate(points):
        one_run(
            101 + i,
            over,
            1,
            f"# run-{101 + i}\n\nGrid point {i + 1}/8 of sweep-07 ({signature(over)}), seed 1.\n",
        )
    best = max(results, key=lambda r: (r[1], r[0]))
    for j, seed in enumerate((2, 3)):
        one_run(
            109 + j,
            best[4],
            seed,
            f"# run-{109 + j}\n\nExtra seed replicate of the best grid point ({best[0]}: {best[3]}), global seed {seed}.\n",
        )
    board = sorted(results, key=lambda r: (-r[1], r[0]))
    lines = ["run_id,val_F1,train_time,params_signature"]
    for run_id, f1, tt, sig, _, _ in board:
        lines.append(f"{run_id},{f1},{tt},{sig}")
    write_text(sweep_dir / "leaderboard.csv", "\n".join(lines) + "\n")
    reps = [r[1] for r in results if r[3] == best[3]]
    write_text(
        sweep_dir / "notes.md",
        "# sweep-07\n\n"
        f"Grid over lr x embedding_dim x dropout (8 points, seed 1), then two extra seeds for the best\n"
        f"point. Best grid point: {best[0]} ({best[3]}), val_f1 {best[1]}. Its three seeds give val_f1\n"
        f"{', '.join(str(x) for x in reps)} (spread {max(reps) - min(reps):.4f}), so differences smaller than\n"
        "that between grid points are not meaningful.\n",
    )
    summary["sweep"] = board


# ---------------------------------------------------------------------------
# A/B repro kit
# ---------------------------------------------------------------------------

EXP_ID = "checkout-addr-validation-2025q1"
AB_START = datetime(2025, 2, 3, 0, 0, 0, tzinfo=UTC)
AB_END = datetime(2025, 2, 17, 0, 0, 0, tzinfo=UTC)
WINDOW = timedelta(days=7)
AB_SEED = 20250206


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bucket(user_id: str) -> int:
    return (
        int(hashlib.sha256(f"{EXP_ID}:{user_id}".encode()).hexdigest()[:8], 16) % 10000
    )


def variant_of(b: int) -> str:
    return "holdout" if b < 500 else ("control" if b < 5250 else "treatment")


def parse_iso(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def make_abtest(out: Path, summary: dict) -> None:
    d = out / "checkout-address-validation"
    rng = np.random.default_rng(AB_SEED)
    true_rate = {"control": 0.080, "treatment": 0.086}
    # candidate users, unique ids, in arrival order
    raw_ids = rng.choice(np.arange(1_000_000, 9_999_999), size=21_600, replace=False)
    enroll_secs = int((AB_END - AB_START).total_seconds())
    assigned: list[tuple[str, str, datetime]] = []
    holdout_users: list[tuple[str, datetime]] = []
    for uid_num in raw_ids:
        uid = f"u{int(uid_num)}"
        t = AB_START + timedelta(seconds=int(rng.integers(0, enroll_secs)))
        v = variant_of(bucket(uid))
        if v == "holdout":
            holdout_users.append((uid, t))
        else:
            assigned.append((uid, v, t))
    assigned.sort(key=lambda r: (r[2], r[0]))

    events: list[
        tuple[datetime, str, str, int, str]
    ] = []  # (time, user, event, schema, value)
    converters = set()
    for uid, v, t in assigned:
        events.append((t, uid, "page_view", 3, ""))
        if rng.random() < 0.3:
            events.append(
                (
                    t + timedelta(seconds=int(rng.integers(60, 6 * 86400))),
                    uid,
                    "page_view",
                    3,
                    "",
                )
            )
        if rng.random() < true_rate[v]:
            converters.add(uid)
            off = 60 + rng.exponential(86400 * 0.9)
            if off >= WINDOW.total_seconds() - 60:
                off = rng.uniform(60, 6.5 * 86400)
            value = round(float(rng.lognormal(4.1, 0.6)), 2)
            events.append(
                (t + timedelta(seconds=int(off)), uid, "purchase", 5, f"{value:.2f}")
            )
            if rng.random() < 0.1:  # a second order inside the window
                off2 = min(
                    off + rng.uniform(3600, 3 * 86400), WINDOW.total_seconds() - 120
                )
                value2 = round(float(rng.lognormal(4.1, 0.6)), 2)
                events.append(
                    (
                        t + timedelta(seconds=int(off2)),
                        uid,
                        "purchase",
                        5,
                        f"{value2:.2f}",
                    )
                )

    # traps for a replay: only users without a qualifying purchase, so each one matters
    non_conv = [r for r in assigned if r[0] not in converters]
    pick = rng.choice(len(non_conv), size=40 + 35 + 3 + 12 + 10, replace=False)
    traps = [non_conv[i] for i in pick]
    planted = {
        "before_exposure": 0,
        "after_window": 0,
        "at_window_end": 0,
        "old_schema": 0,
    }
    for j, (uid, _variant, t) in enumerate(traps):
        value = f"{float(rng.lognormal(4.1, 0.6)):.2f}"
        if j < 40:
            events.append(
                (
                    t - timedelta(seconds=int(rng.integers(3600, 3 * 86400))),
                    uid,
                    "purchase",
                    5,
                    value,
                )
            )
            planted["before_exposure"] += 1
        elif j < 75:
            events.append(
                (
                    t + WINDOW + timedelta(seconds=int(rng.integers(3600, 5 * 86400))),
                    uid,
                    "purchase",
                    5,
                    value,
                )
            )
            planted["after_window"] += 1
        elif j < 78:
            events.append((t + WINDOW, uid, "purchase", 5, value))
            planted["at_window_end"] += 1
        elif j < 90:
            events.append(
                (
                    t + timedelta(seconds=int(rng.integers(600, 2 * 86400))),
                    uid,
                    "purchase",
                    4,
                    value,
                )
            )
            planted["old_schema"] += 1
        else:
            events.append(
                (
                    t + timedelta(seconds=int(rng.integers(60, 3600))),
                    uid,
                    "page_view",
                    2,
                    "",
                )
            )
    for uid, t in holdout_users[:25]:
        events.append((t, uid, "page_view", 3, ""))
        if rng.random() < 0.5:
            events.append(
                (
                    t + timedelta(seconds=int(rng.integers(600, 86400))),
                    uid,
                    "purchase",
                    5,
                    f"{float(rng.lognormal(4.1, 0.6)):.2f}",
                )
            )
    events.sort(key=lambda e: (e[0], e[1], e[2]))

    write_text(
        d / "assignments.csv",
        "user_id,experiment_id,variant,assigned_at\n"
        + "".join(f"{u},{EXP_ID},{v},{iso(t)}\n" for u, v, t in assigned),
    )
    write_text(
        d / "events.csv",
        "user_id,event,event_time,schema_version,value\n"
        + "".join(f"{u},{e},{iso(t)},{s},{val}\n" for t, u, e, s, val in events),
    )

    experiment = {
        "experiment_id": EXP_ID,
        "name": "Inline address validation at checkout",
        "description": "Treatment validates and autocompletes the shipping address inline on the checkout "
        "page (instead of failing on submit). Hypothesis: fewer abandoned checkouts, higher 7-day conversion.",
        "owner": "checkout-growth",
        "unit": "user_id",
        "variants": {"control": 0.5, "treatment": 0.5},
        "variant_descriptions": {
            "control": "current checkout: address checked only on submit",
            "treatment": "inline address validation + autocomplete",
        },
        "eligibility": [
            "country == 'US'",
            "platform in ['web', 'android']",
            "cart_item_count >= 1",
            "not is_internal_or_test_account",
        ],
        "assignment": {
            "method": "deterministic hash bucketing",
            "bucket": "int(sha256(experiment_id + ':' + user_id).hexdigest()[:8], 16) % 10000",
            "buckets": {
                "holdout": "[0, 500)",
                "control": "[500, 5250)",
                "treatment": "[5250, 10000)",
            },
            "exposure": "assignment is logged at the user's first eligible checkout page_view (assigned_at)",
            "log": "assignments.csv",
        },
        "holdout": {
            "share": 0.05,
            "rule": "bucket < 500: long-term holdout, sees control, not logged in assignments.csv and not analysed",
        },
        "start": "2025-02-03T00:00:00+00:00",
        "end": "2025-02-17T00:00:00+00:00",
        "timezone": "UTC",
        "analysis_after": "2025-02-24T00:00:00+00:00",
    }
    write_text(d / "experiment.yaml", yaml_doc(experiment))
    metric_defs = {
        "conversion_v2": {
            "version": 2,
            "formula": "purchasers / eligible_users",
            "description": "purchases/eligible_users within 7 days of exposure: share of assigned users with at "
            "least one qualifying purchase in [assigned_at, assigned_at + 7 days)",
            "numerator": "distinct user_id with >= 1 qualifying purchase",
            "denominator": "distinct user_id in assignments.csv for this experiment_id (control or treatment)",
            "exposure": "assigned_at",
            "window_days": 7,
            "window": "[exposure, exposure + 7d), end exclusive",
            "filters": [
                "event == 'purchase'",
                "schema_version == 5",
                "event_time >= assigned_at",
                "event_time < assigned_at + interval '7 days'",
                "user_id in assignments (holdout and unassigned users excluded)",
            ],
            "changelog": "v2: window anchored at exposure instead of experiment start; v1 counted all purchases "
            "until the experiment end",
        },
        "avg_order_value_v1": {
            "version": 1,
            "formula": "sum(value) / count(*) over qualifying purchases (same filters and window as conversion_v2)",
            "unit": "USD",
            "window_days": 7,
        },
        "page_views_per_user_v1": {
            "version": 1,
            "formula": "count(page_view, schema_version == 3, in window) / eligible_users",
            "window_days": 7,
        },
    }
    write_text(d / "metric_definitions.yaml", yaml_doc(metric_defs))
    write_text(
        d / "event_schemas.yaml",
        "# event schema versions in force during the experiment\n"
        "# page_view v3: adds checkout_step; purchase v5: adds order_status (test orders removed upstream)\n"
        "page_view: 3\npurchase: 5\n",
    )
    plan = {
        "frozen_at": "2025-01-30T17:00:00+00:00",
        "primary_metric": "conversion_v2",
        "hypothesis": "treatment conversion_v2 > control conversion_v2",
        "test": "two-proportion z-test, two-sided; 95% Wald CI for the absolute difference",
        "alpha": 0.05,
        "power": 0.8,
        "minimum_detectable_effect": {"absolute": 0.01, "baseline_rate": 0.08},
        "planned_units_per_variant": 10000,
        "guardrails": [
            {
                "metric": "avg_order_value_v1",
                "rule": "treatment must not be more than 2% (relative) below control",
            },
            {"metric": "page_views_per_user_v1", "rule": "report only"},
        ],
        "stopping_rule": "fixed horizon: enroll 2025-02-03..2025-02-17, analyse once on 2025-02-24 after every "
        "assigned user has a full 7-day window; no interim looks, no early stopping",
        "exclusions": "holdout users; events with schema versions other than event_schemas.yaml",
        "query": "query.sql",
    }
    write_text(d / "analysis_plan.yaml", yaml_doc(plan))
    write_text(
        d / "query.sql",
        f"""-- Final analysis of {EXP_ID}: conversion_v2 (v2), 7-day window from exposure.
-- Run 2025-02-25 against the warehouse snapshot exported as assignments.csv / events.csv.
WITH exposed AS (
    SELECT user_id, variant, assigned_at
    FROM experiments.assignments
    WHERE experiment_id = '{EXP_ID}'
      AND variant IN ('control', 'treatment')
),
qualifying_purchases AS (
    SELECT x.user_id, x.variant, e.value
    FROM exposed AS x
    JOIN analytics.events AS e
      ON e.user_id = x.user_id
    WHERE e.event = 'purchase'
      AND e.schema_version = 5
      AND e.event_time >= x.assigned_at
      AND e.event_time <  x.assigned_at + INTERVAL '7' DAY
),
per_user AS (
    SELECT x.variant, x.user_id, COUNT(q.user_id) AS purchases
    FROM exposed AS x
    LEFT JOIN qualifying_purchases AS q ON q.user_id = x.user_id
    GROUP BY x.variant, x.user_id
)
SELECT variant,
       COUNT(*)                                        AS units,
       SUM(CASE WHEN purchases > 0 THEN 1 ELSE 0 END)  AS conversions,
       AVG(CASE WHEN purchases > 0 THEN 1.0 ELSE 0.0 END) AS rate
FROM per_user
GROUP BY variant
ORDER BY variant;
-- z-test and CI computed from these counts in analysis/ab_readout.py (two-proportion z-test).
""",
    )

    # ---- replay the written files to compute the saved result --------------------------------
    result = replay_ab(d)
    write_json(d / "result.json", result)
    c, tr = result["variants"]["control"], result["variants"]["treatment"]
    sig = "significant" if result["significant"] else "not significant"
    aov = result["guardrails"]["avg_order_value_v1"]
    write_text(
        d / "notes.md",
        "# Readout: inline address validation\n\n"
        f"conversion_v2: control {c['rate']:.4f} ({c['conversions']}/{c['units']}), treatment {tr['rate']:.4f} "
        f"({tr['conversions']}/{tr['units']}).\n"
        f"Absolute lift {result['absolute_lift']:+.4f} (95% CI {result['ci95_absolute'][0]:+.4f} .. "
        f"{result['ci95_absolute'][1]:+.4f}), relative {result['relative_lift']:+.1%}, p = {result['p_value']:.4f}: "
        f"{sig} at alpha 0.05.\n"
        f"Guardrail avg_order_value_v1: control {aov['control']:.2f}, treatment {aov['treatment']:.2f} USD "
        f"({aov['relative_change']:+.1%}), {'passed' if aov['passed'] else 'FAILED'} (rule: {aov['rule']}).\n\n"
        "Caveats for anyone replaying this:\n"
        "- A legacy iOS build kept sending purchase v4 for a few days; v4 rows are excluded by the metric filter.\n"
        "- Purchases before assigned_at or at/after assigned_at + 7 days do not count (window is end-exclusive).\n"
        "- Holdout users show up in events.csv but not in assignments.csv; they are not analysed.\n",
    )
    summary["ab"] = result
    summary["ab_planted"] = planted


def replay_ab(d: Path) -> dict:
    """Recompute the primary metric and guardrails from the files as written."""
    units: dict[str, dict] = {}
    with open(d / "assignments.csv", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            u, exp, v, t = line.rstrip("\n").split(",")
            if exp == EXP_ID and v in ("control", "treatment"):
                units[u] = {
                    "variant": v,
                    "t": parse_iso(t),
                    "purchases": 0,
                    "value": 0.0,
                    "pv": 0,
                }
    excluded = {
        "purchase_before_exposure": 0,
        "purchase_outside_window": 0,
        "old_schema_version": 0,
        "not_assigned": 0,
    }
    with open(d / "events.csv", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            u, ev, t, s, val = line.rstrip("\n").split(",")
            rec = units.get(u)
            if rec is None:
                excluded["not_assigned"] += 1
                continue
            want = 5 if ev == "purchase" else 3
            if int(s) != want:
                excluded["old_schema_version"] += 1
                continue
            et = parse_iso(t)
            if et < rec["t"]:
                if ev == "purchase":
                    excluded["purchase_before_exposure"] += 1
                continue
            if et >= rec["t"] + WINDOW:
                if ev == "purchase":
                    excluded["purchase_outside_window"] += 1
                continue
            if ev == "purchase":
                rec["purchases"] += 1
                rec["value"] += float(val)
            else:
                rec["pv"] += 1
    agg = {}
    for v in ("control", "treatment"):
        rs = [r for r in units.values() if r["variant"] == v]
        n = len(rs)
        conv = sum(1 for r in rs if r["purchases"] > 0)
        orders = sum(r["purchases"] for r in rs)
        revenue = sum(r["value"] for r in rs)
        agg[v] = {
            "units": n,
            "conversions": conv,
            "rate": r6(conv / n),
            "_orders": orders,
            "_revenue": revenue,
            "_pv": sum(r["pv"] for r in rs),
        }
    n1, x1 = agg["control"]["units"], agg["control"]["conversions"]
    n2, x2 = agg["treatment"]["units"], agg["treatment"]["conversions"]
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (p2 - p1) / se_pooled
    pval = 2 * norm.sf(abs(z))
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    zc = norm.ppf(0.975)
    guard = {}
    for v in ("control", "treatment"):
        a = agg[v]
        guard[v] = {
            "avg_order_value_v1": r6(round(a["_revenue"] / a["_orders"], 6)),
            "orders": a["_orders"],
            "page_views_per_user_v1": r6(a["_pv"] / a["units"]),
        }
    aov_rel = (
        guard["treatment"]["avg_order_value_v1"]
        / guard["control"]["avg_order_value_v1"]
        - 1
    )
    return {
        "experiment_id": EXP_ID,
        "metric": "conversion_v2",
        "metric_version": 2,
        "computed_at": "2025-02-25T09:30:00Z",
        "query": "query.sql",
        "test": "two-proportion z-test (pooled SE), two-sided; CI: Wald with unpooled SE",
        "alpha": 0.05,
        "variants": {
            v: {k: agg[v][k] for k in ("units", "conversions", "rate")}
            for v in ("control", "treatment")
        },
        "absolute_lift": r6(p2 - p1),
        "relative_lift": r6((p2 - p1) / p1),
        "ci95_absolute": [r6(p2 - p1 - zc * se), r6(p2 - p1 + zc * se)],
        "ci95_relative": [r6((p2 - p1 - zc * se) / p1), r6((p2 - p1 + zc * se) / p1)],
        "z": r6(z),
        "p_value": r6(pval),
        "significant": bool(pval < 0.05),
        "guardrails": {
            "avg_order_value_v1": {
                "control": guard["control"]["avg_order_value_v1"],
                "treatment": guard["treatment"]["avg_order_value_v1"],
                "relative_change": r6(aov_rel),
                "rule": "treatment >= control * 0.98",
                "passed": bool(aov_rel >= -0.02),
            },
            "page_views_per_user_v1": {
                "control": guard["control"]["page_views_per_user_v1"],
                "treatment": guard["treatment"]["page_views_per_user_v1"],
            },
        },
        "excluded_events": excluded,
    }


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------


def safe_reset(out: Path) -> None:
    out = out.resolve()
    forbidden = {Path("/").resolve(), Path.home().resolve(), REPO_ROOT.resolve()}
    if out in forbidden or out in REPO_ROOT.resolve().parents:
        sys.exit(f"refusing to delete {out}")
    if out.exists():
        if not out.is_dir():
            sys.exit(f"{out} exists and is not a directory")
        unexpected = sorted(p.name for p in out.iterdir() if p.name not in TOP_LEVEL)
        if unexpected:
            sys.exit(
                f"refusing to delete {out}: it holds files this script did not make: {unexpected[:5]}"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / "sample_runs",
        help="output folder (deleted and recreated)",
    )
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    safe_reset(args.out)
    summary: dict = {}
    make_fraud(args.out, summary)
    make_sweep(args.out, summary)
    make_abtest(args.out, summary)
    elapsed = time.perf_counter() - t0

    print("fraud-model val_auc (final epoch):")
    for num, a in sorted(summary["fraud_auc"].items()):
        print(f"  run-{num:03d}  {a:.6f}")
    print(
        f"baseline replicates run-017..020: mean {summary['base_mean']:.6f}, seed std {summary['seed_std']:.6f}"
    )
    print(
        f"regression runs 026/027/029 (feature '{WEAK_FEATURE}' dropped): mean {summary['reg_mean']:.6f}, "
        f"change {summary['regression']:+.6f} ({summary['regression'] / summary['base_mean']:+.2%}), "
        f"paired by seed {summary['paired_regression']:+.6f}, "
        f"= {abs(summary['regression']) / summary['seed_std']:.1f} x seed std"
    )
    print(
        f"failed run-021: non-finite loss at epoch {summary['failed_at'][0]}, step {summary['failed_at'][1]}"
    )
    print(
        f"threshold run-022: val_f1 {summary['f1_022_vs_017'][1]} at 0.4 (same model; {summary['f1_022_vs_017'][0]} at 0.5)"
    )
    print(
        f"incomplete run-028: {summary['incomplete_epochs']} epochs written, metrics.json truncated"
    )
    print("sweep-07 leaderboard:")
    for run_id, f1, tt, sig, _, seed in summary["sweep"]:
        print(f"  {run_id}  val_F1 {f1:.6f}  train_time {tt}  {sig}  seed {seed}")
    ab = summary["ab"]
    print(
        f"A/B {EXP_ID}: control {ab['variants']['control']['rate']:.4f} (n={ab['variants']['control']['units']}), "
        f"treatment {ab['variants']['treatment']['rate']:.4f} (n={ab['variants']['treatment']['units']}), "
        f"lift {ab['absolute_lift']:+.4f}, p={ab['p_value']:.4f}; planted traps {summary['ab_planted']}"
    )
    print(f"wrote {args.out} in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

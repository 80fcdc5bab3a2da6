#!/usr/bin/env python3
"""Calibration of ``runsift explain``'s verdicts (issue 10, "Verdicts you can trust").

Trains real small models, writes their run folders, indexes them once and asks ``explain``
about thousands of pairs whose truth is known, then prints how often it says "real" when
only seeds differ (false "real" rate) and when a planted change really moved the metric
(power), with counts and 95% Wilson intervals.

The model: logistic regression (numpy, mini-batch SGD, 2 epochs, batch 16, constant learning
rate, N(0, 1) initial weights) on a fixed synthetic binary table (data seed 0: 4,000 train
rows, 12 features ``f00..f11``, ~28% positives, a misspecified truth with an interaction and
a square term). The **training seed** draws the initial weights and the shuffling of every
epoch, so the seed-to-seed spread of val AUC is what SGD really does, not injected noise.
Validation: 20,000 rows; the "3,000 val rows" runs are evaluated on the first 3,000 of them.

Conditions, each case in its own project folder (explain compares only runs of a project):

* **null** - A and B differ in seeds and in a config key the trainer reads but that cannot
  change results (``num_workers``, ``log_every``); explain cannot know that it has no effect.
  The predictions path also has a "same config" null (seeds only).
* **planted** - B drops an informative feature from ``features`` (``f07`` by default; the
  effect sizes, measured on the seed pool, are printed with the table).

Paths:

1. replicate - 3 seeds of A, 3 of B (explain should use Welch's test);
2. one-sided - k in {2,3,4,5} seeds of A, one run of B;
3. predictions - one run each, with ``artifacts/val_predictions.csv`` on the same val ids
   (3,000 and 20,000 rows); two rates: "real" of any kind, and "real" beyond seed noise
   (``noise.kind`` in seed/both; today's explain has no ``noise.kind``: n/a);
4. cause ranking - A and B differ in two config keys; the project also holds A and 2
   replicates, and 1-2 seeds of each single-key change. Null: both keys have no effect
   (share of cases where either gets confidence "high" / "medium"). Planted: ``features``
   planted, ``log_every`` not (planted factor ranked first with "high" / "medium", and the
   no-effect key's confidence).

Every (effective config, seed) model is trained once. A no-effect key gives bit-identical
results (checked at start), so runs that differ only in such a key reuse the model. Within a
cell the cases use disjoint seeds, so its cases are independent; different cells reuse the
same seed pool, so cells are correlated with each other (each cell's rate is still unbiased).

    python benchmarks/bench_calibration.py                 # 200 cases per cell (a few minutes)
    python benchmarks/bench_calibration.py --quick         # 20 cases per cell, a smoke run
    python benchmarks/bench_calibration.py --keep /tmp/calib   # keep runs + cache; reused next time

Options: ``--cases N`` per cell, ``--seed S`` (training-seed pool and case draws; the data is
fixed), ``--keep DIR`` (keep runs and cache there; a later run with the same options reuses
them and only re-asks explain), ``--resamples R`` passed to explain's paired bootstrap
(default 2,000; explain's own default is 10,000, which costs ~1.7 s a case at 20,000 rows),
``--drop FEATURE`` the planted change, ``--workers W`` for ``Catalog.open``.

No asserts of figures: it prints them, with the issue's targets next to them. Explain's time per
case is measured with the catalog and the cases frozen out of Python's collector (see main()).
"""

from __future__ import annotations

import os

# Single-threaded BLAS: faster for these tiny matrices, and the same bytes on any machine.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from scipy.special import expit  # noqa: E402
from scipy.stats import kurtosis, rankdata, skew  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Data and trainer
# ---------------------------------------------------------------------------------------------

DATA_SEED = 0
N_TRAIN = 4_000
N_VAL = 20_000
VAL_SIZES = (3_000, 20_000)
FEATURES = [f"f{i:02d}" for i in range(12)]
TRUE_WEIGHTS = np.array([1.2, -0.9, 0.8, 0.6, -0.5, 0.4, 0.3, -0.3, 0.25, 0.2, 0.15, 0.1])
"""A graded tail, so that dropping f06..f09 costs a few seed standard deviations of val AUC."""
BASE_SEED = 1_000
PLANTED_SEED = 500_000
"""Seed ranges of the two configs: disjoint, so no A run shares its seed with a B run."""

BASE_CONFIG: dict[str, Any] = {
    "model": {"type": "logistic_regression", "init_scale": 1.0, "l2": 0.001},
    "optimizer": {"name": "sgd", "lr": 0.05, "batch_size": 16},
    "epochs": 2,
    "features": FEATURES,
    "log_every": 100,
    "num_workers": 2,
}
NO_EFFECT = {"num_workers": 4, "log_every": 50}
"""Changes of keys the trainer reads that cannot change its results."""

ENV_TXT = "Python 3.11.9\nOS: Ubuntu 22.04\nnumpy==1.26.4\nscipy==1.13.1\n"
COMMIT_TXT = hashlib.sha1(b"runsift-calibration-trainer").hexdigest() + "\n"
DEFINITIONS = {"val_auc": {"version": "1", "threshold": 0.5, "goal": "max"}}


@dataclass(frozen=True)
class Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    snapshot: str


def make_data() -> Data:
    rng = np.random.default_rng(DATA_SEED)
    n = N_TRAIN + N_VAL
    x = rng.normal(size=(n, len(FEATURES)))
    logit = -1.2 + x @ TRUE_WEIGHTS + 0.6 * x[:, 0] * x[:, 1] - 0.4 * x[:, 2] ** 2
    y = (rng.random(n) < expit(logit)).astype(np.int8)
    digest = hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest()[:16]
    return Data(x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:], f"synth_binary_v1 npz hash=0x{digest}\n")


def train(config: dict[str, Any], seed: int, data: Data) -> list[tuple[np.ndarray, float]]:
    """(weights, bias) after each epoch. ``log_every`` sets how often the loss is logged and
    ``num_workers`` how many loader workers cut batches: neither changes the batches or the steps."""
    cols = [FEATURES.index(f) for f in config["features"]]
    x, y = data.x_train[:, cols], data.y_train
    lr, bs = float(config["optimizer"]["lr"]), int(config["optimizer"]["batch_size"])
    l2, scale = float(config["model"]["l2"]), float(config["model"]["init_scale"])
    log_every, workers = int(config["log_every"]), int(config["num_workers"])
    if log_every < 1 or workers < 1:
        raise ValueError("log_every and num_workers must be positive")
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, scale, size=len(cols))
    b = 0.0
    log: list[tuple[int, float]] = []
    out = []
    step = 0
    for _epoch in range(int(config["epochs"])):
        perm = rng.permutation(len(y))
        starts = range(0, len(y), bs)
        # the loader's workers each cut every workers-th batch; batches are consumed in order
        shards = [list(starts)[i::workers] for i in range(workers)]
        order = sorted(s for shard in shards for s in shard)
        for start in order:
            idx = perm[start : start + bs]
            xb = x[idx]
            p = expit(xb @ w + b)
            g = p - y[idx]
            w = w - lr * (xb.T @ g / len(idx) + l2 * w)
            b = b - lr * float(g.mean())
            step += 1
            if step % log_every == 0:
                log.append((step, float(-np.mean(y[idx] * np.log(p + 1e-12) + (1 - y[idx]) * np.log(1 - p + 1e-12)))))
        out.append((w.copy(), b))
    return out


def scores(config: dict[str, Any], weights: tuple[np.ndarray, float], data: Data, n_val: int) -> np.ndarray:
    cols = [FEATURES.index(f) for f in config["features"]]
    w, b = weights
    return np.round(expit(data.x_val[:n_val, cols] @ w + b), 6)


def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    ranks = rankdata(s)
    npos = float(y.sum())
    nneg = float(len(y) - npos)
    return float((ranks[y == 1].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def config_for(model: str, overrides: dict[str, Any], drop: str) -> dict[str, Any]:
    cfg = json.loads(json.dumps(BASE_CONFIG))
    if model == "planted":
        cfg["features"] = [f for f in FEATURES if f != drop]
    cfg.update(overrides)
    return cfg


class Pool:
    """Trains each (model, seed) once and keeps its per-epoch weights; AUCs on demand."""

    def __init__(self, data: Data, drop: str, seed: int = 0) -> None:
        self.data, self.drop = data, drop
        self.offset = 100_000_000 * seed
        self.weights: dict[tuple[str, int], list[tuple[np.ndarray, float]]] = {}
        self._auc: dict[tuple[str, int, int], list[float]] = {}
        self.trained = 0
        self.train_s = 0.0

    def seed_value(self, model: str, index: int) -> int:
        return (BASE_SEED if model == "base" else PLANTED_SEED) + self.offset + index

    def get(self, model: str, seed: int) -> list[tuple[np.ndarray, float]]:
        key = (model, seed)
        if key not in self.weights:
            t = time.perf_counter()
            self.weights[key] = train(config_for(model, {}, self.drop), seed, self.data)
            self.train_s += time.perf_counter() - t
            self.trained += 1
        return self.weights[key]

    def aucs(self, model: str, seed: int, n_val: int) -> list[float]:
        """Val AUC after each epoch on the first ``n_val`` val rows (scores rounded as written)."""
        key = (model, seed, n_val)
        if key not in self._auc:
            cfg = config_for(model, {}, self.drop)
            y = self.data.y_val[:n_val]
            self._auc[key] = [roc_auc(y, scores(cfg, wb, self.data, n_val)) for wb in self.get(model, seed)]
        return self._auc[key]


def check_no_effect(data: Data, drop: str) -> None:
    """The reuse of models across no-effect keys is valid only if they really change nothing."""
    ref = train(config_for("base", {}, drop), BASE_SEED, data)
    for key, value in NO_EFFECT.items():
        other = train(config_for("base", {key: value}, drop), BASE_SEED, data)
        if not all(np.array_equal(w1, w2) and b1 == b2 for (w1, b1), (w2, b2) in zip(ref, other)):
            raise RuntimeError(f"{key}={value} changed the trained weights: the benchmark's model reuse is invalid")


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    path: str  # replicate | one-sided | predictions | cause
    condition: str  # null | null, same config | planted
    k: int | None
    val: int

    @property
    def label(self) -> str:
        if self.path == "predictions":
            return f"{self.val:,} val rows"
        if self.path == "cause":
            return f"k=3 of A, 1-2 per key; {self.val:,} rows"
        if self.path == "one-sided":
            return f"k={self.k} vs 1; {self.val:,} rows"
        return f"k={self.k} vs {self.k}; {self.val:,} rows"

    @property
    def slug(self) -> str:
        cond = {"null": "null", "null, same config": "null-same", "planted": "planted"}[self.condition]
        k = f"-k{self.k}" if self.k else ""
        return f"{self.path}-{cond}{k}-v{self.val}"


@dataclass(frozen=True)
class RunSpec:
    name: str
    model: str  # base | planted
    seed: int
    overrides: dict[str, Any] = field(default_factory=dict)
    preds: bool = False


@dataclass
class Case:
    cell: Cell
    project: str
    runs: list[RunSpec]
    a: str
    b: str
    keys: dict[str, str] = field(default_factory=dict)
    """cause path: config key -> "planted" | "none" (the keys A and B differ in)."""


class Seeds:
    """Disjoint seeds within a cell: the next unused seed of each model's pool."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.next = {"base": 0, "planted": 0}

    def take(self, model: str) -> int:
        i = self.next[model]
        self.next[model] += 1
        return self.pool.seed_value(model, i)


def plan(cases: int, pool: Pool, rng: np.random.Generator) -> list[Case]:
    out: list[Case] = []
    nw = {"num_workers": NO_EFFECT["num_workers"]}

    def cell_cases(cell: Cell, build) -> None:  # type: ignore[no-untyped-def]
        seeds = Seeds(pool)
        for j in range(cases):
            out.append(build(cell, f"{cell.slug}-{j:04d}", seeds))

    # 1. replicate: 3 + 3
    for cond in ("null", "planted"):

        def rep(cell: Cell, project: str, s: Seeds) -> Case:
            b_model = "planted" if cell.condition == "planted" else "base"
            b_over = {} if cell.condition == "planted" else nw
            runs = [RunSpec(f"a{i + 1}", "base", s.take("base")) for i in range(3)]
            runs += [RunSpec(f"b{i + 1}", b_model, s.take(b_model), b_over) for i in range(3)]
            return Case(cell, project, runs, "a1", "b1")

        cell_cases(Cell("replicate", cond, 3, 3_000), rep)
    # 2. one-sided: k of A, 1 of B
    for k in (2, 3, 4, 5):
        for cond in ("null", "planted"):

            def one(cell: Cell, project: str, s: Seeds) -> Case:
                b_model = "planted" if cell.condition == "planted" else "base"
                b_over = {} if cell.condition == "planted" else nw
                assert cell.k is not None
                runs = [RunSpec(f"a{i + 1}", "base", s.take("base")) for i in range(cell.k)]
                runs.append(RunSpec("b1", b_model, s.take(b_model), b_over))
                return Case(cell, project, runs, "a1", "b1")

            cell_cases(Cell("one-sided", cond, k, 3_000), one)
    # 3. predictions: one run each, predictions on the same val ids
    for val in VAL_SIZES:
        for cond in ("null, same config", "null", "planted"):

            def pred(cell: Cell, project: str, s: Seeds) -> Case:
                b_model = "planted" if cell.condition == "planted" else "base"
                b_over = nw if cell.condition == "null" else {}
                runs = [RunSpec("a1", "base", s.take("base"), {}, True), RunSpec("b1", b_model, s.take(b_model), b_over, True)]
                return Case(cell, project, runs, "a1", "b1")

            cell_cases(Cell("predictions", cond, None, val), pred)
    # 4. cause ranking: A and B differ in two keys; runs that change one key each; A replicates
    for cond in ("null", "planted"):

        def cause(cell: Cell, project: str, s: Seeds) -> Case:
            planted = cell.condition == "planted"
            k1 = "features" if planted else "num_workers"
            k2 = "log_every"
            k1_model = "planted" if planted else "base"
            k1_over = {} if planted else {"num_workers": NO_EFFECT["num_workers"]}
            k2_over = {"log_every": NO_EFFECT["log_every"]}
            n1, n2 = (int(v) for v in rng.integers(1, 3, size=2))
            runs = [RunSpec(f"a{i + 1}", "base", s.take("base")) for i in range(3)]
            runs += [RunSpec(f"only-{k1}-{i + 1}", k1_model, s.take(k1_model), k1_over) for i in range(n1)]
            runs += [RunSpec(f"only-{k2}-{i + 1}", "base", s.take("base"), k2_over) for i in range(n2)]
            runs.append(RunSpec("b1", k1_model, s.take(k1_model), {**k1_over, **k2_over}))
            return Case(cell, project, runs, "a1", "b1", {k1: "planted" if planted else "none", k2: "none"})

        cell_cases(Cell("cause", cond, 3, 3_000), cause)
    return out


# ---------------------------------------------------------------------------------------------
# Run folders
# ---------------------------------------------------------------------------------------------


def _yaml_scalar(v: Any) -> str:
    return json.dumps(v) if isinstance(v, str) and not v.isidentifier() else str(v)


def to_yaml(cfg: dict[str, Any], indent: int = 0) -> str:
    pad = "  " * indent
    lines = []
    for k, v in cfg.items():
        if isinstance(v, dict):
            lines.append(f"{pad}{k}:")
            lines.append(to_yaml(v, indent + 1))
        elif isinstance(v, list):
            lines.append(f"{pad}{k}: [{', '.join(_yaml_scalar(x) for x in v)}]")
        else:
            lines.append(f"{pad}{k}: {_yaml_scalar(v)}")
    return "\n".join(lines)


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def write_cases(root: Path, store: Path, cases: list[Case], pool: Pool) -> int:
    data = pool.data
    store.mkdir(parents=True, exist_ok=True)
    val_ids = [f"v{i:05d}" for i in range(N_VAL)]
    for n in VAL_SIZES:
        _write(store / f"val_ids_{n}.txt", "\n".join(val_ids[:n]) + "\n")
    n_runs = 0
    for case in cases:
        n_val = case.cell.val
        for spec in case.runs:
            folder = root / case.project / spec.name
            (folder / "splits").mkdir(parents=True)
            cfg = config_for(spec.model, spec.overrides, pool.drop)
            aucs = pool.aucs(spec.model, spec.seed, n_val)
            metrics = {
                "final": {"val_auc": aucs[-1]},
                "per_epoch": [{"epoch": e + 1, "val_auc": v} for e, v in enumerate(aucs)],
                "definitions": DEFINITIONS,
            }
            _write(folder / "config.yaml", to_yaml(cfg) + "\n")
            _write(folder / "seeds.txt", f"global={spec.seed}, data_split=42\n")
            _write(folder / "metrics.json", json.dumps(metrics, indent=1) + "\n")
            _write(folder / "env.txt", ENV_TXT)
            _write(folder / "code_commit.txt", COMMIT_TXT)
            _write(folder / "data_snapshot.txt", data.snapshot)
            _link(store / f"val_ids_{n_val}.txt", folder / "splits" / "val_ids.txt")
            if spec.preds:
                src = store / f"preds-{spec.model}-{spec.seed}-{n_val}.csv"
                if not src.exists():
                    s = scores(config_for(spec.model, {}, pool.drop), pool.get(spec.model, spec.seed)[-1], data, n_val)
                    y = data.y_val[:n_val]
                    _write(src, "id,label,score\n" + "".join(f"{val_ids[i]},{y[i]},{s[i]:.6f}\n" for i in range(n_val)))
                (folder / "artifacts").mkdir()
                _link(src, folder / "artifacts" / "val_predictions.csv")
            n_runs += 1
    return n_runs


# ---------------------------------------------------------------------------------------------
# Asking explain
# ---------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    cell: Cell
    verdict: str
    method: str
    kind: str | None
    has_kind: bool
    comparable: Any
    causes: list[tuple[str, str, str]]  # (section, path, confidence) in explain's order
    keys: dict[str, str]
    seconds: float = 0.0
    error: str = ""


def ask(cat: Any, case: Case, resamples: int) -> Outcome:
    from runsift.core.explain import explain

    a, b = f"{case.project}/{case.a}", f"{case.project}/{case.b}"
    t = time.perf_counter()
    try:
        e = explain(cat, a, b, "val_auc", resamples=resamples)
    except Exception as exc:
        return Outcome(case.cell, "error", "error", None, False, None, [], case.keys, time.perf_counter() - t, f"{type(exc).__name__}: {exc}")
    has_kind = hasattr(e.noise, "kind")
    return Outcome(
        case.cell,
        e.verdict,
        e.noise.method,
        getattr(e.noise, "kind", None),
        has_kind,
        e.comparable,
        [(c.section, c.path, c.confidence) for c in e.causes],
        case.keys,
        time.perf_counter() - t,
    )


# ---------------------------------------------------------------------------------------------
# Table
# ---------------------------------------------------------------------------------------------


def wilson(k: int, n: int) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    return float(lo), float(hi)


def rate(k: int, n: int) -> tuple[str, str]:
    if n == 0:
        return "—", "—"
    lo, hi = wilson(k, n)
    return f"{k}/{n} = {100 * k / n:.1f}%", f"{100 * lo:.1f}–{100 * hi:.1f}%"


def verdict_table(outcomes: list[Outcome], cells: list[Cell]) -> str:
    head = (
        '| path | condition | k / val rows | cases | "real" | 95% CI | "real" beyond seed noise | 95% CI | target |\n'
        "|---|---|---|---|---|---|---|---|---|"
    )
    rows = [head]
    for cell in cells:
        if cell.path == "cause":
            continue
        got = [o for o in outcomes if o.cell == cell]
        n = len(got)
        real = sum(o.verdict == "real" for o in got)
        r, ci = rate(real, n)
        if any(o.has_kind for o in got):
            beyond = sum(o.verdict == "real" and o.kind in ("seed", "both") for o in got)
            rb, cib = rate(beyond, n)
        else:
            rb, cib = "n/a (no noise.kind)", "—"
        target = "—"
        if cell.condition.startswith("null"):
            target = '"real" ≤ 5%' if cell.path == "one-sided" else "beyond seed ≤ 5%"
        rows.append(f"| {cell.path} | {cell.condition} | {cell.label} | {n} | {r} | {ci} | {rb} | {cib} | {target} |")
    return "\n".join(rows)


def cause_table(outcomes: list[Outcome], cells: list[Cell]) -> str:
    head = "| path | condition | cases | measure | rate | 95% CI | target |\n|---|---|---|---|---|---|---|"
    rows = [head]
    for cell in cells:
        if cell.path != "cause":
            continue
        got = [o for o in outcomes if o.cell == cell]
        n = len(got)

        def conf_of(o: Outcome, key: str) -> str | None:
            return next((c for s, p, c in o.causes if s == "config" and p == key), None)

        def none_keys(o: Outcome) -> list[str]:
            return [k for k, role in o.keys.items() if role == "none"]

        measures: list[tuple[str, int, str]] = []
        if cell.condition == "null":
            measures.append(('a no-effect key "high"', sum(any(conf_of(o, k) == "high" for k in none_keys(o)) for o in got), "≤ 5%"))
            measures.append(('a no-effect key "medium"', sum(any(conf_of(o, k) == "medium" for k in none_keys(o)) for o in got), "≤ 10%"))
        else:

            def first(o: Outcome, conf: str) -> bool:
                planted = next(k for k, role in o.keys.items() if role == "planted")
                return bool(o.causes) and o.causes[0][:2] == ("config", planted) and o.causes[0][2] == conf

            measures.append(('planted key ranked first, "high"', sum(first(o, "high") for o in got), "—"))
            measures.append(('planted key ranked first, "medium"', sum(first(o, "medium") for o in got), "—"))
            measures.append(('the no-effect key "high"', sum(any(conf_of(o, k) == "high" for k in none_keys(o)) for o in got), "≤ 5%"))
            measures.append(('the no-effect key "medium"', sum(any(conf_of(o, k) == "medium" for k in none_keys(o)) for o in got), "≤ 10%"))
        for name, k, target in measures:
            r, ci = rate(k, n)
            rows.append(f"| cause | {cell.condition} | {n} | {name} | {r} | {ci} | {target} |")
    return "\n".join(rows)


def diagnostics(outcomes: list[Outcome], cells: list[Cell]) -> str:
    rows = ["| cell | verdicts | noise methods | noise.kind | comparable | explain ms/case |", "|---|---|---|---|---|---|"]
    for cell in cells:
        got = [o for o in outcomes if o.cell == cell]

        def fmt(counter: Counter) -> str:  # type: ignore[type-arg]
            return ", ".join(f"{k} {v}" for k, v in counter.most_common())

        kinds = fmt(Counter(str(o.kind) for o in got)) if any(o.has_kind for o in got) else "n/a"
        rows.append(
            f"| {cell.slug} | {fmt(Counter(o.verdict for o in got))} | {fmt(Counter(o.method for o in got))} | {kinds} | "
            f"{fmt(Counter(str(o.comparable) for o in got))} | {1000 * sum(o.seconds for o in got) / max(1, len(got)):.0f} |"
        )
    return "\n".join(rows)


def trainer_summary(pool: Pool, cases: list[Case]) -> dict[str, Any]:
    """Seed σ of val AUC over the base seeds used, and the planted effect (planted mean - base mean)."""
    used = {(r.model, r.seed) for c in cases for r in c.runs}
    out: dict[str, Any] = {"drop": pool.drop}
    for n in VAL_SIZES:
        base = np.array([pool.aucs(m, s, n)[-1] for m, s in sorted(used) if m == "base"])
        planted = np.array([pool.aucs(m, s, n)[-1] for m, s in sorted(used) if m == "planted"])
        sd_b, sd_p = float(base.std(ddof=1)), float(planted.std(ddof=1))
        effect = float(planted.mean() - base.mean())
        out[str(n)] = {
            "base_models": int(base.size),
            "planted_models": int(planted.size),
            "base_mean": float(base.mean()),
            "sigma_base": sd_b,
            "skew_base": float(skew(base)),
            "excess_kurtosis_base": float(kurtosis(base)),
            "sigma_planted": sd_p,
            "effect": effect,
            "effect_in_sigma": effect / sd_b,
        }
    return out


def summary_text(s: dict[str, Any]) -> str:
    lines = [f"Trainer: seed noise and planted effect (B drops {s['drop']}), over the models the cases use:"]
    for n in VAL_SIZES:
        d = s[str(n)]
        lines.append(
            f"  {n:>6,} val rows: base val AUC {d['base_mean']:.4f}, seed σ {d['sigma_base']:.5f} ({d['base_models']} seeds; "
            f"skew {d['skew_base']:+.2f}, excess kurtosis {d['excess_kurtosis_base']:+.1f}); "
            f"planted σ {d['sigma_planted']:.5f} ({d['planted_models']} seeds); effect {d['effect']:+.5f} = {d['effect_in_sigma']:+.2f} σ"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=200, help="cases per cell (default 200)")
    ap.add_argument("--quick", action="store_true", help="20 cases per cell: a smoke run")
    ap.add_argument("--seed", type=int, default=0, help="training-seed pool and case draws (the data is fixed)")
    ap.add_argument("--keep", type=Path, help="keep runs and cache in DIR; reused when the options match")
    ap.add_argument("--resamples", type=int, default=2_000, help="explain's paired-bootstrap resamples (default 2000)")
    ap.add_argument("--drop", default="f07", choices=FEATURES, help="the planted change: B's features lack this one")
    ap.add_argument("--workers", type=int, default=None, help="Catalog.open workers")
    args = ap.parse_args(argv)
    cases_n = 20 if args.quick else args.cases

    from runsift.core.catalog import Catalog

    t0 = time.perf_counter()
    print(f"# explain calibration: {cases_n} cases per cell, seed {args.seed}, drop {args.drop}, resamples {args.resamples}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    rng = np.random.default_rng([args.seed, 7])
    data = make_data()
    check_no_effect(data, args.drop)
    pool = Pool(data, args.drop, args.seed)
    cases = plan(cases_n, pool, rng)
    cells = list(dict.fromkeys(c.cell for c in cases))

    work = args.keep or Path(tempfile.mkdtemp(prefix="runsift-calib-"))
    root, cache, store = work / "runs", work / "cache", work / "store"
    stamp = {"cases": cases_n, "seed": args.seed, "drop": args.drop, "version": 2}
    marker = work / ".calibration.json"
    try:
        reuse = marker.exists() and json.loads(marker.read_text())["stamp"] == stamp
        if reuse:
            summary = json.loads(marker.read_text())["trainer"]
            print(f"reusing runs in {root}")
            t_write = 0.0
        else:
            if root.exists():
                shutil.rmtree(root)
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(store, ignore_errors=True)
            root.mkdir(parents=True)
            t = time.perf_counter()
            n_runs = write_cases(root, store, cases, pool)
            summary = trainer_summary(pool, cases)
            t_write = time.perf_counter() - t
            marker.write_text(json.dumps({"stamp": stamp, "trainer": summary}))
            print(
                f"trained {pool.trained} models in {pool.train_s:.1f} s; wrote {n_runs} runs in {len(cases)} projects "
                f"({t_write:.1f} s with training)",
                file=sys.stderr,
            )
        t = time.perf_counter()
        with Catalog.open(root, cache_dir=cache, workers=args.workers) as cat:
            t_index = time.perf_counter() - t
            print(f"indexed in {t_index:.1f} s", file=sys.stderr)
            # statsmodels' multipletests (explain's Holm correction) runs gc.collect() on every call,
            # ~50 ms with this catalog open: freeze what exists now (the catalog, the cases) out of the
            # collector, so that cost does not dominate the run. It changes no answer, only time.
            gc.freeze()
            t = time.perf_counter()
            outcomes = []
            for i, case in enumerate(cases, 1):
                outcomes.append(ask(cat, case, args.resamples))
                if i % 200 == 0 and sys.stderr.isatty():
                    print(f"\r  explained {i}/{len(cases)}", end="", file=sys.stderr)
            t_explain = time.perf_counter() - t
        if sys.stderr.isatty():
            print(file=sys.stderr)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    print()
    print(summary_text(summary))
    print()
    print("## Verdicts")
    print()
    print(verdict_table(outcomes, cells))
    print()
    print("## Cause ranking")
    print()
    print(cause_table(outcomes, cells))
    print()
    print("## Diagnostics (what explain answered, per cell)")
    print()
    print(diagnostics(outcomes, cells))
    errors = [o for o in outcomes if o.error]
    if errors:
        print()
        print(f"{len(errors)} explain calls raised; first: {errors[0].cell.slug}: {errors[0].error}")
    total = time.perf_counter() - t0
    print()
    print(
        f"wall time {total:.0f} s (train + write {t_write:.0f} s, index {t_index:.0f} s, explain {t_explain:.0f} s "
        f"for {len(cases)} cases); load {os.getloadavg()[0]:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

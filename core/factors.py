"""What a run's result depends on, as named factors that can be compared across runs.

A *factor* is one thing a scientist could have changed: a config key, the package
set, the Python version, the hardware, the data snapshot, a split, the code, the
seeds, a metric's definition. Two runs are *replicates* when every factor but the
seeds matches. Explaining a metric change starts from the factors that differ.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .mappings import flatten
from .records import Run

SEED_KEY = re.compile(r"(^|[._])(seed|seeds|random_state|rng|global_seed)([._]|$)", re.IGNORECASE)
"""Config keys that are seeds: differences in them count as seed differences."""
LABEL_KEYS = re.compile(
    r"(^|[._])(run_name|run_id|name|experiment_name|author|owner|user|notes?|description|tags?|output_dir|"
    r"out_dir|log_dir|save_dir|checkpoint_dir|wandb|mlflow|timestamp|date|created|host|hostname)$",
    re.IGNORECASE,
)
"""Config keys that label a run without changing what it computes."""

SEEDS = "seeds"
PACKAGES = "env.packages"
"""A marker: "recorded" when the run lists its packages; each package is its own factor below it."""
PACKAGE_PREFIX = PACKAGES + "."
CONFIG = "config"
"""A marker: "recorded" when the run has a non-empty config."""
ABSENT = "(not installed)"
"""A package's value in a run that lists its packages but not this one."""
SETUP = (CONFIG, "code", "data")
"""Factors a run must record, besides its environment, to count as anyone's replicate."""


@dataclass(frozen=True, slots=True)
class Factor:
    """One factor's value in one run (``value`` is a canonical string; None when not recorded)."""

    section: str
    """config | env | hardware | data | splits | code | seeds | metric_definition"""
    path: str
    value: str | None


def canonical(value: Any) -> str | None:
    """A stable string for comparing values (1 == 1.0, dict order ignored)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(float(value))
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def run_factors(run: Run, metric: str | None = None) -> dict[str, Factor]:
    """Every factor of a run, keyed by a name such as ``config.optimizer.lr`` or ``env.packages``.

    Each package is its own factor (``env.packages.torch``), as each config key is, so a run
    that upgrades one package of two can isolate it. The data snapshot, the code state and
    the seeds are one factor each. With ``metric``, that metric's definition (version,
    threshold) is a factor too.
    """
    out: dict[str, Factor] = {CONFIG: Factor("config", "(config)", "recorded" if run.config else None)}
    seeds: dict[str, Any] = dict(run.seeds)
    for path, value in flatten(run.config):
        if SEED_KEY.search(path):
            seeds[f"config.{path}"] = value
        elif not LABEL_KEYS.search(path):
            out[f"config.{path}"] = Factor("config", path, canonical(value))
    out["env.python"] = Factor("env", "python", run.env.python)
    out[PACKAGES] = Factor("env", "packages", "recorded" if run.env.packages else None)
    for name, version in run.env.packages.items():
        out[PACKAGE_PREFIX + name] = Factor("env", f"packages.{name}", str(version))
    out["env.hardware"] = Factor("hardware", "hardware", "; ".join(run.env.hardware) or None)
    data = {"name": run.data.name, "version": run.data.version, "hashes": dict(run.data.hashes), "rows": run.data.rows}
    has_data = any(v for v in data.values())
    out["data"] = Factor("data", "snapshot", canonical(data) if has_data else None)
    for split in run.splits:
        out[f"splits.{split.name}"] = Factor("splits", split.name, split.sha256)
    code = {"commit": run.code.commit, "dirty": run.code.dirty, "changed_files": sorted(run.code.changed_files)}
    out["code"] = Factor("code", "commit", canonical(code) if run.code.commit else None)
    out[SEEDS] = Factor("seeds", "seeds", canonical(seeds) if seeds else None)
    if metric is not None:
        d = run.metrics.definitions.get(metric)
        if d is not None:
            out[f"metric_definition.{metric}"] = Factor(
                "metric_definition", metric, canonical({"version": d.version, "threshold": d.threshold})
            )
    return out


def differing(
    a: Mapping[str, Factor], b: Mapping[str, Factor], *, ignore: frozenset[str] = frozenset(), unknown_differs: bool = False
) -> list[str]:
    """Names of factors whose values differ between two runs.

    A config key present in one run's config only is a difference (its default may differ).
    Anything else that one run simply did not record (its whole config included) (python version, hardware,
    packages, data, code, a metric definition) is unknown: not a difference when
    looking for replicates, but a possible one (``unknown_differs``) when a pair of
    runs must isolate a factor.
    """
    names = (set(a) | set(b)) - ignore
    out = []
    for name in names:
        va, vb = _value(a, name), _value(b, name)
        if va == vb:
            continue
        if (va is None or vb is None) and not unknown_differs and not (name.startswith("config.") and _value(a, CONFIG) and _value(b, CONFIG)):
            continue  # unrecorded (a config key is "unset" only where the run has a config at all)
        out.append(name)
    return sorted(out)


def _value(factors: Mapping[str, Factor], name: str) -> str | None:
    factor = factors.get(name)
    if factor is None and name.startswith(PACKAGE_PREFIX) and _value(factors, PACKAGES) is not None:
        return ABSENT  # the run lists its packages, and this one is not among them
    return factor.value if factor is not None else None


def value(factors: Mapping[str, Factor], name: str) -> str | None:
    """A factor's value in one run: None when the run does not record it."""
    return _value(factors, name)


def unrecorded(a: Mapping[str, Factor], b: Mapping[str, Factor]) -> list[str]:
    """Factors that one run records and the other does not, plus setup factors neither records.

    Such a factor is unknown: it may differ. Package names count once, as ``env.packages``; a
    config key set in one of two recorded configs is a difference (see :func:`differing`), not unknown.
    """
    both_configs = _value(a, CONFIG) is not None and _value(b, CONFIG) is not None
    names = {n for n in set(a) | set(b) if not n.startswith(PACKAGE_PREFIX) and not (both_configs and n.startswith("config."))} - {SEEDS}
    out = [n for n in names if (_value(a, n) is None) != (_value(b, n) is None)]
    out += [n for n in SETUP if _value(a, n) is None and _value(b, n) is None]
    if _env_value(a) is None and _env_value(b) is None:
        out.append("env")
    return sorted(set(out))


Setup = frozenset[tuple[str, str]]
"""Every factor a run records but its seeds, as (name, value) pairs: equal for replicates."""


def setup_parts(factors: Mapping[str, Factor]) -> tuple[Setup, frozenset[str]]:
    """(every recorded factor but the seeds, which of config, code, data, env and seeds are not recorded)."""
    items = frozenset((n, f.value) for n, f in factors.items() if n != SEEDS and f.value is not None)
    missing = {n for n in (*SETUP, SEEDS) if _value(factors, n) is None}
    if _env_value(factors) is None:
        missing.add("env")
    return items, frozenset(missing)


def setup_key(
    factors: Mapping[str, Factor], *, need_seeds: bool = True, given: str | None = None, parts: tuple[Setup, frozenset[str]] | None = None
) -> Setup | None:
    """What a run's replicates share: every factor but the seeds; None without positive evidence.

    Positive evidence is a recorded config, code state, data snapshot, environment (Python or
    packages) and seeds. Two runs with the same key and different seeds are replicates: each
    factor either records, both record, with the same value. ``need_seeds=False`` drops the seeds
    from the evidence asked for (runs that isolate a factor may differ in seeds, recorded or not);
    ``given`` leaves one factor out of the key and counts it as recorded (the factor being isolated).
    ``parts`` are the run's :func:`setup_parts`, when a caller asks many times.
    """
    items, missing = parts if parts is not None else setup_parts(factors)
    excused = {given, "env"} if given in ("env.python", PACKAGES) else {given}
    if missing - excused - (set() if need_seeds else {SEEDS}):
        return None
    return items - {(given, _value(factors, given))} if given is not None else items


def _env_value(factors: Mapping[str, Factor]) -> str | None:
    return _value(factors, "env.python") or _value(factors, PACKAGES)


def describe(name: str, a: Mapping[str, Factor], b: Mapping[str, Factor]) -> tuple[str, str, Any, Any]:
    """(section, path, value in A, value in B) of a differing factor, readable for a report."""
    fa, fb = a.get(name), b.get(name)
    factor = fa or fb
    assert factor is not None
    va, vb = (fa.value if fa else None), (fb.value if fb else None)
    if name.startswith(PACKAGE_PREFIX):
        return "env", name[len("env.") :], _value(a, name), _value(b, name)
    if name == "data":
        return "data", "snapshot", _data_words(va), _data_words(vb)
    if name == "code":
        return "code", "commit", _code_words(va), _code_words(vb)
    if name.startswith("splits."):
        return factor.section, factor.path, (va[:12] + "…") if va else None, (vb[:12] + "…") if vb else None
    pa, pb = _pretty(va), _pretty(vb)
    if isinstance(pa, list) and isinstance(pb, list):
        removed = [x for x in pa if x not in pb]
        added = [x for x in pb if x not in pa]
        if removed or added:
            change = ", ".join([*(f"-{x}" for x in removed), *(f"+{x}" for x in added)])
            return factor.section, factor.path, f"{len(pa)} items", f"{len(pb)} items ({change})"
    return factor.section, factor.path, pa, pb


def _code_words(value: str | None) -> str | None:
    """``1a2b3c4`` or ``1a2b3c4 + 2 changed files (src/a.py, …)`` from a code factor value."""
    if value is None:
        return None
    d = json.loads(value)
    head = str(d.get("commit") or "?")[:10]
    files = d.get("changed_files") or []
    if files:
        shown = ", ".join(files[:2]) + (", …" if len(files) > 2 else "")
        return f"{head} + {len(files)} changed file{'s' if len(files) != 1 else ''} ({shown})"
    return head + (" (dirty)" if d.get("dirty") else "")


def _data_words(value: str | None) -> str | None:
    """``fraud_txn v23 (15,000 rows, hash 0x2e198b17…)`` from a data factor value."""
    if value is None:
        return None
    d = json.loads(value)
    hashes = ", ".join(f"{k} {str(v)[:10]}…" if len(str(v)) > 10 else f"{k} {v}" for k, v in (d.get("hashes") or {}).items())
    rows = f"{d['rows']:,} rows" if isinstance(d.get("rows"), int) else ""
    detail = ", ".join(x for x in (rows, hashes) if x)
    head = " ".join(str(x) for x in (d.get("name"), d.get("version")) if x) or "snapshot"
    return f"{head} ({detail})" if detail else head


def _pretty(value: str | None) -> Any:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    if isinstance(parsed, dict):
        return ", ".join(f"{k}={v}" for k, v in parsed.items() if v not in (None, [], {}, ""))
    if isinstance(parsed, float) and parsed.is_integer() and abs(parsed) < 2**53:
        return int(parsed)  # canonical() made every number a float so 1 == 1.0; show 100, not 100.0
    return parsed

"""A Hydra multirun (``multirun/<date>/<time>/``) as a runsift sweep whose members are its jobs.

Hydra's sweepers leave different things in the multirun folder, beside one folder per job:

* the basic sweeper writes ``multirun.yaml``: the sweep's config, with ``hydra.overrides.task``
  (``seed=1,2,3``: the swept values as typed) and ``hydra.sweeper`` (its ``params``, if any);
* Optuna's sweeper writes no ``multirun.yaml`` but ``optimization_results.yaml`` when it ends
  (``best_params``, ``best_value``, or ``solutions`` for several objectives); its config
  (``direction``, ``n_trials``) is in each job's ``.hydra/hydra.yaml``.

The swept parameters are the overrides with several values (a comma list, ``choice(...)``,
``range(...)``, ``interval(...)`` ...) and the sweeper's ``params``; where neither was saved
(Optuna's search space given on the command line) they are the override keys whose values differ
between the jobs, with the values tried. The objective is what Hydra recorded, never a guess:
Optuna's ``direction`` is the goal, and the metric is the one final metric of the best job that
equals ``best_value`` exactly (the job's return value is not named anywhere else). The basic
sweeper records no objective: the sweep's metric stays unknown, and its notes say so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Set
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..fmt import clip
from ..goals import normalise_goal
from ..records import Sweep
from ..safeio import ReadContext
from ._common import dedupe, read_config
from .hydra import HYDRA_DIR, MAX_OVERRIDES, SWEEP_FILE, _named_time, _path_time, _sub

if TYPE_CHECKING:
    from ..discover import Found

RESULTS_FILE = "optimization_results.yaml"
"""What Hydra's Optuna sweeper writes when the search ends."""
SWEEP_NAMES = (SWEEP_FILE, RESULTS_FILE)
"""Entry names that make a folder a Hydra multirun."""
MAX_JOBS_READ = 10_000
"""Most jobs whose overrides are read to find what varies (and the best job)."""
MAX_RANGE = 1_000
"""Most values a ``range(...)`` override is expanded to; a longer one stays as typed."""

_FUNCTION = re.compile(r"^\s*(choice|range|interval|tag|glob|sort|shuffle)\s*\((.*)\)\s*$", re.DOTALL)
_NUMBER = re.compile(r"^[-+]?(\d[\d_]*\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def is_sweep(names: Set[str]) -> bool:
    """A multirun folder: ``multirun.yaml`` or Optuna's results, and no ``.hydra/`` (that is a job). Names only."""
    return HYDRA_DIR not in names and any(n in names for n in SWEEP_NAMES)


def read_sweep(found: Found, root: Path) -> Sweep:
    """The multirun ``found`` describes, its jobs (found by the walk) as members; never raises for bad input."""
    ctx = ReadContext(root)
    folder = found.dir
    names = {f.rel for f in found.files}
    doc = read_config(folder / SWEEP_FILE, ctx) if SWEEP_FILE in names else {}
    hydra = _sub(doc, "hydra")
    if SWEEP_FILE in names and doc and not hydra:
        ctx.problem(folder / SWEEP_FILE, "no 'hydra' mapping in multirun.yaml")
    jobs = _jobs(root, found.members)
    if not hydra and found.members:  # Optuna writes no multirun.yaml: its config is in every job's
        hydra = _sub(read_config(root / found.members[0] / HYDRA_DIR / "hydra.yaml", ReadContext(root)), "hydra")
    sweeper = _sub(hydra, "sweeper")
    choices = _sub(_sub(hydra, "runtime"), "choices")
    task = _sub(hydra, "overrides").get("task") if SWEEP_FILE in names else None
    overrides = [str(t) for t in task[:MAX_OVERRIDES] if isinstance(t, (str, int, float))] if isinstance(task, list) else []

    spec: dict[str, Any] = {}
    kind = choices.get("hydra/sweeper")
    target = sweeper.get("_target_")
    spec["sweeper"] = str(kind) if kind else (str(target).rsplit(".", 1)[-1] if target else "unknown")
    params = _swept(overrides, sweeper.get("params"))
    if not params:
        params = _varying(jobs)
        if params:
            spec["parameters_from"] = "the values the jobs ran with (the search space was not saved)"
    spec["parameters"] = params
    if overrides:
        spec["overrides"] = overrides
    for key in ("direction", "n_trials", "storage", "study_name"):
        if sweeper.get(key) is not None:
            spec[key] = sweeper[key]
    direction = sweeper.get("direction")
    if isinstance(direction, list):
        direction = direction[0] if len(direction) == 1 else None
    goal = normalise_goal(direction) if direction is not None else None

    metric = None
    notes: list[str] = []
    results = read_config(folder / RESULTS_FILE, ctx) if RESULTS_FILE in names else {}
    if results:
        spec["results"] = results
        metric, note = _objective(found, root, results, jobs, spec["sweeper"], direction)
        notes.append(note)
    elif RESULTS_FILE not in names:
        notes.append(f"Hydra's {spec['sweeper']} sweeper records no objective: the metric this sweep was judged by is unknown.")

    job_name = _sub(hydra, "job").get("name")
    started = _named_time(folder.name) or _path_time(folder.parent.name, folder.name)
    return Sweep(
        id=found.id,
        path=str(folder),
        project=clip(job_name, 120) if isinstance(job_name, str) and job_name else found.project,
        name=clip(" ".join(overrides), 200) if overrides else clip(f"{spec['sweeper']}: {', '.join(params) or found.name}", 200),
        started=started,
        spec=spec,
        metric=metric,
        goal=goal,
        baseline_config={k: v for k, v in doc.items() if k != "hydra"},
        run_ids=tuple(found.members),
        notes="\n".join(notes),
        problems=tuple(dedupe(ctx.problems)),
    )


def _jobs(root: Path, members: list[str]) -> dict[str, dict[str, Any]]:
    """Each job's overrides as ``{key: value}`` (its own problems are on its run, not repeated here)."""
    quiet = ReadContext(root)
    out: dict[str, dict[str, Any]] = {}
    for rid in members[:MAX_JOBS_READ]:
        doc = quiet.load_structured(root / rid / HYDRA_DIR / "overrides.yaml")
        if isinstance(doc, list):
            pairs = (_split(str(o)) for o in doc[:MAX_OVERRIDES] if isinstance(o, (str, int, float)))
            out[rid] = {key: _scalar(value) for key, value in pairs if key}
    return out


def _split(override: str) -> tuple[str, str]:
    """``+optimizer.lr=0.1`` -> (``optimizer.lr``, ``0.1``); ("", "") for a deletion or no ``=``."""
    key, sep, value = override.partition("=")
    key = key.lstrip("+").strip()
    if not sep or key.startswith("~"):
        return "", ""
    return key, value.strip()


def _swept(overrides: list[str], params: Any) -> dict[str, Any]:
    """The swept overrides and sweeper params: key -> the values (a list) or the search function as typed."""
    out: dict[str, Any] = {}
    items = [_split(o) for o in overrides]
    if isinstance(params, Mapping):
        items += [(str(k), str(v)) for k, v in params.items() if v is not None]
    for key, value in items:
        if not key:
            continue
        function = _FUNCTION.match(value)
        parts = _top_level(value)
        if function is not None:
            out[key] = _function_values(function.group(1), function.group(2), value)
        elif len(parts) > 1:
            out[key] = [_scalar(p) for p in parts]
    return out


def _function_values(name: str, args: str, text: str) -> Any:
    """``choice(a,b)`` and a short integer ``range(...)`` as their values; any other search function as typed."""
    values = [_scalar(a) for a in _top_level(args)]
    if name == "choice":
        return values
    if name == "range" and 1 <= len(values) <= 3 and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        bounds = (0, values[0]) if len(values) == 1 else tuple(values)
        span = range(*bounds)
        if 0 < len(span) <= MAX_RANGE:
            return list(span)
    return text.strip()


def _top_level(text: str) -> list[str]:
    """``text`` split at commas outside brackets and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _scalar(text: str) -> Any:
    """An override value as Hydra would type it: a number, a boolean, null, else the text (unquoted)."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    low = text.lower()
    if low in ("null", "~"):
        return None
    if low in ("true", "false"):
        return low == "true"
    if _NUMBER.match(text):
        try:
            return int(text.replace("_", ""))
        except ValueError:
            return float(text.replace("_", ""))
    if low in ("inf", "+inf", "-inf", "nan"):
        return float(low)
    return text


def _varying(jobs: Mapping[str, Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Override keys whose values differ between the jobs, with each value once in the order jobs ran."""
    out: dict[str, list[Any]] = {}
    keys = dict.fromkeys(k for job in jobs.values() for k in job)
    for key in keys:
        values: list[Any] = []
        for job in jobs.values():
            value = job.get(key)
            if value not in values:
                values.append(value)
        if len(values) > 1:
            out[key] = values
    return out


def _objective(
    found: Found, root: Path, results: Mapping[str, Any], jobs: Mapping[str, Mapping[str, Any]], sweeper: str, direction: Any
) -> tuple[str | None, str]:
    """The metric the search optimised, and a note saying how it is known (or why it is not)."""
    aim = f"{direction}d" if isinstance(direction, str) else "optimised"
    best_value, best_params = results.get("best_value"), results.get("best_params")
    if "solutions" in results:
        return None, f"Hydra's {sweeper} sweeper {aim} several objectives (a Pareto front); runsift ranks by one metric, so the sweep's metric is unknown."
    if not isinstance(best_value, (int, float)) or isinstance(best_value, bool) or not isinstance(best_params, Mapping):
        return None, f"{RESULTS_FILE} holds no best value and parameters: the sweep's metric is unknown."
    best = [rid for rid, job in jobs.items() if all(_same(job.get(str(k)), v) for k, v in best_params.items())]
    what = f"Hydra's {sweeper} sweeper {aim} the jobs' return value, best {best_value!r}"
    if len(best) != 1:
        return None, f"{what}; no single job ran with its best parameters, so which metric that value is stays unknown."
    from ..discover import relist  # the walk imports the formats
    from .hydra import read

    job = relist(root, best[0], found.project, found.id)
    finals = read(job, root).metrics.final if job is not None else {}
    matches = [name for name, value in finals.items() if isinstance(value, (int, float)) and _same(value, best_value)]
    if len(matches) == 1:
        return matches[0], f"{what}, which is the best job's ({best[0]}) final {matches[0]}: the sweep's metric."
    listed = ", ".join(sorted(matches)) if matches else "none"
    return None, f"{what}; final metrics of the best job ({best[0]}) equal to it: {listed}, so the sweep's metric is unknown."


def _same(a: Any, b: Any) -> bool:
    """Equal values, numbers compared as floats (an override ``0.1`` and Optuna's ``0.1``)."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b) or (math.isnan(float(a)) and math.isnan(float(b)))
    return bool(a == b)


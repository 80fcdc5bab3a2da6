"""Read a hyper-parameter sweep folder: ``sweep.yaml``, ``baseline_config.yaml`` and ``leaderboard.csv``.

A sweep folder (tutorial Example 3) holds the search space and budget, the shared
baseline config, member run folders under ``runs/`` and a saved leaderboard.
Member runs are read by the run reader; here we only read the sweep's own files.
"""

from __future__ import annotations

import copy
import csv
import io
import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from ..goals import normalise_goal
from ..records import LeaderboardRow, Sweep
from ..safeio import MAX_STRUCTURED_BYTES, ReadContext

SWEEP_FILE = "sweep.yaml"
"""The usual name of a sweep spec."""
SWEEP_NAMES: tuple[str, ...] = (SWEEP_FILE, "sweep.yml", "sweep.json")
"""Accepted sweep spec names, in order of preference."""
BASELINE_NAMES: tuple[str, ...] = ("baseline_config.yaml", "baseline_config.yml", "baseline_config.json")
"""Accepted names of the shared baseline config, in order of preference."""
LEADERBOARD_NAMES: tuple[str, ...] = ("leaderboard.csv",)
"""Accepted names of the saved leaderboard."""
NOTES_NAMES: tuple[str, ...] = ("notes.md", "README.md")
"""Free-text notes kept in a record folder; all that exist are read, in this order."""

SEARCH_SPACE_KEYS: tuple[str, ...] = ("parameters", "search_space", "space")
"""Keys of a sweep spec that may hold the search space, in order of preference."""
BUDGET_KEYS: tuple[str, ...] = ("budget", "max_runs", "run_cap", "n_trials", "num_samples", "max_trials")
"""Keys of a sweep spec that may hold the run budget, in order of preference."""
GOAL_KEYS: tuple[str, ...] = ("goal", "mode", "direction")
"""Keys that may say whether the sweep metric is maximised or minimised."""
RUN_ID_COLUMNS: tuple[str, ...] = ("run_id", "run", "id", "run_name", "name", "trial_id", "trial")
"""Leaderboard columns that may hold the run id (case-insensitive), in order of preference."""

# -- finding files ---------------------------------------------------------------
def find_files(folder: Path, candidates: Iterable[str]) -> list[Path]:
    """Entries of ``folder`` named like ``candidates`` (case-insensitively), in candidate order.

    An exact-case match is preferred over a case-insensitive one. Missing or
    unlistable folders give an empty list (the caller reports what it expected).
    """
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    by_lower: dict[str, list[str]] = {}
    for name in sorted(names):
        by_lower.setdefault(name.lower(), []).append(name)
    found: list[Path] = []
    seen: set[str] = set()
    for wanted in candidates:
        matches = by_lower.get(wanted.lower(), [])
        picked = wanted if wanted in matches else (matches[0] if matches else None)
        if picked is not None and picked not in seen:
            seen.add(picked)
            found.append(folder / picked)
    return found


def pick_file(folder: Path, candidates: Iterable[str], ctx: ReadContext, what: str) -> Path | None:
    """The preferred file among ``candidates`` in ``folder``; other matches are reported as ignored."""
    found = find_files(folder, candidates)
    if not found:
        return None
    for other in found[1:]:
        ctx.problem(other, f"several {what} files; only {found[0].name} was read")
    return found[0]


def read_notes(folder: Path, ctx: ReadContext) -> str:
    """Text of ``notes.md`` and ``README.md`` in ``folder`` (both when both exist), or ""."""
    texts = []
    for path in find_files(folder, NOTES_NAMES):
        text = ctx.read_text(path)
        if text and text.strip():
            texts.append(text.strip())
    return "\n\n".join(texts)


def _lower_names(names: set[str]) -> set[str]:
    return {n.lower() for n in names}


def is_sweep_dir(names: set[str]) -> bool:
    """True when a folder holding files ``names`` is a sweep: it has a sweep spec or a baseline config."""
    lower = _lower_names(names)
    return any(n.lower() in lower for n in SWEEP_NAMES + BASELINE_NAMES)


# -- sweep spec -----------------------------------------------------------------
def parse_sweep_spec(spec: Mapping[str, Any]) -> tuple[str | None, Literal["max", "min"] | None, list[str]]:
    """Metric name, goal and messages about what was not understood, from a parsed sweep spec.

    ``metric`` is a string or a mapping ``{name, goal}``; the goal is looked up
    under ``goal``/``mode``/``direction`` inside the metric mapping first, then at
    the top level of the spec.
    """
    issues: list[str] = []
    metric: str | None = None
    goal_raw: Any = None
    goal_key: str | None = None
    raw_metric = spec.get("metric")
    if isinstance(raw_metric, Mapping):
        name = raw_metric.get("name", raw_metric.get("metric"))
        if isinstance(name, (str, int, float)) and not isinstance(name, bool) and str(name).strip():
            metric = str(name).strip()
        else:
            issues.append("metric has no name (expected metric: {name: ..., goal: ...})")
        for key in GOAL_KEYS:
            if key in raw_metric:
                goal_raw, goal_key = raw_metric[key], f"metric.{key}"
                break
    elif isinstance(raw_metric, str) and raw_metric.strip():
        metric = raw_metric.strip()
    elif raw_metric is not None:
        issues.append(f"metric should be a name or a mapping, not {_type_name(raw_metric)}")
    if goal_key is None:
        for key in GOAL_KEYS:
            if key in spec:
                goal_raw, goal_key = spec[key], key
                break
    goal = normalise_goal(goal_raw)
    if goal_key is not None and goal is None:
        issues.append(
            f"{goal_key}: {goal_raw!r} is not a goal (expected maximize/minimize, max/min or higher/lower)"
        )
    return metric, goal, issues


def search_space(spec: Mapping[str, Any]) -> Any:
    """The search space of a sweep spec (under ``parameters``/``search_space``/``space``), or None."""
    for key in SEARCH_SPACE_KEYS:
        if key in spec:
            return spec[key]
    return None


def budget(spec: Mapping[str, Any]) -> int | None:
    """The run budget of a sweep spec (``budget``/``max_runs``/... or ``budget: {max_runs: N}``), or None."""
    for key in BUDGET_KEYS:
        if key not in spec:
            continue
        value = spec[key]
        if isinstance(value, Mapping):
            for inner in ("max_runs", "runs", "trials", "n_trials", "max_trials"):
                if inner in value:
                    return _as_count(value[inner])
            return None
        return _as_count(value)
    return None


def _as_count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _check_spec(spec: Mapping[str, Any]) -> list[str]:
    issues: list[str] = []
    for key in SEARCH_SPACE_KEYS:
        if key in spec:
            if not isinstance(spec[key], (Mapping, list)):
                issues.append(f"{key}: search space should be a mapping or a list, not {_type_name(spec[key])}")
            break
    for key in BUDGET_KEYS:
        if key in spec:
            if budget(spec) is None:
                issues.append(f"{key}: {spec[key]!r} is not a run count")
            break
    return issues


# -- leaderboard ----------------------------------------------------------------
def parse_leaderboard(
    text: str,
) -> tuple[tuple[str, ...], tuple[LeaderboardRow, ...], list[tuple[str, int | None]]]:
    """Columns, rows and (message, line) issues of a leaderboard CSV.

    The first non-blank row is the header; cells are stripped of surrounding
    spaces, blank header cells are named ``column_N``. The run id comes from the
    first of :data:`RUN_ID_COLUMNS` present (any case), else the first column.
    Rows whose cell count differs from the header are reported and left out,
    since their values cannot be matched to columns. Blank lines are skipped.
    """
    issues: list[tuple[str, int | None]] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[LeaderboardRow] = []
    id_index = 0
    prev_end = 0
    try:
        for cells in reader:
            start, prev_end = prev_end + 1, reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue
            if header is None:
                header = _header(cells, start, issues)
                id_index = _run_id_index(header)
                continue
            if len(cells) != len(header):
                issues.append(
                    (f"row has {len(cells)} cells but the header has {len(header)}; row left out", start)
                )
                continue
            values = {col: cell.strip() for col, cell in zip(header, cells)}
            rows.append(LeaderboardRow(run_id=cells[id_index].strip(), values=values, line=start))
    except csv.Error as exc:
        issues.append((f"CSV error: {exc}; rest of the file not read", prev_end + 1))
    if header is None:
        issues.append(("no header row (empty leaderboard)", None))
        return (), (), issues
    return tuple(header), tuple(rows), issues


def _header(cells: list[str], line: int, issues: list[tuple[str, int | None]]) -> list[str]:
    header: list[str] = []
    for i, cell in enumerate(cells, start=1):
        name = cell.strip() or f"column_{i}"
        if name in header:
            renamed = f"{name}_{i}"
            issues.append((f"duplicate column {name!r}; the copy in column {i} is called {renamed!r}", line))
            name = renamed
        header.append(name)
    return header


def _run_id_index(header: list[str]) -> int:
    lower = [h.lower() for h in header]
    for candidate in RUN_ID_COLUMNS:
        if candidate in lower:
            return lower.index(candidate)
    return 0


# -- effective config -------------------------------------------------------------
def effective_config(baseline: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """A run's effective config: ``baseline`` deep-merged with the run's ``own`` config; inputs untouched.

    Rules:

    * ``own`` wins. Nested mappings are merged key by key, recursively; any other
      value (lists included, and explicit ``null``) replaces the baseline value whole.
    * A key of ``own`` containing dots (``optimizer.lr: 0.01``) that is not itself
      a key at that level is read as a path when its first segment names a mapping
      in the config being built (the baseline merged with ``own``'s plain keys):
      the rest of the key is applied inside that mapping by the same rule, so
      ``optimizer.lr`` overrides ``optimizer: {lr: ...}``. Otherwise the key is
      kept literally, so ``effective_config({}, own)`` equals ``own``.
    * Plain keys are applied before dotted keys, so ``optimizer.lr`` beats
      ``optimizer: {lr: ...}`` written in the same file.
    * Non-string keys are plain keys; a non-mapping input counts as empty.
    """
    result: dict[str, Any] = _copy(baseline) if isinstance(baseline, Mapping) else {}
    if isinstance(own, Mapping):
        _merge_into(result, own)
    return result


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    return copy.deepcopy(value)


def _merge_into(target: dict[str, Any], own: Mapping[str, Any]) -> None:
    dotted = []
    for key, value in own.items():
        if isinstance(key, str) and "." in key and key not in target:
            dotted.append((key, value))
        else:
            _set(target, key, value)
    for key, value in dotted:
        _set_dotted(target, key, value)


def _set(target: dict[Any, Any], key: Any, value: Any) -> None:
    current = target.get(key)
    if isinstance(value, Mapping) and isinstance(current, dict):
        _merge_into(current, value)
    else:
        target[key] = _copy(value)


def _set_dotted(target: dict[str, Any], key: str, value: Any) -> None:
    if key in target:
        _set(target, key, value)
        return
    head, _, rest = key.partition(".")
    inner = target.get(head)
    if isinstance(inner, dict) and rest:
        if "." in rest and rest not in inner:
            _set_dotted(inner, rest, value)
        else:
            _set(inner, rest, value)
    else:
        _set(target, key, value)


# -- reading a sweep folder ----------------------------------------------------------
def read_sweep(
    sweep_dir: Path,
    ctx: ReadContext,
    *,
    id: str,
    project: str,
    name: str,
    run_ids: tuple[str, ...],
    started: datetime | None,
) -> Sweep:
    """Read the sweep folder ``sweep_dir`` into a :class:`Sweep`; problems go to ``ctx`` and the record."""
    first_problem = len(ctx.problems)
    sweep_dir = Path(sweep_dir)

    spec: dict[str, Any] = {}
    metric: str | None = None
    goal: Literal["max", "min"] | None = None
    spec_path = pick_file(sweep_dir, SWEEP_NAMES, ctx, "sweep spec")
    if spec_path is None:
        ctx.problem(sweep_dir / SWEEP_FILE, "no sweep spec (sweep.yaml); search space and budget unknown")
    else:
        doc = ctx.load_structured(spec_path)
        if isinstance(doc, Mapping):
            spec = dict(doc)
            metric, goal, issues = parse_sweep_spec(spec)
            for message in issues + _check_spec(spec):
                ctx.problem(spec_path, message)
        elif doc is not None:
            ctx.problem(spec_path, f"sweep spec should be a mapping, not {_type_name(doc)}; not used")

    baseline: dict[str, Any] = {}
    baseline_path = pick_file(sweep_dir, BASELINE_NAMES, ctx, "baseline config")
    if baseline_path is not None:
        doc = ctx.load_structured(baseline_path)
        if isinstance(doc, Mapping):
            baseline = dict(doc)
        elif doc is not None:
            ctx.problem(baseline_path, f"baseline config should be a mapping, not {_type_name(doc)}; not used")

    columns: tuple[str, ...] = ()
    rows: tuple[LeaderboardRow, ...] = ()
    board_path = pick_file(sweep_dir, LEADERBOARD_NAMES, ctx, "leaderboard")
    if board_path is not None:
        text = ctx.read_text(board_path, MAX_STRUCTURED_BYTES)
        if text is not None:
            columns, rows, board_issues = parse_leaderboard(text)
            for message, line in board_issues:
                ctx.problem(board_path, message, line)

    return Sweep(
        id=id,
        path=os.path.abspath(sweep_dir),
        project=project,
        name=name,
        started=started,
        spec=spec,
        metric=metric,
        goal=goal,
        baseline_config=baseline,
        run_ids=tuple(run_ids),
        leaderboard=rows,
        leaderboard_columns=columns,
        notes=read_notes(sweep_dir, ctx),
        problems=tuple(ctx.problems[first_problem:]),
    )


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return f"a {type(value).__name__}"

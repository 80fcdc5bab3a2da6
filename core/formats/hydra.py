"""Hydra's job folders: ``outputs/<date>/<time>/`` (a run) and ``multirun/<date>/<time>/<job>/`` (a sweep's jobs).

A job folder holds ``.hydra/`` (Hydra's record) beside whatever the job wrote:

* ``.hydra/config.yaml``: the composed config of the job (interpolations as written);
* ``.hydra/overrides.yaml``: the command-line overrides of this job (``optimizer.lr=0.01``): the
  job's name here, and the change people care about;
* ``.hydra/hydra.yaml``: Hydra's own config, resolved for the job: ``mode`` (RUN or MULTIRUN),
  ``job.name`` (the app: the project here), ``job.num`` (the job's number in a sweep),
  ``runtime.version``, ``runtime.choices`` (the config groups chosen);
* ``<job.name>.log``: the job's log, with Python logging's times.

A multirun's ``<date>/<time>/`` folder holds ``multirun.yaml`` (the sweep's overrides,
``seed=1,2,3``) and is not a run: each job keeps the sweep's id and overrides as tags.

Hydra records no status and no end. Metrics come from what the job wrote beside ``.hydra/``
in any format runsift reads (``metrics.json``, ``metrics.jsonl``, ``metrics.csv`` ..., and a
``dvclive/`` folder). Inferred, and listed in ``source.guessed``: the status (a log that ends in a
traceback is a failure; final metrics, or every planned epoch logged, a finish; fewer epochs
an incomplete run), the end (the log's last line) and, for a sweep's jobs, the start (the log's
first line; the path holds the sweep's start). A single run's start is its path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from datetime import datetime
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..fmt import clip
from ..readers.code import CODE_FILE_NAMES, read_code
from ..readers.env import ENV_FILE_NAMES, read_env
from ..readers.metrics import (
    METRICS_FILE_NAMES,
    is_metrics_file,
    last_values,
    read_metrics,
)
from ..records import CodeState, Environment, Metrics, Problem, Run, Source, Status
from ..safeio import ReadContext
from . import dvclive
from ._common import artifacts, dedupe, read_config
from ._inferred import (
    configured_epochs,
    local_from_epoch,
    log_head_and_tail,
    log_times,
    seeds_from_config,
    traceback_tail,
)

if TYPE_CHECKING:
    from ..discover import FileStat, Found

HYDRA_DIR = ".hydra"
SWEEP_FILE = "multirun.yaml"
MAX_OVERRIDES = 1_000
"""Overrides and config-group choices read from one job."""

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[_T ](\d{2})[-:](\d{2})[-:](\d{2})")
_UNREADABLE = ("invalid", "empty file", "binary", "cannot read", "file is", "not a regular", "symbolic link", "broken", "last line is not complete")
"""Starts of problem messages meaning a metrics file was cut short or could not be read (still being written?)."""


def detect(names: Set[str]) -> bool:
    """A folder holding ``.hydra/``: a Hydra job's output folder."""
    return HYDRA_DIR in names


def is_live(name: str) -> bool:
    """The job's metrics files and its log may still be appended to or rewritten."""
    return is_metrics_file(name) or name.endswith(".log")


def read(found: Found, root: Path) -> Run:
    """One Hydra job; never raises for bad input."""
    ctx = ReadContext(root)
    folder = found.dir
    listing = {f.rel: f for f in found.files}
    top = {rel: f for rel, f in listing.items() if "/" not in rel}
    files: list[str] = []

    config: dict[str, Any] = {}
    if f"{HYDRA_DIR}/config.yaml" in listing:
        config = read_config(folder / HYDRA_DIR / "config.yaml", ctx)
        files.append(f"{HYDRA_DIR}/config.yaml")
    else:
        ctx.problem(folder / HYDRA_DIR, "no config.yaml: Hydra did not record this job's config")
    overrides = _overrides(folder, listing, ctx, files)
    hydra = _hydra(folder, listing, ctx, files)
    job = _sub(hydra, "job")
    runtime = _sub(hydra, "runtime")
    mode = hydra.get("mode") if isinstance(hydra.get("mode"), str) else None
    job_num = job.get("num") if isinstance(job.get("num"), int) and not isinstance(job.get("num"), bool) else None
    multirun = mode == "MULTIRUN" or (mode is None and job_num is not None)
    job_name = job.get("name") if isinstance(job.get("name"), str) and job.get("name") else None
    version = runtime.get("version") if isinstance(runtime.get("version"), str) else None

    tags: dict[str, str] = {}
    if mode:
        tags["hydra.mode"] = clip(mode, 40)
    if overrides:
        tags["hydra.overrides"] = clip(" ".join(overrides), 500)
    sweep_time = None
    if multirun:
        if job_num is not None:
            tags["hydra.job.num"] = str(job_num)
        sweep_id = found.id.rsplit("/", 1)[0] if "/" in found.id else "."
        tags["hydra.sweep"] = sweep_id
        sweep_overrides, sweep_problems = _sweep_overrides(folder.parent / SWEEP_FILE, root)
        ctx.problems.extend(sweep_problems)
        if sweep_overrides:
            tags["hydra.sweep.overrides"] = clip(" ".join(sweep_overrides), 500)
        sweep_time = _named_time(folder.parent.name) or _path_time(folder.parent.parent.name, folder.parent.name)
    choices = runtime.get("choices")
    if isinstance(choices, Mapping):
        for group, choice in islice(choices.items(), MAX_OVERRIDES):
            if isinstance(group, str) and not group.startswith("hydra/") and choice is not None:
                tags[f"hydra.choices.{group}"] = clip(str(choice), 200)

    log = _log_name(job_name, top)
    head_tail = log_head_and_tail(folder / log, ctx) if log else None
    if log and head_tail is not None:
        files.append(log)
    first_logged, last_logged = log_times(*head_tail) if head_tail else (None, None)
    error = traceback_tail(head_tail[1]) if head_tail else None
    if error is not None and not _ends_with_traceback(head_tail[1] if head_tail else ""):
        error = None  # a traceback logged and handled earlier on: the job went on

    metrics, metric_files, live_steps = _metrics(folder, listing, ctx)
    files.extend(metric_files)
    code = CodeState()
    code_path = next((n for n in CODE_FILE_NAMES if n in top), None)
    if code_path:
        code = read_code(folder / code_path, ctx)
        files.append(code_path)
    env_paths = [folder / n for n in ENV_FILE_NAMES if n in top]
    env = read_env(env_paths, ctx) if env_paths else Environment()
    files.extend(p.name for p in env_paths)

    guessed: list[str] = []
    status = _status(config, metrics, live_steps, error, metric_files, ctx.problems, ctx, folder)
    if status != "unknown":
        guessed.append("status")
    if status == "finished" and not metrics.final and metrics.series:
        metrics = Metrics(last_values(metrics.series), metrics.series, metrics.definitions, metrics.extra)

    own_time = None if multirun else (_named_time(found.name) or _path_time(folder.parent.name, found.name))
    started = own_time or first_logged or sweep_time or _oldest(found.files)
    if own_time is None and started is not None:
        guessed.append("started")
    ended = None
    if status in ("finished", "failed"):
        ended = last_logged or _newest(found.files)
        if ended is not None:
            guessed.append("ended")
    duration = (ended - started).total_seconds() if started is not None and ended is not None and ended >= started else None
    if duration is not None:
        guessed.append("duration")
    started = started.replace(microsecond=0) if started is not None else None
    ended = ended.replace(microsecond=0) if ended is not None else None

    if overrides:
        name = clip(" ".join(overrides), 200)
    elif own_time is not None and not multirun:
        name = own_time.strftime("%Y-%m-%d_%H-%M-%S")
    else:
        name = found.name
    return Run(
        id=found.id,
        path=str(folder),
        project=clip(job_name, 120) if job_name else found.project,
        name=name,
        started=started,
        run_number=job_num if multirun else None,
        status=status,
        config=config,
        code=code,
        env=env,
        seeds=seeds_from_config(config),
        metrics=metrics,
        artifacts=artifacts(found.files),
        sweep=found.sweep,
        files=tuple(dict.fromkeys(files)),
        problems=tuple(dedupe(ctx.problems)),
        source=Source("hydra", version, tuple(guessed)),
        tags=tags,
        ended=ended,
        duration=duration,
        error=error,
    )


def _sub(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key)
    return value if isinstance(value, Mapping) else {}


def _overrides(folder: Path, listing: Mapping[str, FileStat], ctx: ReadContext, files: list[str]) -> list[str]:
    """``.hydra/overrides.yaml``: a list of ``key=value`` strings."""
    rel = f"{HYDRA_DIR}/overrides.yaml"
    if rel not in listing:
        return []
    path = folder / rel
    doc = ctx.load_structured(path)
    files.append(rel)
    if doc is None:
        return []
    if not isinstance(doc, list):
        ctx.problem(path, f"overrides.yaml is a {type(doc).__name__}, expected a list of overrides")
        return []
    if len(doc) > MAX_OVERRIDES:
        ctx.problem(path, f"more than {MAX_OVERRIDES:,} overrides; only the first {MAX_OVERRIDES:,} were read")
    return [str(item) for item in doc[:MAX_OVERRIDES] if isinstance(item, (str, int, float))]


def _hydra(folder: Path, listing: Mapping[str, FileStat], ctx: ReadContext, files: list[str]) -> Mapping[str, Any]:
    """The ``hydra`` mapping of ``.hydra/hydra.yaml`` ({} when missing or unreadable)."""
    rel = f"{HYDRA_DIR}/hydra.yaml"
    if rel not in listing:
        return {}
    doc = read_config(folder / rel, ctx)
    files.append(rel)
    hydra = doc.get("hydra")
    if doc and not isinstance(hydra, Mapping):
        ctx.problem(folder / rel, "no 'hydra' mapping in hydra.yaml")
        return {}
    return hydra or {}


@lru_cache(maxsize=256)
def _sweep_cached(path: str, size: int, mtime_ns: int, root: str) -> tuple[tuple[str, ...], tuple[Problem, ...]]:
    ctx = ReadContext(Path(root))
    doc = read_config(Path(path), ctx)
    hydra = doc.get("hydra")
    task = _sub(_sub(doc, "hydra"), "overrides").get("task") if isinstance(hydra, Mapping) else None
    overrides = tuple(str(t) for t in task[:MAX_OVERRIDES] if isinstance(t, (str, int, float))) if isinstance(task, list) else ()
    return overrides, tuple(ctx.problems)


def _sweep_overrides(path: Path, root: Path) -> tuple[tuple[str, ...], tuple[Problem, ...]]:
    """The sweep's overrides from its ``multirun.yaml`` (cached per file version; a job's parent folder, so read for every job)."""
    try:
        st = path.stat()
    except OSError:
        return (), ()
    return _sweep_cached(str(path), st.st_size, st.st_mtime_ns, str(root))


def _log_name(job_name: str | None, top: Mapping[str, FileStat]) -> str | None:
    """``<job.name>.log`` (Hydra's default file handler), else the one ``.log`` file beside ``.hydra/``."""
    if job_name and f"{job_name}.log" in top:
        return f"{job_name}.log"
    logs = [n for n in top if n.endswith(".log")]
    return logs[0] if len(logs) == 1 else None


def _ends_with_traceback(tail: str) -> bool:
    """True when the log's last lines are a traceback (the job died of it), not an exception logged long before."""
    lines = [line for line in tail.rstrip().splitlines() if line.strip()]
    start = max((i for i, line in enumerate(lines) if line.lstrip().startswith("Traceback (most recent call")), default=None)
    if start is None:
        return False
    after = lines[start + 1 :]
    stamped = [line for line in after if re.match(r"^\[?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}", line)]
    return not stamped  # nothing was logged after the traceback


def _metrics(folder: Path, listing: Mapping[str, FileStat], ctx: ReadContext) -> tuple[Metrics, list[str], int | None]:
    """Metrics files beside ``.hydra/`` and a ``dvclive/`` folder's output, merged (the files first)."""
    names = [n for n in METRICS_FILE_NAMES if n in listing] + sorted(
        n for n in listing if "/" not in n and n not in METRICS_FILE_NAMES and is_metrics_file(n)
    )
    metrics = read_metrics([folder / n for n in names], ctx) if names else Metrics()
    live_steps = None
    if any(rel.startswith(dvclive.LIVE_DIR + "/") for rel in listing):
        prefix = dvclive.LIVE_DIR + "/"
        output = dvclive.read_output(folder / dvclive.LIVE_DIR, ctx, {r[len(prefix):] for r in listing if r.startswith(prefix)})
        names += [prefix + f for f in output.files]
        live_steps = output.steps
        metrics = Metrics(
            {**output.metrics.final, **metrics.final},
            {**output.metrics.series, **metrics.series},
            {**output.metrics.definitions, **metrics.definitions},
            {**output.metrics.extra, **metrics.extra},
        )
    return metrics, names, live_steps


def _status(
    config: Mapping[str, Any],
    metrics: Metrics,
    live_steps: int | None,
    error: str | None,
    metric_files: list[str],
    problems: list[Problem],
    ctx: ReadContext,
    folder: Path,
) -> Status:
    """What the job's log and metrics suggest: Hydra itself records no status."""
    if error is not None:
        return "failed"
    cut_short = {ctx.rel(folder / n) for n in metric_files}
    if any(p.file in cut_short and p.message.startswith(_UNREADABLE) for p in problems):
        return "incomplete"
    if metrics.final:
        return "finished"
    steps = max([len(s) for s in metrics.series.values()] + [live_steps or 0])
    if not steps:
        return "unknown"
    epochs = configured_epochs(config)
    if epochs is None:
        return "unknown"
    return "finished" if steps >= epochs else "incomplete"


def _path_time(date_part: str, time_part: str) -> datetime | None:
    """``2025-01-07`` + ``14-32-11`` (Hydra's default ``${now:%Y-%m-%d}/${now:%H-%M-%S}``)."""
    if not (_DATE.fullmatch(date_part) and _TIME.fullmatch(time_part)):
        return None
    try:
        return datetime.strptime(f"{date_part} {time_part}", "%Y-%m-%d %H-%M-%S")
    except ValueError:
        return None


def _named_time(name: str) -> datetime | None:
    """A date and time within one folder name (``2025-01-07_14-32-11``)."""
    match = _DATE_TIME.search(name)
    if match is None:
        return None
    try:
        return datetime.strptime(f"{match.group(1)} {match.group(2)}-{match.group(3)}-{match.group(4)}", "%Y-%m-%d %H-%M-%S")
    except ValueError:
        return None


def _oldest(files: tuple[FileStat, ...]) -> datetime | None:
    record = [f.mtime_ns for f in files if f.rel.startswith(HYDRA_DIR + "/")] or [f.mtime_ns for f in files]
    return local_from_epoch(min(record) / 1e9) if record else None


def _newest(files: tuple[FileStat, ...]) -> datetime | None:
    return local_from_epoch(max(f.mtime_ns for f in files) / 1e9) if files else None

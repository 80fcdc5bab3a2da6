"""DVCLive: the folder that holds ``dvclive/`` is a run, named after that folder.

What DVCLive 3.x writes (``with Live() as live``): ``dvclive/params.yaml`` (``log_params``),
``dvclive/metrics.json`` (the latest value of every metric, nested by ``/``, plus the 0-based
``step``), ``dvclive/plots/metrics/<name>.tsv`` (``step`` and the value, one row per
``log_metric``; ``timestamp`` in milliseconds when asked for) and a ``dvc.yaml`` beside
``dvclive/`` that lists them and the artifacts. In a DVC repository DVCLive also leaves
``.dvc/tmp/exps/run/DVCLIVE_ONLY`` while a run is going (a killed run leaves it behind) and
``.dvc/tmp/exps/run/<id>/<id>.run`` (the experiment's name and the commit it started from).

Nothing records a status or a time. What is inferred, and listed in ``source.guessed``: the
status from the steps logged against the planned epochs (``epochs`` in the params), start and
end from the rows' timestamps when logged, else from the files' modification times.

A DVCLive output folder met on its own (``Live(dir=...)``, or ``dvclive/`` when the walk starts
in the project) is a run too, when it holds nothing but DVCLive's own files.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..fmt import clip
from ..readers.metrics import is_metrics_file, parse_metrics_csv, read_metrics
from ..records import Artifact, CodeState, Metrics, Run, Source, Status
from ..safeio import MAX_TEXT_BYTES, ReadContext, Unreadable, parse_json
from ._common import _artifact_kind, artifacts, dedupe, read_config
from ._inferred import configured_epochs, list_tree, local_from_epoch, seeds_from_config

if TYPE_CHECKING:
    from ..discover import FileStat, Found

LIVE_DIR = "dvclive"
"""DVCLive's default output folder; the folder that holds it is the run."""
DVC_YAML = "dvc.yaml"
OWN_NAMES = frozenset(("metrics.json", "params.yaml", "plots", "report.html", "report.md", DVC_YAML, "artifacts"))
"""Everything DVCLive writes into its output folder: a folder of these alone is a DVCLive output."""
_PACKAGE_SIGNS = (".dist-info", ".egg-info")
"""Names beside a ``dvclive`` folder that make it the Python package (site-packages), not a run's output."""

MAX_ROWS = 500_000
"""Rows read from one metric's TSV; the rest are reported, not read."""
MAX_RUN_FILES = 64
"""``.run`` files of DVC's experiment bookkeeping looked at."""
_RUNS_DIR = (".dvc", "tmp", "exps", "run")
_SIGNAL = "DVCLIVE_ONLY"
_SHA = re.compile(r"[0-9a-f]{40}")


def detect(names: Set[str]) -> bool:
    """A folder holding ``dvclive/`` (not the package in site-packages), or a DVCLive output folder itself."""
    if LIVE_DIR in names:
        if DVC_YAML in names or ".dvc" in names:
            return True
        return "__init__.py" not in names and not any(n.endswith(_PACKAGE_SIGNS) for n in names)
    return is_output_folder(names)


def is_output_folder(names: Set[str]) -> bool:
    """Only DVCLive's own files, with its plots and its metrics summary."""
    return "plots" in names and "metrics.json" in names and names <= OWN_NAMES


def is_live(name: str) -> bool:
    """``dvc.yaml`` is rewritten at every step (the metrics themselves are one level down)."""
    return name in (DVC_YAML, "metrics.json") or is_metrics_file(name)


@dataclass(slots=True)
class LiveOutput:
    """What one DVCLive output folder holds."""

    metrics: Metrics = field(default_factory=Metrics)
    steps: int | None = None
    """Steps logged (DVCLive counts from 0), from the rows and the summary's ``step``."""
    first: datetime | None = None
    last: datetime | None = None
    """Times of the first and last rows, when DVCLive was asked to log timestamps."""
    files: list[str] = field(default_factory=list)
    """Files read, relative to the output folder."""


def read_output(live: Path, ctx: ReadContext, names: Set[str] | None = None) -> LiveOutput:
    """Metrics of a DVCLive output folder: the summary and every metric's TSV; never raises.

    ``names`` are the relative paths known to exist (the walk's listing); None to look on disk.
    """
    out = LiveOutput()
    if not ctx.inside_root(live):
        ctx.problem(live, "link to a folder outside the root; not read")
        return out
    summary = live / "metrics.json"
    if (names is not None and "metrics.json" in names) or (names is None and summary.is_file()):
        summary_metrics = read_metrics([summary], ctx)
        out.files.append("metrics.json")
    else:
        summary_metrics = Metrics()
    series: dict[str, tuple[tuple[float, float], ...]] = {}
    stamps: list[float] = []
    plots = live / "plots" / "metrics"
    if plots.is_dir() and not ctx.inside_root(plots):
        ctx.problem(plots, "link to a folder outside the root; not read")
    elif plots.is_dir():
        for path in list_tree(plots, (".tsv", ".csv"), ctx):
            rel = path.relative_to(plots).as_posix()
            name = rel.rsplit(".", 1)[0].replace("/", ".")
            got = _read_tsv(path, ctx, stamps)
            if len(got) == 1:
                series.setdefault(name, next(iter(got.values())))
            else:
                for column, points in got.items():
                    series.setdefault(f"{name}.{column}", points)
            out.files.append(path.relative_to(live).as_posix())
    step = summary_metrics.extra.get("step")
    counted = [int(points[-1][0]) + 1 for points in series.values() if points]
    if isinstance(step, int) and not isinstance(step, bool) and step >= 0:
        counted.append(step + 1)
    out.steps = max(counted) if counted else None
    if stamps:
        out.first, out.last = local_from_epoch(min(stamps) / 1000), local_from_epoch(max(stamps) / 1000)
    out.metrics = Metrics(summary_metrics.final, {**summary_metrics.series, **series}, summary_metrics.definitions, summary_metrics.extra)
    return out


class _Rows:
    """A TSV's lines, bounded, remembering the header and the timestamp column as they go by."""

    def __init__(self, ctx: ReadContext, path: Path, stamps: list[float]) -> None:
        self.ctx, self.path, self.stamps = ctx, path, stamps
        self.failed = False
        self.truncated = False

    def __iter__(self) -> Iterator[tuple[int, str]]:
        header: list[str] | None = None
        stamp_col: int | None = None
        delimiter = "\t" if self.path.suffix == ".tsv" else ","
        try:
            for number, text in islice(self.ctx.iter_lines(self.path), MAX_ROWS + 1):
                if number > MAX_ROWS:
                    self.truncated = True
                    return
                if header is None and text.strip():
                    header = [h.strip().lstrip("\ufeff") for h in text.split(delimiter)]
                    stamp_col = header.index("timestamp") if "timestamp" in header else None
                elif stamp_col is not None:
                    cells = text.split(delimiter)
                    if stamp_col < len(cells):
                        with contextlib.suppress(ValueError):
                            self.stamps.append(float(cells[stamp_col]))
                yield number, text
        except Unreadable as exc:
            self.failed = True
            self.ctx.problem(self.path, exc.message, exc.line)


def _read_tsv(path: Path, ctx: ReadContext, stamps: list[float]) -> dict[str, tuple[tuple[float, float], ...]]:
    rows = _Rows(ctx, path, stamps)
    parsed = parse_metrics_csv(rows, "\t" if path.suffix == ".tsv" else ",")
    if rows.failed:
        return {}
    for message, line in parsed.messages:
        ctx.problem(path, message, line)
    if rows.truncated:
        ctx.problem(path, f"more than {MAX_ROWS:,} rows; only the first {MAX_ROWS:,} were read")
    return parsed.series


def read(found: Found, root: Path) -> Run:
    """One DVCLive run: params, metrics, artifacts and what DVC's bookkeeping says; never raises."""
    ctx = ReadContext(root)
    folder = found.dir
    listing = {f.rel: f for f in found.files}
    nested = any(rel.startswith(LIVE_DIR + "/") for rel in listing)
    live = folder / LIVE_DIR if nested else folder
    prefix = LIVE_DIR + "/" if nested else ""
    files: list[str] = []

    config: dict[str, Any] = {}
    if nested and "params.yaml" in listing:  # a DVC pipeline's own params, under what DVCLive logged
        config = read_config(folder / "params.yaml", ctx)
        files.append("params.yaml")
    if prefix + "params.yaml" in listing:
        config = _merged(config, read_config(live / "params.yaml", ctx))
        files.append(prefix + "params.yaml")

    output = read_output(live, ctx, {rel[len(prefix):] for rel in listing if rel.startswith(prefix)})
    files.extend(prefix + f for f in output.files)

    dvc_yaml = DVC_YAML if DVC_YAML in listing else (prefix + DVC_YAML if prefix + DVC_YAML in listing else None)
    found_artifacts = list(artifacts(found.files))
    if dvc_yaml is not None:
        found_artifacts += _declared_artifacts(folder / dvc_yaml, folder, listing, ctx)
        files.append(dvc_yaml)

    signal, experiment = (_bookkeeping(folder, ctx, files) if nested and any(r.startswith(".dvc/") for r in listing) else (None, None))
    tags: dict[str, str] = {}
    code = CodeState()
    exp_name = (signal or {}).get("exp_name") or (experiment or {}).get("name")
    if isinstance(exp_name, str) and exp_name:
        tags["dvc.experiment"] = clip(exp_name, 200)
    if experiment is not None and (signal is None or experiment.get("name") == exp_name):
        rev = experiment.get("baseline_rev")
        if isinstance(rev, str) and _SHA.fullmatch(rev) and rev != "0" * 40:
            code = CodeState(commit=rev)

    guessed: list[str] = []
    status = _status(config, output.steps, signal is not None, guessed)
    started, ended = output.first, output.last
    if started is not None:
        guessed.append("started")
    else:
        started = _file_time(found.files, prefix, oldest=True)
        if started is not None:
            guessed.append("started")
    if status != "finished":
        ended = None
    elif ended is None:
        ended = _file_time(found.files, prefix, oldest=False)
    if ended is not None:
        guessed.append("ended")
    duration = (ended - started).total_seconds() if started is not None and ended is not None else None
    if duration is not None:
        guessed.append("duration")

    name = found.name if (nested or found.name != LIVE_DIR) else found.project
    return Run(
        id=found.id,
        path=str(folder),
        project=found.project,
        name=name,
        started=started,
        status=status,
        config=config,
        code=code,
        seeds=seeds_from_config(config),
        metrics=output.metrics,
        artifacts=_unique(found_artifacts),
        sweep=found.sweep,
        files=tuple(dict.fromkeys(files)),
        problems=tuple(dedupe(ctx.problems)),
        source=Source("dvclive", None, tuple(guessed)),
        tags=tags,
        ended=ended,
        duration=duration,
    )


def _status(config: Mapping[str, Any], steps: int | None, running: bool, guessed: list[str]) -> Status:
    """``incomplete`` while DVCLive's marker says the run never ended; else steps logged against planned epochs."""
    if running:
        return "incomplete"
    epochs = configured_epochs(config)
    if epochs is None or steps is None:
        return "unknown"
    guessed.append("status")
    return "finished" if steps >= epochs else "incomplete"


def _bookkeeping(folder: Path, ctx: ReadContext, files: list[str]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """DVC's marker of a DVCLive run still going (or killed), and the one experiment record, if unambiguous."""
    runs = folder.joinpath(*_RUNS_DIR)
    signal_path = runs / _SIGNAL
    signal = None
    if signal_path.is_file() and ctx.inside_root(signal_path):
        signal = _small_json(signal_path, ctx) or {}
        files.append(signal_path.relative_to(folder).as_posix())
    records: list[tuple[Path, dict[str, Any]]] = []
    try:
        inside = runs.is_dir() and ctx.inside_root(runs)
        subdirs = sorted(p for p in islice(runs.iterdir(), 10 * MAX_RUN_FILES) if p.is_dir() and not p.is_symlink())[:MAX_RUN_FILES] if inside else []
    except OSError:
        subdirs = []
    for sub in subdirs:
        path = sub / f"{sub.name}.run"
        if path.is_file():
            doc = _small_json(path, ctx)
            if doc is not None:
                records.append((path, doc))
    if signal is not None and signal.get("exp_name"):
        matching = [r for r in records if r[1].get("name") == signal.get("exp_name")]
    else:
        matching = records
    if len(matching) != 1:
        return signal, None
    files.append(matching[0][0].relative_to(folder).as_posix())
    return signal, matching[0][1]


def _small_json(path: Path, ctx: ReadContext) -> dict[str, Any] | None:
    text = ctx.read_text(path, MAX_TEXT_BYTES)
    if text is None:
        return None
    try:
        doc = parse_json(text)
    except Unreadable as exc:
        ctx.problem(path, exc.message, exc.line)
        return None
    if not isinstance(doc, Mapping):
        ctx.problem(path, f"a {type(doc).__name__}, expected a JSON object")
        return None
    return dict(doc)


def _declared_artifacts(path: Path, folder: Path, listing: Mapping[str, FileStat], ctx: ReadContext) -> list[Artifact]:
    """Artifacts ``dvc.yaml`` declares (``log_artifact``) that are on disk: name, size and kind."""
    doc = ctx.load_structured(path)
    if doc is None:
        return []
    if not isinstance(doc, Mapping):
        ctx.problem(path, f"dvc.yaml is a {type(doc).__name__}, expected a mapping")
        return []
    declared = doc.get("artifacts")
    if declared is None:
        return []
    if not isinstance(declared, Mapping):
        ctx.problem(path, "'artifacts' is not a mapping of names to paths; ignored")
        return []
    base = path.parent.relative_to(folder).as_posix()
    out = []
    for name, spec in islice(declared.items(), 1000):
        where = spec.get("path") if isinstance(spec, Mapping) else None
        if not isinstance(where, str) or not where:
            ctx.problem(path, f"artifact '{name}' has no path; ignored")
            continue
        rel = where if base == "." else f"{base}/{where}"
        stat = listing.get(rel.removeprefix("./"))
        if stat is None:
            continue  # not on disk (DVC keeps it in its cache or a remote)
        kind = "model" if isinstance(spec, Mapping) and spec.get("type") == "model" else _artifact_kind(rel.rsplit("/", 1)[-1], Path(rel).suffix.lower())
        out.append(Artifact(stat.rel, stat.size, kind))
    return out


def _unique(found: list[Artifact]) -> tuple[Artifact, ...]:
    """One artifact per path; a declared kind (dvc.yaml's ``type``) wins over one from the name."""
    by_path: dict[str, Artifact] = {}
    for artifact in found:
        by_path[artifact.path] = artifact
    return tuple(by_path.values())


def _file_time(files: tuple[FileStat, ...], prefix: str, *, oldest: bool) -> datetime | None:
    """The oldest (or newest) modification time of DVCLive's own files: a guess at the start (or end)."""
    times = [f.mtime_ns for f in files if f.rel.startswith(prefix)]
    if not times:
        return None
    return local_from_epoch((min(times) if oldest else max(times)) / 1e9)


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, mapping by mapping."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


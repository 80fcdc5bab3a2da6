"""Sacred's FileStorageObserver: ``<dir>/<id>/`` with ``run.json``, ``config.json``, ``metrics.json``, ``cout.txt``.

``run.json`` holds the experiment (``name``, ``repositories[]`` with ``commit``/``dirty``/``url``,
``dependencies`` as ``name==version``), the host (``hostname``, ``python_version``, ``os``, ``cpu``,
``gpus``), ``meta`` (``comment``, ``config_updates``, ``named_configs``), ``status`` (COMPLETED,
FAILED, INTERRUPTED, TIMEOUT or another interrupt's name, QUEUED, RUNNING), ``start_time``,
``stop_time`` and ``heartbeat`` (naive UTC), ``fail_trace`` (a list of traceback lines),
``result`` and the ``artifacts`` saved beside it. ``config.json`` is the config, its ``seed``
Sacred's seed; ``metrics.json`` is ``{name: {steps, values, timestamps}}``. ``_sources/`` and
``_resources/`` beside the run folders are Sacred's store, not runs.

A run that still says RUNNING but whose last heartbeat is more than :data:`STALE_AFTER` older than
its newest file (or than the time of reading) stopped without Sacred noticing, as when the
process is killed: it is ``failed``, and ``status`` is listed as guessed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Set
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from ..fmt import clip
from ..readers.env import parse_env
from ..records import Artifact, CodeState, Environment, Metrics, Run, Source, Status
from ..safeio import MAX_STRUCTURED_BYTES, ReadContext, Unreadable, parse_json
from ._common import _artifact_kind, artifacts, dedupe, read_config
from ._inferred import error_tail, local_from_utc, seeds_from_config, utc_time

if TYPE_CHECKING:
    from ..discover import Found

RUN_FILE = "run.json"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
COUT_FILE = "cout.txt"
INFO_FILE = "info.json"

STALE_AFTER = 600.0
"""Seconds without a heartbeat after which a RUNNING run is taken for dead (Sacred beats every 10 s)."""
MAX_METRICS = 10_000
"""Metric names read from one metrics.json."""
MAX_POINTS = 2_000_000
"""Points read from one metrics.json, over all its metrics."""
MAX_LIST = 10_000
"""Entries read from run.json's lists (dependencies, fail_trace lines, artifacts)."""

_ENDED: dict[str, Status] = {"COMPLETED": "finished", "FAILED": "failed"}
_NOT_ENDED: dict[str, Status] = {"RUNNING": "incomplete", "QUEUED": "incomplete"}
_INTERRUPTS = {
    "INTERRUPTED": "interrupted (KeyboardInterrupt, e.g. Ctrl-C or SIGINT)",
    "TIMEOUT": "timed out (TimeoutInterrupt)",
}

_now = time.time
"""The clock a RUNNING run's heartbeat is compared with (tests replace it)."""


def detect(names: Set[str]) -> bool:
    """``run.json`` with ``config.json`` or ``cout.txt``: a FileStorageObserver run folder."""
    return RUN_FILE in names and (CONFIG_FILE in names or COUT_FILE in names)


def is_live(name: str) -> bool:
    """Sacred rewrites these in place at every heartbeat and at the end."""
    return name in (RUN_FILE, METRICS_FILE, COUT_FILE, INFO_FILE)


def read(found: Found, root: Path) -> Run:
    """One Sacred run; never raises for bad input."""
    ctx = ReadContext(root)
    folder = found.dir
    top = {f.rel: f for f in found.files if "/" not in f.rel}
    files: list[str] = []

    doc: Mapping[str, Any] = {}
    if RUN_FILE in top:
        loaded = ctx.load_structured(folder / RUN_FILE)
        files.append(RUN_FILE)
        if isinstance(loaded, Mapping):
            doc = loaded
        elif loaded is not None:
            ctx.problem(folder / RUN_FILE, f"run.json is a {type(loaded).__name__}, expected a JSON object")
    else:
        ctx.problem(folder / RUN_FILE, "not a file: Sacred's record of the run is missing")
    experiment = _mapping(doc, "experiment")
    host = _mapping(doc, "host")
    meta = _mapping(doc, "meta")

    config: dict[str, Any] = {}
    if CONFIG_FILE in top:
        config = read_config(folder / CONFIG_FILE, ctx)
        files.append(CONFIG_FILE)
    series: dict[str, tuple[tuple[float, float], ...]] = {}
    if METRICS_FILE in top:
        series = _series(folder / METRICS_FILE, ctx)
        files.append(METRICS_FILE)

    guessed: list[str] = []
    started = local_from_utc(doc.get("start_time"))
    stop = local_from_utc(doc.get("stop_time"))
    status, error = _status(doc, found, folder, ctx, guessed)
    trace = doc.get("fail_trace")
    if isinstance(trace, list) and trace:
        text = "".join(str(line) for line in islice(trace, MAX_LIST))
        error = error_tail(text) or error
    if error is None and status == "failed" and doc.get("status") in _INTERRUPTS:
        error = _INTERRUPTS[str(doc.get("status"))]

    final: dict[str, float] = {}
    if status == "finished":
        final = {name: points[-1][1] for name, points in series.items() if points}
    extra: dict[str, Any] = {}
    result = doc.get("result")
    if _is_number(result):
        final["result"] = float(result)
    elif result is not None:
        extra["result"] = clip(json.dumps(result, default=str), 500) if not isinstance(result, str) else clip(result, 500)

    exp_name = experiment.get("name")
    exp_name = clip(exp_name, 200) if isinstance(exp_name, str) and exp_name.strip() else None
    packages = _packages(experiment.get("dependencies"), folder / RUN_FILE, ctx)
    version = packages.get("sacred")
    hostname = host.get("hostname")
    start_s, stop_s = _utc_seconds(doc.get("start_time")), _utc_seconds(doc.get("stop_time"))
    duration = round(stop_s - start_s, 3) if start_s is not None and stop_s is not None and stop_s >= start_s else None
    return Run(
        id=found.id,
        path=str(folder),
        project=exp_name or found.project,
        name=f"{exp_name}-{found.name}" if exp_name else found.name,
        started=started,
        run_number=int(found.name) if found.name.isascii() and found.name.isdigit() and len(found.name) < 10 else None,
        status=status,
        config=config,
        code=_code(experiment.get("repositories")),
        env=_environment(host, packages),
        seeds=seeds_from_config(config),
        metrics=Metrics(final=final, series=series, extra=extra),
        artifacts=_artifacts(doc.get("artifacts"), found, ctx),
        notes=str(meta.get("comment") or ""),
        sweep=found.sweep,
        files=tuple(files),
        problems=tuple(dedupe(ctx.problems)),
        source=Source("sacred", version, tuple(guessed)),
        tags=_tags(doc, meta),
        ended=stop,
        duration=duration,
        host=clip(hostname, 200) if isinstance(hostname, str) and hostname else None,
        error=error,
    )


def _mapping(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key)
    return value if isinstance(value, Mapping) else {}


def _status(doc: Mapping[str, Any], found: Found, folder: Path, ctx: ReadContext, guessed: list[str]) -> tuple[Status, str | None]:
    """The recorded status; a RUNNING run whose heartbeat went stale is taken for dead (a guess)."""
    said = doc.get("status")
    if not isinstance(said, str) or not said.strip():
        if doc:
            ctx.problem(folder / RUN_FILE, "no status recorded")
        return "unknown", None
    said = said.strip().upper()
    if said in _ENDED:
        return _ENDED[said], None
    if said == "RUNNING":
        beat = _utc_seconds(doc.get("heartbeat")) or _utc_seconds(doc.get("start_time"))
        reference = _now()  # not file times: a copied or checked-out run's files are as new as the copy
        if beat is not None and reference - beat > STALE_AFTER:
            guessed.append("status")
            last = local_from_utc(doc.get("heartbeat") or doc.get("start_time"))
            return "failed", (
                f"stopped without an end: Sacred still says RUNNING, but its last heartbeat ({last}) is "
                f"{_age(reference - beat)} old; the process was killed or died"
            )
        return "incomplete", None
    if said in _NOT_ENDED:
        return _NOT_ENDED[said], None
    if said in _INTERRUPTS:
        return "failed", None
    return "failed", f"stopped: {clip(said, 60)}"  # another SacredInterrupt's STATUS


def _utc_seconds(value: Any) -> float | None:
    when = utc_time(value)
    return when.timestamp() if when is not None else None


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def _series(path: Path, ctx: ReadContext) -> dict[str, tuple[tuple[float, float], ...]]:
    """``{name: {steps, values, timestamps}}`` as series; a bad entry is a problem, the others load."""
    doc = _load_json(path, ctx)
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        ctx.problem(path, f"metrics.json is a {type(doc).__name__}, expected a JSON object")
        return {}
    out: dict[str, tuple[tuple[float, float], ...]] = {}
    budget = MAX_POINTS
    skipped = 0
    if len(doc) > MAX_METRICS:
        ctx.problem(path, f"more than {MAX_METRICS:,} metrics; only the first {MAX_METRICS:,} were read")
    for name, entry in islice(doc.items(), MAX_METRICS):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("values"), list):
            ctx.problem(path, f"metric '{clip(str(name), 80)}' has no list of values; ignored")
            continue
        values = entry["values"]
        steps = entry.get("steps")
        if not isinstance(steps, list):
            steps = list(range(len(values)))
        elif len(steps) != len(values):
            ctx.problem(path, f"metric '{clip(str(name), 80)}' has {len(steps)} steps for {len(values)} values; read the pairs that match")
        points: dict[float, float] = {}
        for step, value in zip(steps, values):
            if budget <= 0:
                break
            if not _is_number(step) or not _is_number(value):
                skipped += 1
                continue
            budget -= 1
            points[float(step)] = float(value)
        out[str(name)] = tuple(sorted(points.items()))
        if budget <= 0:
            ctx.problem(path, f"more than {MAX_POINTS:,} points; the rest were not read")
            break
    if skipped:
        ctx.problem(path, f"{skipped} point(s) with a non-numeric step or value skipped")
    return out


def _load_json(path: Path, ctx: ReadContext) -> Any:
    """A JSON file up to the structured-file size limit, however many values it holds (JSON has no aliases)."""
    text = ctx.read_text(path, MAX_STRUCTURED_BYTES)
    if text is None:
        return None
    if not text.strip():
        ctx.problem(path, "empty file (still being written?)")
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        try:
            parse_json(text)  # for its message: where, and whether the file ends early
        except Unreadable as exc:
            ctx.problem(path, exc.message, exc.line)
        else:  # pragma: no cover - both parsers take the same text
            ctx.problem(path, "invalid JSON")
        return None


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _packages(value: Any, path: Path, ctx: ReadContext) -> dict[str, str]:
    """``experiment.dependencies`` (``name==version``) as normalised package names and versions."""
    if value is None:
        return {}
    if not isinstance(value, list):
        ctx.problem(path, "experiment.dependencies is not a list; ignored")
        return {}
    text = "\n".join(str(d) for d in islice(value, MAX_LIST) if isinstance(d, str))
    env, _issues = parse_env(text, "requirements.txt")
    return dict(env.packages)


def _code(value: Any) -> CodeState:
    """The first repository Sacred found the sources in: commit, dirty, url (and how many there were)."""
    repos = [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []
    if not repos:
        return CodeState()
    first = repos[0]
    commit = first.get("commit")
    dirty = first.get("dirty")
    extra = {}
    if isinstance(first.get("url"), str):
        extra["url"] = clip(first["url"], 300)
    if len(repos) > 1:
        extra["repositories"] = str(len(repos))
    return CodeState(
        commit=clip(commit, 80) if isinstance(commit, str) and commit else None,
        dirty=dirty if isinstance(dirty, bool) else None,
        extra=extra,
    )


def _environment(host: Mapping[str, Any], packages: dict[str, str]) -> Environment:
    python = host.get("python_version")
    os_info = host.get("os")
    if isinstance(os_info, list):
        os_text = str(os_info[-1]) if os_info else None
    else:
        os_text = str(os_info) if isinstance(os_info, str) else None
    hardware = []
    if isinstance(host.get("cpu"), str):
        hardware.append(f"CPU: {clip(host['cpu'], 120)}")
    gpus = host.get("gpus")
    if isinstance(gpus, Mapping) and isinstance(gpus.get("gpus"), list):
        for gpu in islice(gpus["gpus"], 64):
            if isinstance(gpu, Mapping) and gpu.get("model"):
                hardware.append(f"GPU: {clip(str(gpu['model']), 120)}")
    extra = {}
    if isinstance(gpus, Mapping) and gpus.get("driver_version"):
        extra["gpu_driver"] = clip(str(gpus["driver_version"]), 60)
    return Environment(
        python=clip(python, 40) if isinstance(python, str) and python else None,
        os=clip(os_text, 200) if os_text else None,
        hardware=tuple(hardware),
        packages=packages,
        extra=extra,
    )


def _artifacts(value: Any, found: Found, ctx: ReadContext) -> tuple[Artifact, ...]:
    """Files the run saved (``run.json``'s ``artifacts``) with their sizes, plus loose model/plot files."""
    sizes = {f.rel: f.size for f in found.files}
    out = {a.path: a for a in artifacts(found.files)}
    if isinstance(value, list):
        for name in islice(value, MAX_LIST):
            if not isinstance(name, str) or name not in sizes or name in (RUN_FILE, CONFIG_FILE, METRICS_FILE, COUT_FILE):
                continue
            out.setdefault(name, Artifact(name, sizes[name], _artifact_kind(name, Path(name).suffix.lower())))
    return tuple(out.values())


def _tags(doc: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, str]:
    """The command run, and what the command line changed (``with`` updates, named configs)."""
    tags: dict[str, str] = {}
    command = doc.get("command") or meta.get("command")
    if isinstance(command, str) and command:
        tags["sacred.command"] = clip(command, 80)
    updates = meta.get("config_updates")
    if isinstance(updates, Mapping) and updates:
        pairs = [f"{k}={json.dumps(v, default=str)}" for k, v in _flat(updates)]
        tags["sacred.config_updates"] = clip(" ".join(pairs), 500)
    named = meta.get("named_configs")
    if isinstance(named, list) and named:
        tags["sacred.named_configs"] = clip(" ".join(str(n) for n in islice(named, 100)), 300)
    return tags


def _flat(mapping: Mapping[str, Any], prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in islice(mapping.items(), 1000):
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and depth < 16:
            out.extend(_flat(value, name + ".", depth + 1))
        else:
            out.append((name, value))
    return out

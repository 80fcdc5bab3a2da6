"""W&B runs as wandb leaves them on disk, read without wandb.

``wandb.init(dir=D)`` writes ``D/wandb/offline-run-<YYYYMMDD_HHMMSS>-<id>/`` (``run-...`` when the
run was online), beside a ``latest-run`` link and ``debug*.log`` links. A run folder holds:

* ``run-<id>.wandb``, the transaction log (framing and records: :mod:`._wandb_records`): the run
  record (project, display name, tags, notes, group, start time, host, git, the config as
  ``{key, value_json}`` items), later config records, history rows (``nested_key`` paths in 0.2x
  and later, ``key`` with a JSON value before: both become dotted metric names), summary updates
  (the final values), console output (standard error gives the traceback of a crash), the
  ``environment`` record (0.2x and later) and the exit record: present and empty means exit
  code 0, absent means the run never finished (killed, or still running).
* ``files/``: ``requirements.txt`` (packages), ``wandb-metadata.json`` (python, host, user, git,
  start before 0.2x; its ``state`` is written once at the start and never updated, so it is not
  read), ``wandb-summary.json``, ``output.log``, ``diff.patch`` when the tree was dirty and, for a
  run synced online, ``config.yaml`` with every value wrapped as ``{desc, value}``. Other files
  there are the run's saved files: artifacts (names and sizes only).

The log is the source of truth; the files under ``files/`` fill what it lacks (a log damaged
past reading, an older wandb). A ``files/`` folder met on its own (an online run copied without
its log) is read as the W&B run of its parent folder, never as a run called "files".

The log's records are gathered by :mod:`._wandb_state` (their values decoded by
:mod:`._wandb_values`); this module finds the log, reads the files under ``files/`` and maps
what they say to a Run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Set
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..readers.env import merge_env, read_env
from ..readers.metrics import last_values
from ..records import Artifact, CodeState, Metrics, Run, Source
from ..safeio import MAX_TEXT_BYTES, ReadContext, Unreadable
from ._common import _artifact_kind, dedupe
from ._inferred import error_tail, nest, seeds_from_config
from ._wandb_records import LogProblems, check_header, parse, scan_chunks
from ._wandb_state import _State

if TYPE_CHECKING:
    from ..discover import FileStat, Found

FORMAT = "wandb"
LOG_PREFIX, LOG_SUFFIX = "run-", ".wandb"
FILES_DIR = "files"
METADATA = "wandb-metadata.json"
SUMMARY = "wandb-summary.json"
CONFIG_YAML = "config.yaml"
REQUIREMENTS = "requirements.txt"
OUTPUT_LOG = "output.log"
DIFF_PATCH = "diff.patch"
WANDB_DIR = "wandb"
BOOKKEEPING = frozenset(
    {METADATA, SUMMARY, CONFIG_YAML, REQUIREMENTS, OUTPUT_LOG, DIFF_PATCH, "conda-environment.yaml", "wandb-job.json"}
)
"""Files wandb itself writes under ``files/``: not the run's artifacts."""

MAX_RECORDS = 5_000_000
"""Records read from one log at most."""
DROPPED_CONFIG_KEYS = ("_wandb", "wandb_version")
"""wandb's own entries in a config: not the run's."""
CONTAINER_METRICS = "metrics.json"
"""A folder with wandb's files but no log, holding this too, is a hand-written run container that kept them."""
_GIT_KEYS = frozenset({"commit", "remote", "remote_url", "last_commit", "branch"})


def detect(names: Set[str]) -> bool:
    """A folder holding ``run-<id>.wandb``, or a W&B ``files/`` folder met without its run folder."""
    for name in names:
        if name.endswith(LOG_SUFFIX) and name.startswith(LOG_PREFIX) and len(name) > len(LOG_PREFIX) + len(LOG_SUFFIX):
            return True
    return (METADATA in names or (SUMMARY in names and CONFIG_YAML in names)) and CONTAINER_METRICS not in names


LATEST_LINK = "latest-run"


def skip(names: Set[str]) -> Set[str]:
    """In a ``wandb/`` folder, the ``latest-run`` link: it names one of the runs beside it, never a run of its own."""
    if LATEST_LINK in names and any(n.startswith(("run-", "offline-run-")) for n in names):
        return frozenset({LATEST_LINK})
    return frozenset()


def is_live(name: str) -> bool:
    """The log grows in place while a run goes on (resumed, or still running after a quiet day)."""
    return name.endswith(LOG_SUFFIX)


def read(found: Found, root: Path) -> Run:
    """Read one W&B run folder; never raises for bad input."""
    ctx = ReadContext(root)
    folder = found.dir
    listed = {f.rel: f for f in found.files}
    logs = sorted(n for n in listed if "/" not in n and n.endswith(LOG_SUFFIX) and n.startswith(LOG_PREFIX))
    # Without a log, detect claimed this folder for wandb's own files in it: a files/ folder met on
    # its own, read as the run of its parent folder.
    bare = not logs
    prefix = "" if bare else f"{FILES_DIR}/"
    run_dir_name = (Path(found.id).parent.name or found.name) if bare else found.name
    state = _State()
    read_files: list[str] = []

    if logs:
        if len(logs) > 1:
            ctx.problem(folder, f"{len(logs)} W&B logs in one run folder ({', '.join(logs[:3])}); read {logs[0]}")
        log = folder / logs[0]
        read_files.append(logs[0])
        state.log_read = _scan_log(log, ctx, state)

    def has(name: str) -> bool:
        return prefix + name in listed

    def path(name: str) -> Path:
        return folder / (prefix + name)

    def note(name: str) -> None:
        read_files.append(prefix + name)

    if has(METADATA) and not state.environment_seen:
        note(METADATA)
        state.metadata(_mapping(ctx.load_structured(path(METADATA)), ctx, path(METADATA)))
    config_yaml: dict[str, Any] = {}
    if has(CONFIG_YAML) and not state.config_seen:
        note(CONFIG_YAML)
        config_yaml = _unwrap_config(_mapping(ctx.load_structured(path(CONFIG_YAML)), ctx, path(CONFIG_YAML)))
        state.config_yaml(config_yaml)
    if has(SUMMARY) and not state.summary_seen:
        note(SUMMARY)
        doc = _mapping(ctx.load_structured(path(SUMMARY)), ctx, path(SUMMARY))
        for key, value in doc.items():
            state.summary_set([str(key)], value)
    env = state.environment()
    if has(REQUIREMENTS):
        note(REQUIREMENTS)
        env = merge_env(env, read_env([path(REQUIREMENTS)], ctx))
    code = state.code()
    if has(DIFF_PATCH):
        note(DIFF_PATCH)
        code = _with_diff(code, path(DIFF_PATCH), listed[prefix + DIFF_PATCH].size, ctx)

    status, guessed, error = state.status()
    if status == "failed" and not state.stderr and has(OUTPUT_LOG):
        tail = _output_tail(path(OUTPUT_LOG), listed[prefix + OUTPUT_LOG].size, ctx)
        if tail:
            note(OUTPUT_LOG)
            error = error_tail(tail) or error
    metrics = state.metrics(ctx, folder / logs[0] if logs else folder)
    if not metrics.final and metrics.series and status == "finished":
        metrics = Metrics(last_values(metrics.series), metrics.series, metrics.definitions, metrics.extra)

    config = nest(_drop_internal(state.config))
    started, start_epoch = state.started(run_dir_name)
    duration = state.duration()
    ended = _ended(start_epoch, duration)
    return Run(
        id=found.id,
        path=str(folder),
        project=state.project or _project_from_path(found, root, bare),
        name=state.name or run_dir_name,
        started=started,
        status=status,
        config=config,
        code=code,
        env=env,
        seeds=seeds_from_config(config),
        metrics=metrics,
        artifacts=_artifacts(found.files, prefix),
        notes=state.notes,
        sweep=found.sweep,
        files=tuple(dict.fromkeys(read_files)),
        problems=tuple(dedupe(ctx.problems)),
        source=Source(FORMAT, state.version(), tuple(dict.fromkeys(guessed))),
        tags=state.tags(),
        ended=ended,
        duration=duration,
        user=state.user,
        host=state.host,
        exit_code=state.exit_code,
        error=error,
    )


# -- the log -----------------------------------------------------------------------------


def _scan_log(path: Path, ctx: ReadContext, state: _State) -> bool:
    """Feed every record of the log to ``state``; False when the log could not be read at all."""
    try:
        size = ctx.check_file(path, None)
    except Unreadable as exc:
        ctx.problem(path, exc.message)
        return False
    problems = LogProblems()
    count = 0
    try:
        with open(path, "rb") as fh:
            why = check_header(fh.read(7))
            if why is not None:
                ctx.problem(path, why)
                return False
            for at, data in scan_chunks(fh, size, problems):
                count += 1
                if count > MAX_RECORDS:
                    problems.add(at, f"more than {MAX_RECORDS:,} records; the rest of the log was not read")
                    break
                try:
                    record = parse(data)
                except ValueError as exc:
                    problems.add(at, f"not a readable record ({exc}); skipped")
                    continue
                state.record(record, at, problems)
    except OSError as exc:
        ctx.problem(path, f"cannot read: {exc.strerror or exc}")
    for message in problems.messages():
        ctx.problem(path, message)
    return True


def _ended(start: float | None, duration: float | None) -> datetime | None:
    """Start plus the recorded duration, in local time like the start."""
    if start is None or duration is None or not math.isfinite(duration):
        return None
    try:
        return datetime.fromtimestamp(start + duration).replace(microsecond=0)
    except (OverflowError, OSError, ValueError):
        return None


# -- the config and the files under files/ ---------------------------------------------------


def _drop_internal(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config without wandb's own entries (``_wandb``; a ``git`` block wandb added)."""
    out = {}
    for key, value in config.items():
        if key in DROPPED_CONFIG_KEYS:
            continue
        if key == "git" and isinstance(value, Mapping) and value and set(value) <= _GIT_KEYS:
            continue
        out[key] = value
    return out


def _unwrap_config(doc: Mapping[str, Any]) -> dict[str, Any]:
    """An online run's ``config.yaml``: every value as ``{desc, value}``; ``wandb_version`` dropped."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "wandb_version":
            continue
        if isinstance(value, Mapping) and "value" in value and set(value) <= {"desc", "value"}:
            value = value["value"]
        out[str(key)] = value
    return out


def _mapping(doc: Any, ctx: ReadContext, path: Path) -> dict[str, Any]:
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        ctx.problem(path, f"is a {type(doc).__name__}, expected a mapping")
        return {}
    return {str(k): v for k, v in doc.items()}


def _output_tail(path: Path, size: int, ctx: ReadContext) -> str | None:
    """``files/output.log`` when small enough to read whole (a crash's traceback is at its end)."""
    if size > MAX_TEXT_BYTES:
        return None
    return ctx.read_text(path, MAX_TEXT_BYTES)


_DIFF_FILE = re.compile(r"^diff --git a/(\S+) b/", re.MULTILINE)


def _with_diff(code: CodeState, path: Path, size: int, ctx: ReadContext) -> CodeState:
    """``files/diff.patch``: wandb saves it when the work tree had changes."""
    if size == 0:
        return code
    text = ctx.read_text(path, MAX_TEXT_BYTES)
    if text is None or not text.strip():
        return code
    changed = tuple(dict.fromkeys(_DIFF_FILE.findall(text)))[:1000]
    return CodeState(commit=code.commit, dirty=True, changed_files=changed, extra=code.extra)


# -- layout ----------------------------------------------------------------------------------


def _project_from_path(found: Found, root: Path, bare: bool) -> str:
    """The folder that holds ``wandb/`` (what ``wandb.init(dir=...)`` was given), else the enclosing folder."""
    parts = found.id.split("/")
    if bare:
        parts = parts[:-1]  # .../run-x/files: the run folder is the parent
    if len(parts) >= 2 and parts[-2] == WANDB_DIR:
        return parts[-3] if len(parts) >= 3 else Path(root).name
    return parts[-2] if len(parts) >= 2 else found.project


def _artifacts(files: tuple[FileStat, ...], prefix: str) -> tuple[Artifact, ...]:
    """Files the run saved under ``files/`` (wandb's own files excepted): names and sizes only."""
    out = []
    for f in files:
        if prefix and not f.rel.startswith(prefix):
            continue
        rel = f.rel[len(prefix):]
        name = rel.rsplit("/", 1)[-1]
        if rel in BOOKKEEPING or (name.startswith("wandb-") and name.endswith(".json")) or name.endswith(".patch"):
            continue
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        out.append(Artifact(f.rel, f.size, _artifact_kind(name, f".{ext}" if ext else "")))
    return tuple(out)

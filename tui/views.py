"""Rich renderables for records and diffs, shared by the command line and the app.

Every value that comes from a run goes through :func:`runsift.tui.safe.literal`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from runsift.core.diff import Change
from runsift.core.fmt import (
    clip,
    format_delta,
    format_duration,
    format_measured,
    format_number,
    format_pair,
    format_size,
    format_value,
)
from runsift.core.mappings import flatten
from runsift.core.readers.env import requirement
from runsift.core.records import ABTest, Record, Run, Sweep
from runsift.core.remotepaths import shown_path

from .safe import literal, visible

STATUS_STYLE = {"finished": "green", "failed": "red", "incomplete": "yellow", "unknown": "dim"}
ERROR_LINES = 8
"""Last lines of a recorded error shown beside the run (the traceback's end says what broke)."""


def guessed(run: Run, field: str, text: str | None) -> str | None:
    """``text``, marked as a guess when the run's reader inferred the field rather than read it."""
    return f"{text} (guessed)" if text and field in run.source.guessed else text


def run_status(run: Run) -> Text:
    """A run's status, styled, and marked as a guess when runsift inferred it: as a diff's header names each run."""
    return literal(guessed(run, "status", run.status) or run.status, STATUS_STYLE.get(run.status, "dim"))


def provenance_rows(run: Run) -> list[tuple[str, Any]]:
    """What wrote the run and when, who ran it where, and how it ended: rows for a key/value table."""
    source = " ".join(x for x in (run.source.format, run.source.version) if x)
    status = literal(guessed(run, "status", run.status) or run.status, STATUS_STYLE.get(run.status, ""))
    error = "\n".join(run.error.strip().splitlines()[-ERROR_LINES:]) if run.error and run.error.strip() else None
    return [
        ("status", status),
        ("exit code", run.exit_code),
        ("error", literal(error, "red", one_line=False) if error else None),
        ("started", guessed(run, "started", run.started.isoformat(sep=" ") if run.started else None)),
        ("ended", guessed(run, "ended", run.ended.isoformat(sep=" ") if run.ended else None)),
        ("duration", guessed(run, "duration", format_duration(run.duration))),
        ("source", source if source != "container" else None),
        ("user", run.user),
        ("host", run.host),
        ("tags", ", ".join(f"{k}={v}" if v not in ("", None) else str(k) for k, v in run.tags.items())),
    ]


def rank_metrics(names: Sequence[str]) -> list[str]:
    """Most useful metrics first: validation/test metrics, then others, losses and timings last."""

    def rank(item: tuple[int, str]) -> tuple[int, int]:
        index, name = item
        lowered = name.lower()
        if lowered.startswith(("val", "test", "eval")) and "loss" not in lowered:
            group = 0
        elif "loss" in lowered or "time" in lowered:
            group = 2
        else:
            group = 1
        return group, index

    return [name for _, name in sorted(enumerate(names), key=rank)]


def record_sections(record: Record) -> list[tuple[str, Any]]:
    """(title, renderable or None) for each section of a record."""
    if isinstance(record, Run):
        return run_sections(record)
    if isinstance(record, Sweep):
        return sweep_sections(record)
    return abtest_sections(record)


def kv_table(rows: Sequence[tuple[str, Any]]) -> Table | None:
    rows = [(k, v) for k, v in rows if v not in (None, "", (), {}, [])]
    if not rows:
        return None
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(literal(key), value if isinstance(value, Text) else literal(format_value(value)))
    return table


def run_sections(run: Run) -> list[tuple[str, Any]]:
    sections: list[tuple[str, Any]] = [
        (
            f"Run {visible(run.id, one_line=True)}",
            kv_table([
                ("project", run.project),
                ("name", run.name),
                *provenance_rows(run),
                ("sweep", run.sweep),
                ("path", shown_path(run.path)),
            ]),
        ),
        (
            "Code",
            kv_table([
                ("commit", run.code.commit),
                ("dirty", run.code.dirty),
                ("changed files", ", ".join(run.code.changed_files)),
                *run.code.extra.items(),
            ]),
        ),
        (
            "Environment",
            kv_table([
                ("python", run.env.python),
                ("os", run.env.os),
                ("hardware", "; ".join(run.env.hardware)),
                *run.env.extra.items(),
                ("packages", ", ".join(requirement(k, v) for k, v in sorted(run.env.packages.items()))),
            ]),
        ),
        (
            "Data",
            kv_table([
                ("name", run.data.name),
                ("version", run.data.version),
                ("format", run.data.format),
                ("rows", run.data.rows),
                *run.data.hashes.items(),
                *run.data.extra.items(),
            ]),
        ),
        ("Splits", splits_table(run)),
        ("Seeds", kv_table(list(run.seeds.items()))),
        ("Config", kv_table([(k, _config_value(v)) for k, v in flatten(run.config)])),
        ("Metrics", metrics_table(run)),
        ("Artifacts", kv_table([(a.path, f"{a.kind}, {format_size(a.size)}") for a in run.artifacts])),
        ("Notes", literal(run.notes.strip(), one_line=False) if run.notes.strip() else None),
    ]
    return sections


def _config_value(value: Any) -> Any:
    """A config value as written: null and empty values are values, not missing keys, so they are shown."""
    if value is None:
        return "null"
    return _EMPTY[type(value)] if type(value) in _EMPTY and not value else value


_EMPTY: dict[type, str] = {str: '""', list: "[]", tuple: "[]", dict: "{}"}


def splits_table(run: Run) -> Table | None:
    if not run.splits:
        return None
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("split", "ids", "sha256", "file"):
        table.add_column(col)
    for s in run.splits:
        table.add_row(literal(s.name), f"{s.count:,}", s.sha256[:16] + "…", literal(s.source))
    return table


def metrics_table(run: Run) -> Table | None:
    m = run.metrics
    names = list(dict.fromkeys([*m.final, *m.series, *m.definitions]))
    if not names:
        return None
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col, justify in (("metric", "left"), ("final", "right"), ("steps", "right"), ("definition", "left")):
        table.add_column(col, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for name in names:
        d = m.definitions.get(name)
        parts = []
        if d is not None:
            parts += [f"v{d.version}" if d.version else "", f"threshold {format_number(d.threshold)}" if d.threshold is not None else "", f"goal {d.goal}" if d.goal else "", d.text or ""]
        series = m.series.get(name, ())
        table.add_row(
            literal(name),
            format_measured(m.final[name]) if name in m.final else "—",
            str(len(series)) if series else "",
            literal("; ".join(p for p in parts if p)),
        )
    return table


def sweep_sections(sweep: Sweep) -> list[tuple[str, Any]]:
    board = None
    if sweep.leaderboard:
        board = Table(box=None, header_style="bold", pad_edge=False)
        for col in sweep.leaderboard_columns:
            board.add_column(literal(col))  # a str header would be parsed as markup
        for row in sweep.leaderboard:
            board.add_row(*(literal(row.values.get(c, "")) for c in sweep.leaderboard_columns))
    return [
        (
            f"Sweep {visible(sweep.id, one_line=True)}",
            kv_table([("project", sweep.project), ("metric", sweep.metric), ("goal", sweep.goal), ("runs", len(sweep.run_ids)), ("path", sweep.path)]),
        ),
        ("Search space", kv_table(list(flatten(sweep.spec)))),
        ("Baseline config", kv_table(list(flatten(sweep.baseline_config)))),
        ("Runs", kv_table([(r, "") for r in sweep.run_ids]) if sweep.run_ids else None),
        ("Saved leaderboard", board),
        ("Notes", literal(sweep.notes.strip(), one_line=False) if sweep.notes.strip() else None),
    ]


def abtest_sections(ab: ABTest) -> list[tuple[str, Any]]:
    return [
        (
            f"A/B test {visible(ab.id, one_line=True)}",
            kv_table([
                ("experiment", ab.experiment_id),
                ("unit", ab.unit),
                ("variants", ", ".join(f"{k} {v:.0%}" for k, v in ab.variants.items())),
                ("start", ab.started.isoformat(sep=" ") if ab.started else None),
                ("end", ab.ended.isoformat(sep=" ") if ab.ended else None),
                ("assignments", f"{ab.assignment_rows:,} rows in {ab.assignment_log}" if ab.assignment_log and ab.assignment_rows is not None else ab.assignment_log),
                ("events", f"{ab.events_rows:,} rows in {ab.events_log}" if ab.events_log and ab.events_rows is not None else ab.events_log),
            ]),
        ),
        ("Definition", kv_table(list(flatten(ab.definition)))),
        ("Metric definitions", kv_table(list(flatten(ab.metric_definitions)))),
        ("Event schemas", kv_table(list(flatten(ab.event_schemas)))),
        ("Analysis plan", kv_table(list(flatten(ab.analysis_plan)))),
        ("Saved result", kv_table(list(flatten(ab.saved_result)))),
        ("Query", literal(ab.query.strip(), one_line=False) if ab.query.strip() else None),
        ("Notes", literal(ab.notes.strip(), one_line=False) if ab.notes.strip() else None),
    ]



CHANGE_STYLE = {"added": "green", "removed": "red", "changed": "yellow", "type_changed": "magenta", "upgraded": "cyan", "downgraded": "magenta", "same": "dim"}


def value_cell(value: Any, limit: int = 200) -> Text:
    return literal(clip(format_value(value), limit))


def pair_texts(c: Change) -> tuple[str, str]:
    """A change's two values as text; a metric's two numbers at the decimals of the more precise (``0.926400`` beside ``0.926045``).

    Config values keep their own text (``0.001`` against ``0.01``): the rule is for measurements.
    """
    if "delta" in c.detail and all(isinstance(v, float) for v in (c.a, c.b)):
        shown: tuple[str, str] = format_pair(c.a, c.b)
        return shown
    return format_value(c.a), format_value(c.b)


def pair_cells(c: Change, limit: int = 200) -> tuple[Text, Text]:
    """:func:`pair_texts` as literal cells cut at ``limit``."""
    ta, tb = pair_texts(c)
    return literal(clip(ta, limit)), literal(clip(tb, limit))


def change_text(c: Change) -> Text:
    style = CHANGE_STYLE.get(c.change, "")
    words = c.change.replace("_", " ")
    if c.detail.get("level"):
        words += f" ({c.detail['level']})"
    if "delta" in c.detail:
        words = format_delta(c.detail.get("delta"), c.detail.get("relative"))
        better = c.detail.get("better")
        style = "green" if better is True else "red" if better is False else "yellow"
        if better is not None:
            words += " better" if better else " worse"
    if "common" in c.detail:
        words += f": {c.detail['common']:,} common, {c.detail['only_a']:,} only in A, {c.detail['only_b']:,} only in B"
    return literal(words, style)



"""What wrote a run, when, where, and how it ended: shown by `show` and the app, with guesses marked."""

from __future__ import annotations

from datetime import datetime

from conftest import make_run, plain_text

from runsift.core.catalog import Catalog
from runsift.core.fmt import format_duration
from runsift.core.records import Run, Source
from runsift.tui.views import kv_table, provenance_rows


def _run(**fields: object) -> Run:
    return Run(id="p/r", path="/x/p/r", project="p", name="r", **fields)  # type: ignore[arg-type]


def test_tracker_facts_are_shown_and_guesses_marked() -> None:
    traceback = "\n".join(f"  frame {i}" for i in range(30)) + "\nRuntimeError: loss is NaN [red]x[/red]"
    run = _run(
        status="failed",
        started=datetime(2025, 1, 7, 14, 0, 0),
        ended=datetime(2025, 1, 7, 14, 30, 5),
        duration=1805.0,
        source=Source("mlflow", "3.17.0", ("ended",)),
        user="ana",
        host="gpu-7",
        exit_code=1,
        error=traceback,
        tags={"team": "fraud", "baseline": ""},
    )
    text = plain_text(kv_table(provenance_rows(run)))
    assert "mlflow 3.17.0" in text and "ana" in text and "gpu-7" in text and "exit code" in text
    assert "2025-01-07 14:30:05 (guessed)" in text and "2025-01-07 14:00:00 (guessed)" not in text
    assert "30 min 5 s" in text and "team=fraud" in text and "baseline" in text
    assert "RuntimeError: loss is NaN [red]x[/red]" in text  # the traceback's end, literally
    assert "frame 3" not in text  # only its last lines


def test_a_container_run_started_from_file_times_says_it_is_a_guess(tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "exp"
    make_run(root / "p" / "no-time-in-name")
    make_run(root / "p" / "2025-01-07_14-32-11_run-023")
    with Catalog.open(root) as cat:
        guessed = cat.get("p/no-time-in-name")
        named = cat.get("p/2025-01-07_14-32-11_run-023")
    assert isinstance(guessed, Run) and "started" in guessed.source.guessed
    assert "(guessed)" in plain_text(kv_table(provenance_rows(guessed)))
    assert isinstance(named, Run) and "started" not in named.source.guessed and named.source.format == "container"


def test_a_container_status_is_recorded_only_when_written(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The run container format has no status field of its own: a status.txt or a "status" in metrics.json is
    a record; finished because final metrics exist, failed because an error log exists, is runsift's guess."""
    root = tmp_path / "exp"
    make_run(root / "p" / "2025-01-07_14-32-11_run-001", metrics={"final": {"val_auc": 0.9}, "status": "finished"})
    make_run(root / "p" / "2025-01-07_14-32-11_run-002", metrics={"final": {"val_auc": 0.9}})
    make_run(root / "p" / "2025-01-07_14-32-11_run-003", metrics={"final": {"val_auc": 0.9}})
    (root / "p" / "2025-01-07_14-32-11_run-003" / "error.log").write_text("Traceback ...\nValueError: boom\n")
    with Catalog.open(root) as cat:
        runs = [cat.get(f"p/2025-01-07_14-32-11_run-00{i}") for i in (1, 2, 3)]
    assert [(r.status, "status" in r.source.guessed) for r in runs if isinstance(r, Run)] == [
        ("finished", False), ("finished", True), ("failed", True)
    ]


def test_format_duration() -> None:
    assert [format_duration(s) for s in (None, -1.0, 0.4, 59.6, 185, 8040, 273600)] == ["", "", "0 s", "1 min 0 s", "3 min 5 s", "2 h 14 min", "3 d 4 h"]


def test_filters_on_what_wrote_the_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from runsift.core.query import parse_filter

    root = tmp_path / "exp"
    make_run(root / "p" / "a")
    with Catalog.open(root) as cat:
        assert cat.ids(filters=[parse_filter("source=container")]) == ["p/a"]
        assert cat.ids(filters=[parse_filter("source=mlflow")]) == []
        assert cat.ids(filters=[parse_filter("tags.team=fraud")]) == []  # a run without the tag is not a match


def test_a_failed_run_keeps_the_end_of_its_error_log(experiments) -> None:  # type: ignore[no-untyped-def]
    with Catalog.open(experiments) as cat:
        run = cat.get("fraud-model/2025-01-09_10-00-00_run-025")
    assert isinstance(run, Run) and run.status == "failed"
    assert run.error is not None and run.error.splitlines()[-1] == "RuntimeError: loss is NaN"
    assert "RuntimeError: loss is NaN" in plain_text(kv_table(provenance_rows(run)))


def test_list_names_drop_a_leading_date_time_but_never_keep_only_its_seconds() -> None:
    from runsift.core.naming import short_name

    assert short_name("2025-01-07_14-32-11_run-023") == "run-023"
    assert short_name("20250107-143211-abc123") == "abc123"
    assert short_name("2026-12-07_03-54-27") == "2026-12-07_03-54-27"  # a Hydra job named by its time alone
    assert short_name("2025-01-07") == "2025-01-07"


def test_show_lists_config_keys_whose_value_is_null_or_empty() -> None:
    from runsift.tui.views import run_sections

    run = _run(config={"grad_clip": None, "tag": "", "layers": [], "extra": {}, "lr": 0.1, "features": ["a", "b"]})
    config = next(body for title, body in run_sections(run) if title == "Config")
    text = plain_text(config)
    for line in ("grad_clip  null", 'tag        ""', "layers     []", "extra      {}", "lr         0.1", "features   ["):
        assert line in text


def test_explain_says_when_an_unfinished_status_is_runsifts_guess(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """'B incomplete' reads as a fact; when the run recorded no status, explain says it is an inference."""
    from runsift.core.explain.comparable import comparability

    root = tmp_path / "exp"
    series = {"val_auc": [[1, 0.8], [2, 0.85]]}  # two of the three epochs the config plans
    make_run(root / "p" / "2025-01-07_14-32-11_run-001", metrics={"final": {}, "series": series, "status": "incomplete"})
    make_run(root / "p" / "2025-01-07_14-32-11_run-002", metrics={"final": {}, "series": series})
    with Catalog.open(root) as cat:
        recorded, guessed = (cat.get(f"p/2025-01-07_14-32-11_run-00{i}") for i in (1, 2))
    assert isinstance(recorded, Run) and isinstance(guessed, Run)
    assert (recorded.status, guessed.status) == ("incomplete", "incomplete") and "status" in guessed.source.guessed
    _, warnings = comparability(recorded, guessed, "val_auc")
    said = {w.path: w.message for w in warnings if w.section == "status"}
    assert "inferred" not in said["A.status"] and "A incomplete:" in said["A.status"]
    assert said["B.status"].startswith("B incomplete (inferred by runsift from the run's files, not read from a recorded status):")

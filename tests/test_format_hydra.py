"""Hydra job folders, checked against what Hydra itself wrote and reported (tests/fixtures/make_hydra.py)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from tracker_fixtures import (
    FIXTURES,
    copy_fixture,
    damaged,
    expected,
    floats,
    found_runs,
    read_run,
    snapshot,
)

from runsift.core import formats
from runsift.core.catalog import Catalog
from runsift.core.discover import discover
from runsift.core.explain import explain
from runsift.core.formats import _hydra_sweep, container, hydra
from runsift.core.leaderboard import LeaderboardError, build_leaderboard
from runsift.core.loader import load
from runsift.core.records import Run, Sweep

EXPECTED = expected("hydra")
RUNS = {r["path"]: r for r in EXPECTED["runs"]}
SCENARIO = {r["scenario"]: r["path"] for r in EXPECTED["runs"]}
SWEEPS = EXPECTED["sweeps"]
(SWEEP,) = [s for s, e in SWEEPS.items() if e["sweeper"] == "basic"]
(SEARCH,) = [s for s, e in SWEEPS.items() if e["sweeper"] == "optuna"]
REPLICATES = [r["path"] for r in EXPECTED["runs"] if r["scenario"] == "replicates"]
TRIALS = [r["path"] for r in EXPECTED["runs"] if r["scenario"] == "search"]
STATUS = {
    "finished": "finished",
    "lr_change": "finished",
    "replicates": "finished",
    "search": "finished",
    "crashed": "incomplete",
    "killed": "incomplete",
}
"""Hydra writes nothing about a crash or a kill: both end without final metrics, short of the planned epochs."""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_fixture("hydra", tmp_path)


def test_fixtures_were_written_by_hydra_1_3() -> None:
    assert EXPECTED["library"]["hydra-core"].startswith("1.3.")
    assert {r["scenario"] for r in EXPECTED["runs"]} == set(STATUS)
    assert len(REPLICATES) == 3 and len(TRIALS) == 4
    assert EXPECTED["library"]["hydra-optuna-sweeper"] and SWEEPS[SEARCH]["optimization_results"]["name"] == "optuna"


@pytest.mark.parametrize("path", sorted(RUNS))
def test_every_field_matches_what_hydra_reported(path: str) -> None:
    want = RUNS[path]
    run = read_run(FIXTURES / "hydra", path)
    assert run.source.format == "hydra" and run.source.version == want["hydra_version"]
    assert run.project == want["job_name"]
    assert run.config == want["config"]
    assert run.seeds == {"seed": want["config"]["seed"]}
    assert run.status == STATUS[want["scenario"]]
    assert "status" in run.source.guessed
    assert run.tags["hydra.mode"] == want["mode"]
    assert run.tags["hydra.choices.model"] == want["choices"]["model"]
    assert not any(k.startswith("hydra.choices.hydra/") for k in run.tags)
    for name, points in want["series"].items():
        assert run.metrics.series[name] == floats(points)
    if want["final"] is not None:
        assert run.metrics.final == want["final"]
        assert [a.path for a in run.artifacts] == ["weights.npy"] and run.artifacts[0].kind == "model"
    else:
        assert run.metrics.final == {} and run.ended is None and run.duration is None
    assert {".hydra/config.yaml", ".hydra/overrides.yaml", ".hydra/hydra.yaml", "train.log", "metrics.jsonl"} <= set(run.files)
    assert run.problems == ()
    if want["mode"] == "RUN":
        date, time = path.split("/")[1:]
        assert run.started == datetime.strptime(f"{date} {time}", "%Y-%m-%d %H-%M-%S")
        assert "started" not in run.source.guessed  # the path is Hydra's record of the start
        assert run.name == (" ".join(want["overrides"]) or f"{date}_{time}")
    else:
        assert run.name == " ".join(want["overrides"])  # a sweep's job is named by its overrides
        assert run.run_number == want["job_num"] and run.tags["hydra.job.num"] == str(want["job_num"])
        sweep = path.rsplit("/", 1)[0]
        assert run.tags["hydra.sweep"] == sweep and run.sweep == sweep  # a member of its multirun's sweep record
        if SWEEPS[sweep]["overrides"] is not None:
            assert run.tags["hydra.sweep.overrides"] == " ".join(SWEEPS[sweep]["overrides"])
        else:  # Optuna's sweeper writes no multirun.yaml
            assert "hydra.sweep.overrides" not in run.tags
        assert "started" in run.source.guessed and run.started is not None
    if run.status == "finished":
        assert run.ended is not None and run.started <= run.ended and {"ended", "duration"} <= set(run.source.guessed)


def test_the_walk_finds_every_job_and_nothing_else() -> None:
    found = found_runs(FIXTURES / "hydra")
    assert {i for i, f in found.items() if f.kind == "run"} == set(RUNS)
    assert {i for i, f in found.items() if f.kind == "sweep"} == set(SWEEPS)
    assert all(f.format == "hydra" for f in found.values())


def test_detection_claims_job_folders_only() -> None:
    fixture = FIXTURES / "hydra"
    for path in RUNS:
        names = {p.name for p in (fixture / path).iterdir()}
        assert hydra.detect(names)
        assert formats.detect(names).name == "hydra"
    not_runs = [
        fixture / SWEEP,  # multirun.yaml and the job folders: the sweep, not a run
        fixture / SEARCH,  # optimization_results.yaml and the job folders
        fixture / SWEEP / "..",
        fixture / "outputs",
        fixture / "outputs" / next(iter(RUNS)).split("/")[1],
        fixture / SCENARIO["finished"] / ".hydra",
    ]
    for folder in not_runs:
        names = {p.name for p in folder.iterdir()}
        assert formats.detect(names) is None, folder
        assert not container.detect(names)


def test_the_catalog_lists_the_jobs_and_explains_the_learning_rate(root: Path) -> None:
    lr_run = SCENARIO["lr_change"]
    replicate = next(p for p in REPLICATES if RUNS[p]["overrides"] == ["seed=2"])
    with Catalog.open(root) as cat:
        rows = {r.id: r for r in cat.list(kind="run")}
        assert len(rows) == len(RUNS) == 11
        assert {i: r.status for i, r in rows.items()} == {p: STATUS[RUNS[p]["scenario"]] for p in RUNS}
        records = {i: cat.get(i) for i in rows}
        result = explain(cat, lr_run, replicate, "val_loss")
    assert {r.project for r in records.values()} == {"train"}
    assert sorted(records[p].name for p in REPLICATES) == ["seed=1", "seed=2", "seed=3"]
    assert records[lr_run].name == "optimizer.lr=0.01 seed=1"
    causes = {(c.section, c.path): (c.a, c.b) for c in result.causes}
    assert causes[("config", "optimizer.lr")] == (0.01, 0.1)
    assert not any(section == "config" and path != "optimizer.lr" for section, path in causes)


def test_reading_writes_nothing(root: Path) -> None:
    before = snapshot(root)
    with Catalog.open(root) as cat:
        for rid in cat.ids():
            cat.get(rid)
        explain(cat, SCENARIO["lr_change"], REPLICATES[0], "val_loss")
    assert snapshot(root) == before


@pytest.mark.parametrize(
    "rel",
    [".hydra/config.yaml", ".hydra/hydra.yaml", ".hydra/overrides.yaml", "metrics.json", "metrics.jsonl", "train.log"],
)
def test_damaged_files_become_problems_never_exceptions(root: Path, rel: str) -> None:
    run_id = REPLICATES[0]
    path = root / run_id / rel
    original = path.read_bytes()
    for what, data in damaged(original):
        path.write_bytes(data)
        run = read_run(root, run_id)
        assert isinstance(run, Run), what
        assert run.source.format == "hydra"
        if data != original and rel != "train.log" and not data.strip():
            assert any(p.file.endswith(rel) for p in run.problems), (what, run.problems)


def test_damaged_sweep_file_is_a_problem_on_its_jobs(root: Path) -> None:
    (root / SWEEP / "multirun.yaml").write_bytes(b"hydra: {overrides: [\x00")
    run = read_run(root, REPLICATES[1])
    assert run.status == "finished" and "hydra.sweep.overrides" not in run.tags
    assert any(p.file.endswith("multirun.yaml") for p in run.problems)


def test_missing_record_files_are_problems(root: Path) -> None:
    job = root / REPLICATES[0]
    (job / ".hydra" / "config.yaml").unlink()
    (job / ".hydra" / "hydra.yaml").write_text("- not\n- a mapping\n")
    run = read_run(root, REPLICATES[0])
    assert run.config == {} and run.project == job.parent.parent.name  # no job name recorded: its sweep's, the folder holding it
    messages = " ".join(p.message for p in run.problems)
    assert "no config.yaml" in messages and "expected a mapping" in messages


def test_a_log_ending_in_a_traceback_is_a_failure(root: Path) -> None:
    job = root / SCENARIO["crashed"]
    with open(job / "train.log", "a", encoding="utf-8") as log:
        log.write(
            "[2026-12-07 03:54:29,001][__main__][ERROR] - training failed\n"
            "Traceback (most recent call last):\n"
            '  File "train.py", line 30, in main\n'
            "RuntimeError: loss exploded at epoch 3\n"
        )
    run = read_run(root, SCENARIO["crashed"])
    assert run.status == "failed" and "status" in run.source.guessed
    assert run.error is not None and run.error.endswith("RuntimeError: loss exploded at epoch 3")
    assert run.ended == datetime(2026, 12, 7, 3, 54, 29)


def test_a_traceback_the_job_got_past_is_not_a_failure(root: Path) -> None:
    job = root / SCENARIO["finished"]
    text = (job / "train.log").read_text()
    lines = text.splitlines(keepends=True)
    (job / "train.log").write_text("".join(lines[:1]) + "Traceback (most recent call last):\nValueError: retried\n" + "".join(lines[1:]))
    run = read_run(root, SCENARIO["finished"])
    assert run.status == "finished" and run.error is None


def test_dvclive_output_inside_a_job_is_its_metrics(root: Path) -> None:
    job = root / SCENARIO["killed"]
    shutil.copytree(FIXTURES / "dvclive" / "baseline" / "dvclive", job / "dvclive")
    run = read_run(root, SCENARIO["killed"])
    assert run.source.format == "hydra"
    assert "train.loss" in run.metrics.final and len(run.metrics.series["train.loss"]) == 5
    assert run.metrics.series["loss"] == floats(RUNS[SCENARIO["killed"]]["series"]["loss"])  # the job's own file still wins
    assert "dvclive/metrics.json" in run.files
    assert run.status == "finished"  # final metrics now recorded


def test_is_live_watches_metrics_and_the_log() -> None:
    assert hydra.is_live("metrics.jsonl") and hydra.is_live("train.log")
    assert not hydra.is_live("weights.npy")


# -- multiruns as sweeps -----------------------------------------------------------------


def _sweeps(root: Path) -> dict[str, Sweep]:
    with Catalog.open(root, use_cache=False) as cat:
        out = {i: cat.get(i) for i in cat.ids(kind="sweep")}
    assert all(isinstance(s, Sweep) for s in out.values())
    return out  # type: ignore[return-value]


def _jobs_of(sweep: str) -> list[str]:
    return sorted(r["path"] for r in EXPECTED["runs"] if r["path"].rsplit("/", 1)[0] == sweep)


def test_a_basic_multirun_is_a_sweep_of_its_jobs_with_no_objective(root: Path) -> None:
    sweep = _sweeps(root)[SWEEP]
    want = SWEEPS[SWEEP]
    assert set(sweep.run_ids) == set(_jobs_of(SWEEP)) == set(REPLICATES)
    assert sweep.name == " ".join(want["overrides"]) and sweep.project == want["job_name"]
    key, _, values = want["overrides"][0].partition("=")  # seed=1,2,3: what Hydra recorded as swept
    assert sweep.spec["parameters"] == {key: [int(v) for v in values.split(",")]}
    assert sweep.spec["sweeper"] == "basic" and sweep.spec["overrides"] == want["overrides"]
    assert sweep.metric is None and sweep.goal is None  # the basic sweeper records no objective: none invented
    assert "records no objective" in sweep.notes
    date, time = SWEEP.split("/")[1:]
    assert sweep.started == datetime.strptime(f"{date} {time}", "%Y-%m-%d %H-%M-%S")
    base = next(r for r in EXPECTED["runs"] if r["path"] == REPLICATES[0])["config"]
    assert sweep.baseline_config == {**base, "seed": 0}  # the config before the swept overrides
    assert sweep.problems == ()
    with Catalog.open(root, use_cache=False) as cat, pytest.raises(LeaderboardError, match="names no metric"):
        build_leaderboard(cat, sweep)


def test_an_optuna_search_is_a_sweep_ranked_by_the_objective_it_recorded(root: Path) -> None:
    sweep = _sweeps(root)[SEARCH]
    want = SWEEPS[SEARCH]
    results = want["optimization_results"]
    trials = {p: RUNS[p] for p in TRIALS}
    assert set(sweep.run_ids) == set(trials)
    assert sweep.goal == {"minimize": "min", "maximize": "max"}[want["direction"]]
    (best,) = [p for p, r in trials.items() if all(f"{k}={v!r}" in r["overrides"] for k, v in results["best_params"].items())]
    (metric,) = [m for m, v in trials[best]["final"].items() if v == results["best_value"]]
    assert sweep.metric == metric == "val_loss" and best in sweep.notes
    assert sweep.spec["results"] == results and sweep.spec["direction"] == want["direction"]
    tried = [float(o.split("=")[1]) for p in sorted(trials, key=lambda p: int(p.rsplit("/", 1)[1])) for o in trials[p]["overrides"] if o.startswith("optimizer.lr=")]
    assert sweep.spec["parameters"] == {"optimizer.lr": tried}  # seed=1 was the same in every trial: not swept
    with Catalog.open(root, use_cache=False) as cat:
        board = build_leaderboard(cat, sweep)
    assert board.metric == "val_loss" and board.goal == sweep.goal and board.goal_source == "sweep"
    assert board.winner is not None and board.winner.run_id == best
    assert [r.value for r in board.rows] == sorted(r["final"]["val_loss"] for r in trials.values())


@pytest.mark.parametrize("change", ["no-match", "two-match", "multi-objective", "no-best-job"])
def test_an_objective_hydra_did_not_name_stays_unknown(root: Path, change: str) -> None:
    path = root / SEARCH / _hydra_sweep.RESULTS_FILE
    results = dict(SWEEPS[SEARCH]["optimization_results"])
    best_job = next(p for p in TRIALS if f"optimizer.lr={results['best_params']['optimizer.lr']!r}" in RUNS[p]["overrides"])
    if change == "no-match":
        results["best_value"] = 12.5
    elif change == "two-match":  # the job's loss written equal to its val_loss: which one was returned?
        metrics = root / best_job / "metrics.json"
        metrics.write_text(f'{{"loss": {results["best_value"]!r}, "val_loss": {results["best_value"]!r}}}', encoding="utf-8")
    elif change == "multi-objective":
        results = {"name": "optuna", "solutions": [{"params": results["best_params"], "values": [1.0, 2.0]}]}
    else:
        results["best_params"] = {"optimizer.lr": 0.5}
    path.write_text(json.dumps(results), encoding="utf-8")  # YAML reads JSON
    sweep = _sweeps(root)[SEARCH]
    assert sweep.metric is None and sweep.goal == "min" and "unknown" in sweep.notes
    assert set(sweep.run_ids) == set(TRIALS)


@pytest.mark.parametrize("rel", ["multirun.yaml", "optimization_results.yaml"])
def test_damaged_sweep_files_are_problems_on_the_sweep(root: Path, rel: str) -> None:
    folder = SWEEP if rel == "multirun.yaml" else SEARCH
    path = root / folder / rel
    original = path.read_bytes()
    found = {f.id: f for f in discover(root).found}
    for what, data in damaged(original):
        path.write_bytes(data)
        record = load(found[folder], root)
        assert isinstance(record, Sweep), what
        assert set(record.run_ids) == set(_jobs_of(folder))
        if not data.strip() or b"\x00" in data:
            assert any(p.file.endswith(rel) for p in record.problems), (what, record.problems)


def test_sweep_detection_is_by_name_and_never_claims_a_job() -> None:
    assert _hydra_sweep.is_sweep({"multirun.yaml", "0", "1"}) and _hydra_sweep.is_sweep({"optimization_results.yaml", "0"})
    assert not _hydra_sweep.is_sweep({".hydra", "multirun.yaml"}) and not _hydra_sweep.is_sweep({"0", "1"})
    assert formats.sweep_format({"multirun.yaml"}).name == "hydra"


@pytest.mark.parametrize(
    ("overrides", "params", "want"),
    [
        (["seed=1,2,3", "optimizer.lr=0.1"], None, {"seed": [1, 2, 3]}),
        (["+model=choice(a,'b,c')", "x=range(1,4)", "y=interval(0.1, 1)"], None, {"model": ["a", "b,c"], "x": [1, 2, 3], "y": "interval(0.1, 1)"}),
        (["~dropped=1,2", "no_equals"], {"lr": "0.1,0.01", "n": "range(0, 10**9)"}, {"lr": [0.1, 0.01], "n": "range(0, 10**9)"}),
        (["flag=true,false,null", "tags=[1,2]"], None, {"flag": [True, False, None]}),
    ],
)
def test_swept_parameters_are_read_from_overrides(overrides: list[str], params: dict | None, want: dict) -> None:
    assert _hydra_sweep._swept(overrides, params) == want


def test_reading_sweeps_writes_nothing(root: Path) -> None:
    before = snapshot(root)
    _sweeps(root)
    assert snapshot(root) == before


def test_a_warm_open_keeps_the_sweeps_and_a_new_job_joins_its_sweep(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with Catalog.open(root, cache_dir=cache) as cat:
        assert set(cat.ids(kind="sweep")) == set(SWEEPS)
    with Catalog.open(root, cache_dir=cache) as cat:
        assert (cat.last_refresh.added, cat.last_refresh.changed, cat.last_refresh.removed) == (0, 0, 0)
        assert set(cat.get(SEARCH).run_ids) == set(TRIALS)  # type: ignore[union-attr]
    shutil.copytree(root / TRIALS[0], root / SEARCH / "4")
    with Catalog.open(root, cache_dir=cache) as cat:
        sweep = cat.get(SEARCH)
        assert isinstance(sweep, Sweep) and f"{SEARCH}/4" in sweep.run_ids and len(sweep.run_ids) == len(TRIALS) + 1
        assert cat.get(f"{SEARCH}/4").sweep == SEARCH  # type: ignore[union-attr]

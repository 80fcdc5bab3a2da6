"""Records to JSON-ready dicts and back: the format of the cache and of `show --format json`."""

from __future__ import annotations

import json
import math
from datetime import datetime

from runsift.core.records import (
    Artifact,
    CodeState,
    DataSnapshot,
    Environment,
    MetricDefinition,
    Metrics,
    Problem,
    Run,
    Source,
    Split,
)
from runsift.core.serialize import from_dict, json_safe, to_dict


def full_run() -> Run:
    return Run(
        id="p/run-1",
        path="/x/p/run-1",
        project="p",
        name="run-1",
        started=datetime(2025, 1, 7, 14, 32, 11),
        run_number=1,
        status="finished",
        config={"optimizer": {"lr": 0.01, "betas": [0.9, 0.999]}, "features": ("a", "b"), 3: "int key", "nan": math.nan},
        code=CodeState("1a2b3c4", True, ("src/model.py",), {"branch": "main"}),
        env=Environment("3.10.12", "Ubuntu 22.04", ("GPU: 1x A100",), {"numpy": "1.26.4"}, {"cuda": "12.1"}),
        data=DataSnapshot(name="dataset", version="v23", format="parquet", hashes={"sha": "0x9af2"}, rows=10, extra={"k": "v"}),
        splits=(Split("val", 3, "ab" * 32, "p/run-1/splits/val_ids.txt"),),
        seeds={"global": 1234},
        metrics=Metrics(
            final={"val_auc": 0.91, "loss": math.inf},
            series={"val_auc": ((1, 0.8), (2, 0.91))},
            definitions={"val_f1": MetricDefinition(name="val_f1", version="2", threshold=0.4, text="F1 at 0.4")},
            extra={"status": "done", "tags": {"b", "a"}, "blob": b"\xff raw"},
        ),
        artifacts=(Artifact("artifacts/model.pt", 10, "model"),),
        notes="[red]literal[/red]\n",
        files=("config.yaml", "metrics.json"),
        problems=(Problem("p/run-1/env.txt", "line 3: not a package", 3),),
        source=Source("mlflow", "3.17.0", ("status",)),
        tags={"team": "fraud"},
        ended=datetime(2025, 1, 7, 15, 2, 11),
        duration=1800.0,
        user="ana",
        host="gpu-7",
        exit_code=1,
        error="RuntimeError: loss is NaN",
        deleted=True,
    )


def test_a_run_survives_json_and_back() -> None:
    run = full_run()
    data = json.loads(json.dumps(to_dict(run)))
    back = from_dict(data)
    assert back.started == run.started and back.status == "finished"
    assert back.config["optimizer"] == {"lr": 0.01, "betas": [0.9, 0.999]}
    assert back.config["features"] == ["a", "b"] and back.config["3"] == "int key"
    assert math.isnan(back.config["nan"])
    assert back.code == run.code and back.env == run.env and back.data == run.data
    assert back.splits == run.splits and back.artifacts == run.artifacts and back.problems == run.problems
    assert (back.source, back.tags, back.ended, back.duration) == (run.source, run.tags, run.ended, run.duration)
    assert (back.user, back.host, back.exit_code, back.error, back.deleted) == ("ana", "gpu-7", 1, "RuntimeError: loss is NaN", True)
    assert back.metrics.final == run.metrics.final
    assert back.metrics.series == run.metrics.series
    assert back.metrics.definitions == run.metrics.definitions
    assert back.metrics.extra == {"status": "done", "tags": ["a", "b"], "blob": "\ufffd raw"}
    assert back.notes == run.notes and back.files == run.files


def test_json_safe_spells_out_non_finite_numbers() -> None:
    data = json_safe(to_dict(full_run()))
    assert data["metrics"]["final"]["loss"] == "Infinity"
    assert data["config"]["nan"] == "NaN"
    json.dumps(data, allow_nan=False)

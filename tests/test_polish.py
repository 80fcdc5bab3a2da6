"""Issue 12's leftovers: recorded precision, CSV columns, stderr in a pipe, live marks, guessed starts."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLE_RUNS

from runsift.core.fmt import format_pair

FRAUD_017 = "fraud-model/2025-01-06_09-12-40_run-017"
FRAUD_023 = "fraud-model/2025-01-07_14-32-11_run-023"


def runsift(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed command, output to pipes."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("COLUMNS", None)
    return subprocess.run([sys.executable, "-m", "runsift", *args], capture_output=True, text=True, env=full_env, timeout=120, check=False)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("polish") / "sample_runs"
    shutil.copytree(SAMPLE_RUNS, root)
    return root


# -- item 5: numbers keep their recorded precision -------------------------------------------------------


def test_a_pair_of_recorded_numbers_shares_the_more_precise_decimals() -> None:
    assert format_pair(0.926045, 0.9271) == ("0.926045", "0.927100")
    assert format_pair(0.9264, 0.926045) == ("0.926400", "0.926045")
    assert format_pair(12, 13) == ("12", "13")


def test_explain_and_diff_show_recorded_precision(samples: Path) -> None:
    a_value = json.loads((samples / FRAUD_017 / "metrics.json").read_text())["final"]["val_auc"]
    b_value = json.loads((samples / FRAUD_023 / "metrics.json").read_text())["final"]["val_auc"]
    shown_a, shown_b = format_pair(a_value, b_value)
    assert len(shown_b.split(".")[1]) == 6  # 0.926045 is recorded with six decimals
    explained = runsift("explain", "--root", str(samples), "--no-cache", FRAUD_017, FRAUD_023, "--metric", "val_auc")
    assert f"val_auc went from {shown_a} to {shown_b}" in " ".join(explained.stdout.split()), explained.stdout
    md = runsift("explain", "--root", str(samples), "--no-cache", FRAUD_017, FRAUD_023, "--metric", "val_auc", "--format", "markdown")
    assert f"| `val_auc` | {shown_a} | {shown_b} |" in md.stdout
    diffed = runsift("diff", "--root", str(samples), "--no-cache", FRAUD_017, FRAUD_023, "--section", "metrics")
    row = next(line for line in diffed.stdout.splitlines() if line.startswith("val_auc "))
    assert row.split()[1:3] == [shown_a, shown_b]


# -- item 2: ls --format csv follows --columns -------------------------------------------------------------


def test_csv_follows_columns_with_values_and_escaping(tmp_path: Path) -> None:
    from conftest import make_run

    make_run(tmp_path / "proj" / "run-1", config="optimizer:\n  name: \"ad\\e]2;owned\\aam\"\n  lr: 0.0015\n")
    make_run(tmp_path / "proj" / "run-2", metrics={"final": {"val_auc": 0.912345}})
    out = runsift("ls", str(tmp_path), "--no-cache", "--format", "csv", "--columns", "val_auc,config.optimizer.lr,config.optimizer.name,problems")
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout
    table = list(csv.reader(io.StringIO(out.stdout)))
    assert table[0] == ["name", "val_auc", "config.optimizer.lr", "config.optimizer.name", "problems"]
    rows = {r[0]: r for r in table[1:]}
    assert rows["run-1"][1:3] == ["0.91", "0.0015"] and rows["run-1"][3].startswith("ad\\x1b]2;owned")
    assert rows["run-2"][1] == "0.912345" and rows["run-2"][4] == "0"
    unknown = runsift("ls", str(tmp_path), "--no-cache", "--format", "csv", "--columns", "val_acu")
    assert unknown.returncode != 0 and "val_auc" in unknown.stderr
    whole = runsift("ls", str(tmp_path), "--no-cache", "--format", "csv")
    assert next(csv.reader(io.StringIO(whole.stdout)))[:3] == ["id", "kind", "project"]


# -- item 8: errors on stderr do not wrap in a pipe ------------------------------------------------------------


def test_errors_in_a_pipe_are_one_line(samples: Path) -> None:
    name = "no-such-run-" + "x" * 120
    out = runsift("show", "--root", str(samples), "--no-cache", name)
    assert out.returncode != 0
    assert out.stderr.splitlines() == [f"runsift: no run matches {name!r}"]

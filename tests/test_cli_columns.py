"""The command line's columns, references and typing mistakes (issue 12: items 1, 6, 7)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLE_RUNS, make_run

FRAUD_023 = "fraud-model/2025-01-07_14-32-11_run-023"
FRAUD_025 = "fraud-model/2025-01-09_10-03-17_run-025"
SWEEP = "nlp-intent/2025-01-07_sweep-07"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


def runsift(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed command, output to pipes."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("COLUMNS", None)
    return subprocess.run([sys.executable, "-m", "runsift", *args], capture_output=True, text=True, cwd=cwd, env=full_env, timeout=120, check=False)


def runsift_tty(*args: str, columns: int = 80) -> str:
    """The command with stdout on a terminal ``columns`` wide; what it printed, colours removed."""
    main, sub = os.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "24"}
    try:
        proc = subprocess.run([sys.executable, "-m", "runsift", *args], stdout=sub, stderr=subprocess.PIPE, env=env, timeout=120, check=False)
        os.close(sub)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(main)
    assert proc.returncode == 0, proc.stderr
    return _ANSI.sub("", b"".join(chunks).decode("utf-8")).replace("\r", "")


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cols") / "sample_runs"
    shutil.copytree(SAMPLE_RUNS, root)
    return root


def test_ls_at_80_columns_shows_each_projects_primary_metric(samples: Path) -> None:
    out = runsift_tty("ls", str(samples), columns=80)
    lines = out.splitlines()
    header = lines[0].split()
    assert "val_auc" in header and "val_f1" in header  # fraud-model's and the sweep's (declared) primary
    assert header.index("val_auc") < header.index("val_f1")  # in the order the projects appear
    assert max(len(line) for line in lines if "run-0" in line) <= 80
    run_023 = next(line for line in lines if "run-023" in line)
    assert "0.926045" in run_023  # recorded precision, not 0.926
    assert re.search(r"run-028 !1", out)  # problems beside the name, not in an off-screen column


def test_piped_ls_does_not_wrap_and_columns_follow_the_filter(samples: Path) -> None:
    out = runsift("ls", str(samples), "--filter", "project=nlp-intent")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    header = lines[0].split()
    assert header[4] == "val_f1"  # the sweep declares val_f1: first metric
    assert "val_auc" not in header  # the fraud project's metric is not shown for the sweep's rows
    assert all("sweep-07/run-1" not in line or line.count("~") == 1 for line in lines)
    assert "~ guessed" in out.stdout
    wide = runsift("ls", str(samples))
    assert any(len(line) > 80 for line in wide.stdout.splitlines())  # no wrapping at 80 in a pipe
    assert len([line for line in wide.stdout.splitlines() if "run-1" in line]) == 10


def test_ls_columns_takes_any_key(samples: Path) -> None:
    out = runsift("ls", str(samples), "-f", "project=fraud-model", "--columns", "val_auc,config.optimizer.lr,error,source")
    assert out.returncode == 0, out.stderr
    header = out.stdout.splitlines()[0].split()
    assert header == ["name", "val_auc", "config.optimizer.lr", "error", "source"]
    failed = next(line for line in out.stdout.splitlines() if line.startswith("run-021"))
    assert "FloatingPointError" in failed  # the error's last line
    bad = runsift("ls", str(samples), "--columns", "val_acu")
    assert bad.returncode == 2 and "did you mean val_auc" in bad.stderr


def test_unknown_filter_and_sort_keys_are_errors_with_close_matches(samples: Path) -> None:
    out = runsift("ls", str(samples), "-f", "val_acu>0.9")
    assert out.returncode == 2
    assert "unknown key val_acu; did you mean val_auc" in " ".join(out.stderr.split())
    sort = runsift("ls", str(samples), "--sort", "config.optimizer.rl")
    assert sort.returncode == 2 and "config.optimizer.lr" in sort.stderr
    far = runsift("ls", str(samples), "-f", "zzzz>1")
    assert far.returncode == 2 and "did you mean" not in far.stderr  # close matches only
    good = runsift("ls", str(samples), "-f", "val_auc>0.9", "--format", "json")
    assert good.returncode == 0 and len(json.loads(good.stdout)) == 11


def test_unknown_command_suggests_the_close_one(samples: Path) -> None:
    out = runsift("expalin", "a", "b", cwd=samples)
    assert out.returncode == 2 and "did you mean explain" in out.stderr
    folder = runsift("fraud-model", "--format", "json", cwd=samples)  # a folder is still a root
    assert folder.returncode == 0 and len(json.loads(folder.stdout)) == 14


def test_references_typed_in_folders(samples: Path, tmp_path: Path) -> None:
    run = samples / FRAUD_023
    here = runsift("show", ".", "--format", "json", cwd=run)
    assert here.returncode == 0, here.stderr
    assert json.loads(here.stdout)["name"].endswith("run-023")
    assert json.loads(here.stdout)["started_source"] == "recorded"
    diff = runsift("diff", ".", "../" + FRAUD_025.split("/")[1], "--format", "json", cwd=run)
    assert diff.returncode == 1, diff.stderr  # the two runs differ
    absolute = runsift("show", str(run), "--format", "json", cwd=tmp_path)
    assert absolute.returncode == 0, absolute.stderr
    sweep = runsift("sweep", ".", "--format", "json", cwd=samples / SWEEP)
    assert sweep.returncode in (0, 1), sweep.stderr
    member = runsift("show", ".", "--format", "json", cwd=samples / SWEEP / "runs" / "run-101")
    assert member.returncode == 0, member.stderr
    assert json.loads(member.stdout)["started_source"] == "guessed"
    inside_root = runsift("show", FRAUD_023, "--format", "json", cwd=samples)  # the ids stay those of the root
    assert json.loads(inside_root.stdout)["id"] == FRAUD_023


def test_started_source_in_ls_json(samples: Path) -> None:
    rows = json.loads(runsift("ls", str(samples), "--format", "json").stdout)
    by_name = {r["id"]: r for r in rows}
    assert by_name[FRAUD_023]["started_source"] == "recorded"
    assert by_name[f"{SWEEP}/runs/run-101"]["started_source"] == "guessed"


def test_nan_reads_nan(tmp_path: Path) -> None:
    make_run(tmp_path / "p" / "run-1", metrics='{"final": {"val_auc": NaN, "val_f1": 0.5}}')
    make_run(tmp_path / "p" / "run-2", metrics={"final": {"val_auc": 0.9, "val_f1": 0.25}})
    out = runsift("ls", str(tmp_path))
    assert out.returncode == 0, out.stderr
    line = next(line for line in out.stdout.splitlines() if "run-1" in line)
    assert "NaN" in line and "nan" not in line

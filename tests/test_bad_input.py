"""Hostile and broken records: each becomes a problem on its run; the catalog still loads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import make_run, write

from runsift.core.catalog import Catalog
from runsift.core.records import Run

BOMB = """
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
"""


def _load(root: Path, run: str) -> Run:
    with Catalog.open(root) as cat:
        record = cat.get(run)
        assert cat.count() >= 2, "the rest of the catalog must still load"
    assert isinstance(record, Run)
    return record


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "exp"
    make_run(root / "good" / "run-1")
    return root


def _problem(run: Run, file_suffix: str) -> str:
    matches = [p for p in run.problems if p.file.endswith(file_suffix)]
    assert matches, f"expected a problem on {file_suffix}, got {run.problems}"
    return matches[0].message


@pytest.mark.parametrize(
    "content, expected",
    [
        ("optimizer: {lr: 0.01\nbatch: [1, 2\n", "invalid YAML"),
        ("", "empty file"),
        ("!!python/object/apply:os.system ['echo pwned']\n", "unsafe YAML tag"),
        (BOMB, "alias bomb"),
        ("[" * 5000 + "]" * 5000, "nest"),
    ],
)
def test_bad_config_is_a_problem_and_the_rest_of_the_run_loads(root: Path, content: str, expected: str) -> None:
    run_dir = make_run(root / "bad" / "run-2")
    (run_dir / "config.yaml").write_text(content)
    run = _load(root, "bad/run-2")
    assert expected in _problem(run, "bad/run-2/config.yaml")
    assert run.config == {}
    assert run.metrics.final["val_auc"] == 0.91
    assert run.code.commit == "1a2b3c4"


def test_bad_yaml_reports_the_line(root: Path) -> None:
    run_dir = make_run(root / "bad" / "run-2")
    (run_dir / "config.yaml").write_text("a: 1\nb: 2\nc: [unclosed\nd: 4\n")
    run = _load(root, "bad/run-2")
    problem = next(p for p in run.problems if p.file.endswith("config.yaml"))
    assert problem.line is not None and problem.line >= 3


def test_binary_garbage_and_non_utf8(root: Path) -> None:
    run_dir = make_run(root / "bad" / "run-2")
    (run_dir / "config.yaml").write_bytes(bytes(range(256)) * 10)
    (run_dir / "notes.md").write_bytes("caf\xe9 ok\n".encode("latin-1"))
    run = _load(root, "bad/run-2")
    assert "binary" in _problem(run, "config.yaml")
    assert "UTF-8" in _problem(run, "notes.md")
    assert run.notes.startswith("caf") and "ok" in run.notes


def test_truncated_metrics_marks_the_run_incomplete(root: Path) -> None:
    make_run(root / "bad" / "run-2", metrics='{"final": {"val_auc": 0.9, "val_')
    run = _load(root, "bad/run-2")
    assert run.status == "incomplete"
    assert "metrics.json" in [p.file.rsplit("/", 1)[-1] for p in run.problems]


def test_links_outside_the_root_are_not_read(root: Path, tmp_path: Path) -> None:
    secret = write(tmp_path / "outside" / "secret.yaml", "password: hunter2\n")
    run_dir = make_run(root / "bad" / "run-2")
    (run_dir / "config.yaml").unlink()
    (run_dir / "config.yaml").symlink_to(secret)
    os.symlink(tmp_path / "outside", root / "linked-outside")
    run = _load(root, "bad/run-2")
    assert "outside the root" in _problem(run, "config.yaml")
    assert "hunter2" not in repr(run)
    with Catalog.open(root) as cat:
        assert any("outside the root" in p.message for p in cat.problems)
        assert not any("outside" in i for i in cat.ids())


def test_symlink_loops_do_not_hang(root: Path) -> None:
    loop = root / "loop"
    loop.mkdir()
    os.symlink(loop, loop / "again")
    os.symlink(root, root / "up")
    run_dir = make_run(root / "bad" / "run-2")
    (run_dir / "seeds.txt").unlink()
    os.symlink(run_dir / "seeds.txt", run_dir / "seeds.txt")  # a link to itself
    run = _load(root, "bad/run-2")
    assert "loop" in _problem(run, "seeds.txt") or "broken" in _problem(run, "seeds.txt")


def test_huge_file_is_refused_not_read(root: Path) -> None:
    run_dir = make_run(root / "bad" / "run-2")
    with open(run_dir / "config.yaml", "wb") as fh:
        fh.truncate(64 * 1024 * 1024)  # sparse: cheap to make, expensive to read
    run = _load(root, "bad/run-2")
    assert "limit" in _problem(run, "config.yaml")


def test_config_that_is_not_a_mapping(root: Path) -> None:
    run_dir = make_run(root / "bad" / "run-2")
    (run_dir / "config.yaml").write_text("- just\n- a list\n")
    run = _load(root, "bad/run-2")
    assert "expected a mapping" in _problem(run, "config.yaml")


def test_unreadable_file_permissions(root: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can read any file")
    run_dir = make_run(root / "bad" / "run-2")
    (run_dir / "env.txt").chmod(0)
    run = _load(root, "bad/run-2")
    assert "cannot read" in _problem(run, "env.txt")


def test_a_cut_metrics_file_is_not_finished_by_the_status_it_wrote_before_the_cut(tmp_path: Path) -> None:
    """Half-written metrics.json that says "status": "finished" before the cut: the run did not show it finished."""
    whole = '{"status": "finished", "final": {"val_auc": 0.91, "val_f1": 0.7}, "per_epoch": []}'
    make_run(tmp_path / "r", metrics=whole[:48])  # cut inside "final", after val_auc
    with Catalog.open(tmp_path, use_cache=False) as cat:
        run = cat.get("r")
    assert run.status == "incomplete"
    assert any(p.file.endswith("metrics.json") and "ends early" in p.message for p in run.problems)

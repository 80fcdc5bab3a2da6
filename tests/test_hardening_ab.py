"""Issue 13 item 8: ``runsift ab`` turns unreadable, oversized and over-nested logs into an error message, never a traceback."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE_RUNS

from runsift.core import ablogs
from runsift.tui.cli import main

KIT = "checkout-address-validation"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(SAMPLE_RUNS / KIT, root / KIT)
    return root


def _ab(root: Path, *extra: str) -> int:
    return main(["ab", KIT, "--root", str(root), "--no-cache", "-q", *extra])


def test_an_unreadable_event_log_is_an_error_message(root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    real_open = open

    def deny(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).endswith("events.csv"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(ablogs, "open", deny, raising=False)  # as root, chmod 000 would not stop a read
    assert _ab(root) == 2
    err = capsys.readouterr().err
    assert "Permission denied" in err and "Traceback" not in err


def test_a_header_field_over_the_csv_limit_is_an_error_message(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = root / KIT / "events.csv"
    header, rest = events.read_text().split("\n", 1)
    events.write_text(header + "x" * (csv.field_size_limit() + 10) + "\n" + rest)
    assert _ab(root) == 2
    err = capsys.readouterr().err
    assert "field larger than field limit" in err and "events.csv" in err


def test_a_deeply_nested_json_line_is_skipped(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kit = root / KIT
    with (kit / "events.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    lines = [json.dumps(r) for r in rows]
    lines.insert(5, "[" * 100_000 + "]" * 100_000)
    (kit / "events.jsonl").write_text("\n".join(lines) + "\n")
    (kit / "events.csv").unlink()
    assert _ab(root, "--format", "json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert sum(v["conversions"] for v in doc["variants"].values()) > 0


def test_an_extra_planned_variant_with_no_units_renders_as_markdown(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = root / KIT / "experiment.yaml"
    spec.write_text(spec.read_text().replace("  treatment: 0.5\n", "  treatment: 0.5\n  extra: 0.0\n", 1))
    assert _ab(root, "--format", "markdown") == 0
    out = capsys.readouterr().out
    assert "| extra | 0 | 0 | — |" in out

"""The command-line contract: JSON keys, exit codes, literal output, helpful errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import age, make_run, rewrite_in_place

A = "fraud-model/2025-01-07_14-32-11_run-023"
B = "fraud-model/2025-01-08_09-00-00_run-024"


def runsift(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed command as a user would."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "runsift", *args], capture_output=True, text=True, cwd=cwd, env=full_env, timeout=120)


def test_ls_json_contract(experiments: Path) -> None:
    out = runsift("ls", str(experiments), "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == 4
    for row in rows:
        assert {"id", "kind", "project", "path", "status", "started", "metrics", "problems"} <= set(row)
        assert row["kind"] == "run"
    by_id = {r["id"]: r for r in rows}
    assert by_id[A]["metrics"] == {"val_auc": 0.91, "val_f1": 0.7}
    assert by_id[A]["path"] == str((experiments / A).resolve())


def test_ls_filter_sort_and_table(experiments: Path) -> None:
    out = runsift("ls", str(experiments), "--filter", "project=fraud-model", "--filter", "status!=failed", "--sort", "-val_auc", "--format", "json")
    assert [r["id"] for r in json.loads(out.stdout)] == [A, B]
    table = runsift("ls", str(experiments))
    assert table.returncode == 0
    # readable names: the date prefix moves to the started column
    assert "run-023" in table.stdout and "2025-01-07 14:32" in table.stdout and "val_auc" in table.stdout
    assert "4 records" in table.stdout
    csv_out = runsift("ls", str(experiments), "--format", "csv").stdout.splitlines()
    assert csv_out[0].startswith("id,kind,project") and len(csv_out) == 5


def test_ls_limit_lists_the_first_records_of_the_sorted_list_and_says_how_many_matched(experiments: Path) -> None:
    whole = [r["id"] for r in json.loads(runsift("ls", str(experiments), "--sort", "-val_auc", "--format", "json").stdout)]
    out = runsift("ls", str(experiments), "--sort", "-val_auc", "--limit", "2", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert [r["id"] for r in json.loads(out.stdout)] == whole[:2]
    assert "the first 2 of 4 matching records" in out.stderr  # never taken for the whole list
    every = runsift("ls", str(experiments), "--limit", "10", "--format", "json")
    assert len(json.loads(every.stdout)) == 4 and "matching records" not in every.stderr
    for bad in ("0", "-3", "ten"):
        refused = runsift("ls", str(experiments), "--limit", bad)
        assert refused.returncode == 2 and "--limit" in refused.stderr and "Traceback" not in refused.stderr


def test_root_from_environment_and_default_command(experiments: Path) -> None:
    out = runsift("ls", "--format", "json", env={"RUNSIFT_ROOT": str(experiments)})
    assert len(json.loads(out.stdout)) == 4
    bare = runsift(str(experiments), "--format", "json")  # `runsift ROOT` lists ROOT
    assert len(json.loads(bare.stdout)) == 4


def test_show_json_contract(experiments: Path) -> None:
    out = runsift("show", "run-023", "--root", str(experiments), "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    for key in ("config", "code", "env", "data", "seeds", "splits", "metrics", "artifacts", "notes", "problems"):
        assert key in doc
    assert {"python", "packages"} <= set(doc["env"])
    assert {"final", "series", "definitions"} <= set(doc["metrics"])
    assert doc["metrics"]["series"]["val_auc"][0] == [1, pytest.approx(0.83)]
    text = runsift("show", "run-023", "--root", str(experiments))
    assert "1a2b3c4" in text.stdout and "optimizer.lr" in text.stdout


def test_diff_exit_codes_and_json(experiments: Path) -> None:
    same = runsift("diff", A, A, "--root", str(experiments))
    assert same.returncode == 0, same.stderr
    assert "No differences" in same.stdout
    out = runsift("diff", A, B, "--root", str(experiments), "--format", "json")
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert doc["a"] == A and doc["b"] == B
    lr = next(c for c in doc["sections"]["config"] if c["path"] == "optimizer.lr")
    assert (lr["a"], lr["b"], lr["change"]) == (0.001, 0.01, "changed")
    assert all({"path", "a", "b", "change"} <= set(c) for s in doc["sections"].values() for c in s)
    only_env = runsift("diff", A, B, "--root", str(experiments), "--section", "seeds", "--format", "json")
    assert only_env.returncode == 0 and list(json.loads(only_env.stdout)["sections"]) == ["seeds"]
    md = runsift("diff", A, B, "--root", str(experiments), "--format", "markdown")
    assert md.returncode == 1 and "| `optimizer.lr` | 0.001 | 0.01 | changed |" in md.stdout


def test_diff_trouble_is_exit_2_with_candidates(experiments: Path) -> None:
    unknown = runsift("diff", A, "run-0231", "--root", str(experiments))
    assert unknown.returncode == 2
    assert "no run matches" in unknown.stderr
    ambiguous = runsift("diff", A, "run-02", "--root", str(experiments))
    assert ambiguous.returncode == 2 and "matches 3 records" in ambiguous.stderr
    missing = runsift("ls", str(experiments / "nope"))
    assert missing.returncode == 2 and "no such folder" in missing.stderr
    bad_filter = runsift("ls", str(experiments), "--filter", "val_auc>high")
    assert bad_filter.returncode == 2 and "compare it with a number" in bad_filter.stderr


def test_hostile_text_prints_literally(tmp_path: Path) -> None:
    root = tmp_path / "exp"
    make_run(root / "p" / "run-1", notes="\x1b[31mred\x1b[0m [bold]boom[/bold] [link=http://x]y[/link]\n")
    make_run(root / "p" / "[red]run-2")
    show = runsift("show", "run-1", "--root", str(root))
    assert "\x1b" not in show.stdout
    assert "\\x1b[31mred" in show.stdout and "[bold]boom[/bold]" in show.stdout
    ls = runsift("ls", str(root))
    assert "[red]run-2" in ls.stdout


def test_problems_are_listed(tmp_path: Path) -> None:
    root = tmp_path / "exp"
    make_run(root / "p" / "run-1", config="a: [1, 2\n")
    out = runsift("ls", str(root))
    assert out.returncode == 0
    assert "p/run-1/config.yaml" in out.stdout and "invalid YAML" in out.stdout
    doc = json.loads(runsift("ls", str(root), "--format", "json").stdout)
    assert doc[0]["problems"][0]["file"] == "p/run-1/config.yaml"


def test_help_explains_filters() -> None:
    out = runsift("ls", "--help")
    assert out.returncode == 0 and "val_auc" in out.stdout and "--filter" in out.stdout


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    from conftest import SAMPLE_RUNS

    root = tmp_path_factory.mktemp("s") / "sample_runs"
    shutil.copytree(SAMPLE_RUNS, root)
    return root


def test_explain_json_contract(samples: Path) -> None:
    out = runsift("explain", "run-017", "run-026", "--root", str(samples), "--format", "json", "--no-cache")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    for key in ("metric", "a", "b", "delta", "relative_delta", "direction", "comparable", "comparability_issues",
                "verdict", "noise", "causes", "unexplained", "divergence_step", "flips", "suggestions"):
        assert key in doc, key
    assert doc["verdict"] == "real" and doc["direction"] == "regression" and doc["metric"] == "val_auc"
    assert {"method", "p_value", "replicates_a", "replicates_b"} <= set(doc["noise"])
    cause = doc["causes"][0]
    assert {"section", "path", "a", "b", "evidence", "estimated_effect", "confidence"} <= set(cause)
    assert cause["section"] == "config" and cause["path"] == "features"
    assert {"run_a", "run_b", "delta"} <= set(cause["evidence"][0])


def test_explain_text_and_markdown(samples: Path) -> None:
    text = runsift("explain", "run-017", "run-018", "--root", str(samples), "--no-cache")
    assert text.returncode == 0 and "noise" in text.stdout
    md = runsift("explain", "run-017", "run-022", "--metric", "val_f1", "--root", str(samples), "--format", "markdown", "--no-cache")
    assert md.returncode == 0 and md.stdout.startswith("### runsift explain")
    assert "not comparable" in md.stdout and "threshold changed" in md.stdout
    bad = runsift("explain", "run-017", "run-026", "--metric", "nope", "--root", str(samples), "--no-cache")
    assert bad.returncode == 2 and "shared metrics" in bad.stderr


def test_regress_exit_codes(samples: Path) -> None:
    worse = runsift("regress", "run-017", "run-026", "--root", str(samples), "--no-cache")
    assert worse.returncode == 1, worse.stderr
    lines = worse.stdout.splitlines()
    first = re.fullmatch(r"FAIL: `val_auc` regressed beyond noise \(Holm-adjusted p=([0-9.e-]+) over 1 metric\)", lines[0])
    assert first is not None and float(first.group(1)) < 0.05, lines[0]
    assert lines[2].startswith("# runsift regress: `fraud-model/2025-01-06_09-12-40_run-017` → ")
    assert "a real regression" in worse.stdout and "### runsift explain" in worse.stdout
    noise = runsift("regress", "run-017", "run-018", "--root", str(samples), "--no-cache")
    assert noise.returncode == 0 and noise.stdout.startswith("PASS: no regression beyond noise in `val_auc`")
    better = runsift("regress", "run-026", "run-017", "--root", str(samples), "--no-cache")
    assert better.returncode == 0 and better.stdout.startswith("PASS:") and "improved beyond noise" in better.stdout


def test_regress_undecided_is_exit_3_and_trouble_exit_2(samples: Path) -> None:
    # val_f1's threshold changed: not comparable; one undecided metric beside a passing one keeps CI from passing
    mixed = runsift("regress", "run-017", "run-022", "--metric", "val_auc", "--metric", "val_f1", "--root", str(samples), "--no-cache")
    assert mixed.returncode == 3, mixed.stderr
    assert mixed.stdout.startswith("UNDECIDED: 1 of 2 metrics cannot be decided: `val_f1`: not comparable (")
    missing = runsift("regress", "run-017", "run-026", "--metric", "val_auc", "--metric", "nope", "--root", str(samples), "--no-cache")
    assert missing.returncode == 2 and missing.stdout == "" and "shared metrics" in missing.stderr
    unknown = runsift("regress", "run-017", "run-999", "--root", str(samples), "--no-cache")
    assert unknown.returncode == 2 and "run-999" in unknown.stderr


def _two_metric_runs(root: Path, name: str, auc: float, acc: float, *, seed: int, lr: float) -> None:
    make_run(
        root / "proj" / name,
        config=f"optimizer:\n  name: adam\n  lr: {lr}\nbatch_size: 64\n",
        seeds=f"global={seed}, data_split=42\n",
        metrics={"final": {"val_auc": auc, "val_acc": acc}},
    )


def test_regress_holm_correction_changes_the_decision(tmp_path: Path) -> None:
    """Two metrics each worse with Welch p ≈ 0.03: either alone fails; both together pass after Holm (p ≈ 0.06)."""
    root = tmp_path / "exp"
    for i, offset in enumerate((0.0, 0.002, -0.002)):
        _two_metric_runs(root, f"a-{i}", 0.900 + offset, 0.800 + offset, seed=i + 1, lr=0.01)
        _two_metric_runs(root, f"b-{i}", 0.8946 + offset, 0.7946 + offset, seed=i + 1, lr=0.02)
    a, b = "proj/a-0", "proj/b-0"
    alone = runsift("regress", a, b, "--metric", "val_auc", "--root", str(root), "--no-cache")
    assert alone.returncode == 1, alone.stdout + alone.stderr
    assert alone.stdout.startswith("FAIL: `val_auc` regressed beyond noise")
    both = runsift("regress", a, b, "--metric", "val_auc", "--metric", "val_acc", "--metric", "val_auc",
                   "--root", str(root), "--no-cache", "--format", "json")
    assert both.returncode == 0, both.stdout + both.stderr
    doc = json.loads(both.stdout)
    assert doc["outcome"] == "pass" and doc["summary"].startswith("PASS: no regression beyond noise in 2 metrics")
    assert doc["tested"] == 2 and doc["correction"] == "holm"  # the repeated name is one test, not two
    assert [m["metric"] for m in doc["metrics"]] == ["val_auc", "val_acc"]
    for m in doc["metrics"]:
        assert m["verdict"] == "real" and m["worse"] is True and 0.025 < m["p_value"] < 0.035  # each alone would fail
        assert m["adjusted_p"] > 0.05 and m["outcome"] == "pass" and "Holm's correction" in m["reason"]
    assert {"outcome", "reason", "verdict", "p_value", "adjusted_p", "explanation"} <= set(doc["metrics"][0])


def test_regress_without_noise_evidence_is_undecided(tmp_path: Path) -> None:
    root = tmp_path / "exp"
    _two_metric_runs(root, "x", 0.90, 0.80, seed=1, lr=0.01)
    _two_metric_runs(root, "y", 0.85, 0.75, seed=1, lr=0.02)  # far worse, but one run a side and no predictions
    out = runsift("regress", "proj/x", "proj/y", "--metric", "val_auc", "--root", str(root), "--no-cache")
    assert out.returncode == 3, out.stdout + out.stderr
    assert out.stdout.startswith("UNDECIDED: cannot be decided: `val_auc`: noise could not be measured")


def test_regress_help_lists_exit_codes() -> None:
    out = runsift("regress", "--help")
    assert out.returncode == 0
    for line in ("0  pass", "1  fail", "2  trouble", "3  undecided"):
        assert line in out.stdout


def test_audit_table_and_json(samples: Path) -> None:
    out = runsift("audit", str(samples), "--format", "json", "--no-cache")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    by_id = {r["id"]: r for r in doc["runs"]}
    failed = next(r for i, r in by_id.items() if i.endswith("run-021"))
    assert any("dirty" in f["message"] for f in failed["findings"])  # `hash dirty` without a file list
    sweep_run = next(r for i, r in by_id.items() if i.endswith("run-101"))
    assert any(f["item"] == "timestamp" for f in sweep_run["findings"])
    assert {p["project"] for p in doc["projects"]} == {"fraud-model", "nlp-intent"}
    assert all(0 <= r["score"] <= 1 for r in doc["runs"])
    table = runsift("audit", str(samples), "--no-cache")
    assert table.returncode == 0 and "by project" in table.stdout


def test_sweep_and_ab_commands(samples: Path) -> None:
    sweep = runsift("sweep", "sweep-07", "--root", str(samples), "--format", "json", "--no-cache")
    assert sweep.returncode == 0, sweep.stderr
    doc = json.loads(sweep.stdout)
    assert {"metric", "goal", "leaderboard", "mismatches"} <= set(doc)
    assert doc["mismatches"] == [] and doc["leaderboard"][0]["run_id"].endswith("run-102")
    assert {"run_id", "value", "params"} <= set(doc["leaderboard"][0])
    ab = runsift("ab", "checkout", "--root", str(samples), "--format", "json", "--no-cache")
    assert ab.returncode == 0, ab.stderr
    doc = json.loads(ab.stdout)
    assert {"experiment_id", "variants", "lift", "p_value", "srm", "reproduced", "mismatches"} <= set(doc)
    assert doc["reproduced"] is True and doc["srm"]["flagged"] is False
    assert doc["variants"]["control"]["units"] == 10243


def test_tampered_leaderboard_and_result_exit_1(samples: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(samples, root)
    board = root / "nlp-intent/2025-01-07_sweep-07/leaderboard.csv"
    lines = board.read_text().splitlines()
    lines[1], lines[2] = lines[2], lines[1]  # wrong order
    board.write_text("\n".join(lines) + "\n")
    sweep = runsift("sweep", "sweep-07", "--root", str(root), "--format", "json", "--no-cache")
    assert sweep.returncode == 1
    assert "order" in {m["kind"] for m in json.loads(sweep.stdout)["mismatches"]}
    result = root / "checkout-address-validation/result.json"
    saved = json.loads(result.read_text())
    saved["variants"]["treatment"]["conversions"] += 40
    result.write_text(json.dumps(saved))
    ab = runsift("ab", "checkout", "--root", str(root), "--no-cache")
    assert ab.returncode == 1 and "NOT reproduced" in ab.stdout


def test_rescan_checks_every_file_and_show_checks_its_run(experiments: Path) -> None:
    """An edit in place that folder times cannot show: --rescan finds it, and so does opening the run."""
    age(experiments)
    assert runsift("ls", str(experiments), "-q").returncode == 0  # index, and remember folder times
    rewrite_in_place(experiments / B / "config.yaml", "optimizer:\n  name: adam\n  lr: 0.3\n")
    shown = runsift("show", B, "--root", str(experiments), "--format", "json", "-q")
    assert json.loads(shown.stdout)["config"]["optimizer"]["lr"] == 0.3
    rewrite_in_place(experiments / A / "config.yaml", "optimizer:\n  name: adam\n  lr: 0.7\n")
    found = runsift("ls", str(experiments), "--rescan", "--filter", "config.optimizer.lr=0.7", "--format", "json", "-q")
    assert [r["id"] for r in json.loads(found.stdout)] == [A]
    assert "--rescan" in runsift("ls", "--help").stdout

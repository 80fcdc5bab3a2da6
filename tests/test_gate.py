"""The regress gate's decision, on stand-in explanations with known verdicts and p-values."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from statsmodels.stats.multitest import multipletests

from runsift.core.gate import decide, summary


def expl(metric: str, verdict: str, p: float | None, delta: float = -0.01, goal: str | None = "max", **extra: Any) -> Any:
    """The fields of an Explanation the gate reads."""
    issues = extra.pop("issues", ())
    return SimpleNamespace(
        metric=metric, verdict=verdict, goal=goal, delta=delta, value_a=0.9, value_b=0.9 + delta,
        noise=SimpleNamespace(p_value=p, method="welch"), comparable=verdict != "incomparable",
        comparability_issues=tuple(SimpleNamespace(message=m) for m in issues), **extra,
    )


def test_a_real_regression_fails() -> None:
    r = decide([expl("val_auc", "real", 0.003)])
    assert r.outcome == "fail" and [c.outcome for c in r.checks] == ["regression"]
    assert summary(r) == "FAIL: val_auc regressed beyond noise (Holm-adjusted p=0.003 over 1 metric)"


def test_holm_turns_two_borderline_regressions_into_a_pass() -> None:
    one = decide([expl("val_auc", "real", 0.03)])
    assert one.outcome == "fail"  # alone, p = 0.03 is a regression
    both = decide([expl("val_auc", "real", 0.03), expl("val_f1", "real", 0.03)])
    assert both.outcome == "pass" and both.family == 2
    expected = multipletests([0.03, 0.03], method="holm")[1]
    assert [c.adjusted_p for c in both.checks] == pytest.approx(list(expected))
    assert all(c.adjusted_p == pytest.approx(0.06) for c in both.checks)
    assert "within noise after Holm's correction" in both.checks[0].reason
    assert summary(both).startswith("PASS: no regression beyond noise in 2 metrics")


def test_holm_is_step_down_not_bonferroni() -> None:
    r = decide([expl("a", "real", 0.01), expl("b", "real", 0.04)])  # Holm: 0.02, 0.04; Bonferroni would pass b
    assert [c.outcome for c in r.checks] == ["regression", "regression"]
    assert summary(r) == "FAIL: a, b regressed beyond noise (Holm-adjusted p=0.02, 0.04 over 2 metrics)"


def test_undetermined_incomparable_and_unknown_direction_are_undecided() -> None:
    r = decide(
        [
            expl("val_auc", "undetermined", None),
            expl("val_f1", "incomparable", 0.001, issues=["threshold changed: 0.5 → 0.4"]),
            expl("val_thing", "real", 0.001, goal=None),
            expl("val_loss", "noise", 0.4, goal="min", delta=0.001),
        ]
    )
    assert r.outcome == "undecided"
    assert [c.outcome for c in r.checks] == ["undecided", "undecided", "undecided", "pass"]
    assert r.family == 2  # tested: val_thing (real) and val_loss (noise); the others have no usable test
    line = summary(r)
    assert line.startswith("UNDECIDED: 3 of 4 metrics cannot be decided: val_auc: noise could not be measured")
    assert "val_f1: not comparable (threshold changed: 0.5 → 0.4)" in line and "val_thing: direction unknown" in line


def test_a_regression_outweighs_undecided_metrics() -> None:
    r = decide([expl("val_auc", "real", 0.001), expl("val_f1", "undetermined", None)])
    assert r.outcome == "fail"


def test_improvements_noise_and_replicate_pairs_pass() -> None:
    r = decide(
        [
            expl("val_auc", "real", 0.001, delta=0.02),  # better beyond noise
            expl("val_f1", "noise", None),  # noise without a p-value counts as p = 1
            expl("val_loss", "real", 0.001, goal="min", delta=-0.1),  # lower loss: better
        ]
    )
    assert r.outcome == "pass" and [c.outcome for c in r.checks] == ["pass"] * 3
    assert r.checks[1].adjusted_p == 1.0 and "improved" in r.checks[0].reason


def test_a_lower_is_better_metric_that_rises_regresses() -> None:
    r = decide([expl("val_wer", "real", 0.001, goal="min", delta=0.02)])
    assert r.outcome == "fail"


def test_a_non_finite_value_is_undecided() -> None:
    e = expl("val_auc", "noise", 0.5)
    e.value_b = float("nan")
    assert decide([e]).outcome == "undecided"


def test_unknown_comparability_does_not_block() -> None:
    """After explain learns comparable=None (unknown), the gate decides on the test as before."""
    e = expl("val_auc", "real", 0.001, comparability_warnings=(SimpleNamespace(message="no split ids recorded"),))
    e.comparable = None
    r = decide([e])
    assert r.outcome == "fail" and r.checks[0].detail == "comparability unknown: no split ids recorded"
    assert summary(r) == "FAIL: val_auc regressed beyond noise (Holm-adjusted p=0.001 over 1 metric)"


def test_untrusted_details_go_through_the_text_formatter() -> None:
    r = decide([expl("m`x", "incomparable", None, issues=["data `v1` → **v2**"])])
    line = summary(r, name=lambda n: f"<{n}>", text=lambda t: t.replace("*", "\\*"))
    assert line == "UNDECIDED: cannot be decided: <m`x>: not comparable (data `v1` → \\*\\*v2\\*\\*)"
    json.dumps(line)


def test_runs_that_differ_only_in_seeds_pass_even_with_a_small_p() -> None:
    e = expl("val_auc", "noise", 0.01)
    e.noise.method = "replicates"  # explain: A and B are replicates of each other
    r = decide([e])
    assert r.outcome == "pass" and "seed noise by construction" in r.checks[0].reason


def test_nothing_to_decide_is_an_error_not_a_pass() -> None:
    with pytest.raises(ValueError):
        decide([])

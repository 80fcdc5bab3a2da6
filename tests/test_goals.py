"""A metric's direction from its name: whole words, never letters inside other words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runsift.core.goals import goal_from_name, metric_goal, name_tokens
from runsift.core.records import MetricDefinition

KNOWN: dict[str, str] = {
    # once read as lower-is-better because "wer", "cer" hid inside other words
    "answer_f1": "max",
    "cancer_recall": "max",
    "power_auc": "max",
    "val_wer": "min",
    "train_loss": "min",
    "error_rate": "min",
    "auc_roc": "max",
    "ndcg@10": "max",
    "mse": "min",
    "top5_acc": "max",
    "top_5_acc": "max",
    "val_pr_auc": "max",
    "log_loss": "min",
    "calibration_error": "min",
    "f1@0.5": "max",
    "false_positive_rate": "min",
    "true_positive_rate": "max",
    "top5_error": "min",  # the last word is the head: an error
    "recall_at_fpr_0.01": "max",  # a recall, at an operating point
    "valAUC": "max",
    "trainLoss": "min",
    "eval/loss": "min",
    "latency_ms": "min",
    "exact_match": "max",
    "mAP": "max",
}


@pytest.mark.parametrize(("name", "goal"), sorted(KNOWN.items()))
def test_goal_from_name(name: str, goal: str) -> None:
    assert goal_from_name(name) == goal
    assert metric_goal(name) == goal


@pytest.mark.parametrize(
    "name",
    ["f1_threshold", "threshold", "auc_cutoff", "epochs_completed", "samples_per_sec", "tokens/sec", "uptime", "answer", "power"],
)
def test_names_without_a_direction(name: str) -> None:
    assert goal_from_name(name) is None


def test_tokens_split_separators_camel_case_and_join_numbers() -> None:
    assert name_tokens("val_Top_5-acc") == ("val", "top5", "acc")
    assert name_tokens("valF1Score") == ("val", "f1", "score")
    assert name_tokens("ndcg@10") == ("ndcg", "@", "10")
    assert name_tokens("a.b/c d") == ("a", "b", "c", "d")


def test_definition_and_declared_goal_come_before_the_name() -> None:
    assert metric_goal("val_loss", MetricDefinition(name="val_loss", goal="max")) == "max"
    assert metric_goal("val_auc", None, "minimize") == "min"


# Words that are no metric words but hide some inside them (acc, map, time, loss, err, hit, cost, ap, em ...),
# so a substring match would change the answer.
UNRELATED = (
    "val", "train", "test", "eval", "final", "best", "mean", "macro", "weighted", "holdout", "fraud",
    "answer", "cancer", "power", "tower", "career", "peer", "accept", "mapping", "timeline", "lossless",
    "errand", "hitch", "costume", "apple", "emit", "dicey", "scorecard", "model", "v2", "ema", "en",
)
SEPARATORS = ("_", "-", ".", "/", " ")


@given(
    name=st.sampled_from(sorted(KNOWN)),
    before=st.lists(st.sampled_from(UNRELATED), max_size=2),
    after=st.lists(st.sampled_from(UNRELATED), max_size=2),
    sep=st.sampled_from(SEPARATORS),
)
def test_unrelated_words_around_a_name_never_change_its_goal(name: str, before: list[str], after: list[str], sep: str) -> None:
    assert goal_from_name(sep.join([*before, name, *after])) == KNOWN[name]


@given(name=st.sampled_from(sorted(KNOWN)), word=st.sampled_from([w for w in UNRELATED if w.isalpha()]))
def test_a_camel_case_suffix_never_changes_the_goal(name: str, word: str) -> None:
    # (alphabetic words only: in "mAPV2" no rule can tell where the acronym ends)
    assert goal_from_name(name + word.capitalize()) == KNOWN[name]

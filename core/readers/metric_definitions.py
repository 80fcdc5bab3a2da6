"""How metrics were computed: definitions and thresholds in metrics files, and which metric names are thresholded."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from ..goals import Goal, normalise_goal
from ..records import MetricDefinition
from ._metric_common import _Builder, _is_mapping, _number, _plain, _same, _take

THRESHOLDED_METRIC_WORDS: frozenset[str] = frozenset(
    {"f1", "f2", "f05", "fbeta", "fscore", "f1score", "precision", "recall", "sensitivity",
     "specificity", "tpr", "fpr", "tnr", "fnr", "ppv", "npv", "mcc"}
)
"""Name tokens marking a metric computed at a decision threshold (the top-level ``threshold`` applies)."""

_NOT_THRESHOLDED_WORDS = frozenset({"auc", "auroc", "auprc", "aupr", "ap", "map", "curve"})

_DEF_VERSION_KEYS = ("version", "v")

_DEF_THRESHOLD_KEYS = ("threshold", "thresh", "cutoff")

_DEF_TEXT_KEYS = ("text", "description", "desc", "definition", "formula")

_DEF_GOAL_KEYS = ("goal", "mode", "direction", "objective")


_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"

_THRESHOLD_TEXT_RES = (
    re.compile(rf"\b(?:threshold|thresh|thr|cutoff|cut-off)\b\s*(?:==|>=|<=|=|:|>|<|of|at|is)?\s*({_NUM})", re.I),
    re.compile(rf"({_NUM})\s+(?:decision\s+)?threshold\b", re.I),
    re.compile(r"@\s*((?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?)"),
)

_AT_K_RE = re.compile(r"(?:@|(?<![a-z])at[_\s]?)k?\d+(?![\d.])")

_TOKEN_RE = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=4096)
def threshold_in_text(text: str) -> float | None:
    """The one threshold a text or name states (``F1 (threshold=0.5)``, ``f1@0.5``), or None if none or ambiguous.

    ``@`` needs a decimal point (``f1@0.5``) so that ranking metrics like ``recall@10`` do not count.
    """
    found: set[float] = set()
    for pattern in _THRESHOLD_TEXT_RES:
        for match in pattern.finditer(text):
            try:
                found.add(float(match.group(1)))
            except ValueError:  # pragma: no cover - the pattern only matches numbers
                continue
    return found.pop() if len(found) == 1 else None


@lru_cache(maxsize=4096)
def is_thresholded(name: str) -> bool:
    """True when a metric name looks computed at a decision threshold (F1, precision, recall ...), not @k or AUC."""
    lowered = name.lower()
    if _AT_K_RE.search(lowered):
        return False
    tokens = set(_TOKEN_RE.findall(lowered))
    words = tokens & THRESHOLDED_METRIC_WORDS
    if not words or tokens & _NOT_THRESHOLDED_WORDS:
        return False
    average_precision = words == {"precision"} and bool(tokens & {"average", "avg", "mean"})
    return not average_precision  # average precision is threshold-free


def resolve_thresholds(
    definitions: Mapping[str, MetricDefinition],
    names: Iterable[str],
    default: float | None = None,
) -> dict[str, MetricDefinition]:
    """Fill in thresholds that are not stated per metric: from the name (``f1@0.5``), else ``default`` for thresholded metrics.

    Definitions that already carry a threshold are untouched. Inferred thresholds
    record where they came from in ``extra["threshold_from"]`` (``"name"`` or
    ``"threshold"`` for the top-level default).
    """
    out = dict(definitions)
    for name in sorted(set(names) | set(out)):
        current = out.get(name)
        if current is not None and current.threshold is not None:
            continue
        threshold, source = threshold_in_text(name), "name"
        if threshold is None and default is not None and is_thresholded(name):
            threshold, source = default, "threshold"
        if threshold is None:
            continue
        if current is None:
            current = MetricDefinition(name=name)
        out[name] = dataclasses.replace(
            current, threshold=threshold, extra={**current.extra, "threshold_from": source}
        )
    return out


def _parse_definitions(b: _Builder, key: str, block: Any) -> None:
    """Read a definitions block: name -> mapping or text, or a list of mappings with ``name``."""
    items: list[tuple[str, Any]] = []
    if _is_mapping(block):
        items = [(str(name), spec) for name, spec in block.items()]
    elif isinstance(block, list):
        for index, spec in enumerate(block, start=1):
            if _is_mapping(spec) and spec.get("name") is not None:
                items.append((str(spec["name"]), {k: v for k, v in spec.items() if k != "name"}))
            else:
                b.note(f"item {index} of '{key}' has no 'name'; kept as an extra")
                b.put_extra(f"{key}.{index}", _plain(spec))
    else:
        b.note(f"'{key}' is a {type(block).__name__}, not a mapping or list of definitions")
        b.put_extra(key, _plain(block))
        return
    for name, spec in items:
        if name in b.definitions:
            b.note(f"metric '{name}' defined twice; kept the first")
            continue
        b.definitions[name] = _definition(b, name, spec)


_GOAL_FLAGS: tuple[tuple[str, Goal, Goal], ...] = (
    ("higher_is_better", "max", "min"),
    ("greater_is_better", "max", "min"),
    ("lower_is_better", "min", "max"),
)
"""Boolean flags that give a definition's goal: (flag, goal when true, goal when false)."""


def _definition(b: _Builder, name: str, spec: Any) -> MetricDefinition:
    """One :class:`MetricDefinition` from a mapping or a text; unknown fields go to ``extra``."""
    if isinstance(spec, str):
        in_text = threshold_in_text(spec)
        return MetricDefinition(name=name, text=spec, threshold=in_text, extra={"threshold_from": "text"} if in_text is not None else {})
    if not _is_mapping(spec):
        b.note(f"definition of '{name}' is a {type(spec).__name__}, not a mapping or text")
        return MetricDefinition(name=name, extra={"value": _plain(spec)})
    rest = {str(k): v for k, v in spec.items()}
    extra: dict[str, Any] = {}
    version = _take(rest, _DEF_VERSION_KEYS)
    version_text = None if version is None else str(version)
    text = None
    for k in _DEF_TEXT_KEYS:
        if isinstance(rest.get(k), str):
            text = rest.pop(k)
            break
    threshold: float | None = None
    raw_threshold = _take(rest, _DEF_THRESHOLD_KEYS)
    if raw_threshold is not None:
        threshold = _number(raw_threshold, loose=True)
        if threshold is None:
            b.note(f"threshold of '{name}' is not a number: {raw_threshold!r}")
            extra["threshold"] = _plain(raw_threshold)
    if threshold is None and raw_threshold is None and text:
        threshold = threshold_in_text(text)
        if threshold is not None:
            extra["threshold_from"] = "text"
    goal: Goal | None = None
    raw_goal = _take(rest, _DEF_GOAL_KEYS)
    if raw_goal is not None:
        goal = normalise_goal(raw_goal)
        if goal is None:
            b.note(f"goal of '{name}' not understood: {raw_goal!r} (expected max or min)")
            extra["goal"] = _plain(raw_goal)
    for flag, when_true, when_false in _GOAL_FLAGS:
        if goal is None and isinstance(rest.get(flag), bool):
            goal = when_true if rest.pop(flag) else when_false
    for k, v in rest.items():
        extra[k] = _plain(v)
    return MetricDefinition(
        name=name, version=version_text, threshold=threshold, text=text, goal=goal, extra=extra
    )


def _parse_thresholds(b: _Builder, key: str, block: Any) -> None:
    """Apply a ``thresholds`` block (name -> number) to the definitions; disagreements are reported."""
    if not _is_mapping(block):
        b.note(f"'{key}' is a {type(block).__name__}, not a mapping of metric -> threshold")
        b.put_extra(key, _plain(block))
        return
    for raw_name, raw in block.items():
        name = str(raw_name)
        threshold = _number(raw, loose=True)
        if threshold is None:
            b.note(f"threshold of '{name}' in '{key}' is not a number: {raw!r}")
            b.put_extra(f"{key}.{name}", _plain(raw))
            continue
        current = b.definitions.get(name)
        if current is None:
            b.definitions[name] = MetricDefinition(name=name, threshold=threshold, extra={"threshold_from": "thresholds"})
        elif current.threshold is None or current.extra.get("threshold_from") == "text":
            if current.threshold is not None and not _same(current.threshold, threshold):
                b.note(
                    f"'{key}' gives '{name}' threshold {threshold}, its definition text says"
                    f" {current.threshold}; used {threshold}"
                )
            b.definitions[name] = dataclasses.replace(
                current, threshold=threshold, extra={**current.extra, "threshold_from": "thresholds"}
            )
        elif not _same(current.threshold, threshold):
            b.note(
                f"'{key}' gives '{name}' threshold {threshold}, its definition says"
                f" {current.threshold}; kept the definition's"
            )

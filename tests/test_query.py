"""Filters and sorts: the fast paths used on big catalogs must agree with the plain definitions."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from runsift.core.query import (
    FIELDS,
    as_number,
    compare,
    compile_filters,
    field_value,
    parse_filters,
    parse_sort,
    refines,
    sort_rows,
)
from runsift.core.records import Problem, Summary

NAMES = ["run-1", "run-10", "Run-2", "123", "12.5", "nan", "inf", "Infinity", " 42", "１２", "ñandú", "", "n", "-3", "1_000", "x y"]


def rows(n: int = 300, seed: int = 7) -> list[Summary]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        metric_pool: list[Any] = [0.9, 0.91, 0.5, 0.7, math.nan, math.inf, -math.inf, 1, 0, None]
        metrics = {m: v for m in ("val_auc", "loss") if (v := rng.choice(metric_pool)) is not None}
        project = rng.choice(["fraud-model", "Fraud-Model", "nlp-intent", "2024", "inf"])
        name = rng.choice(NAMES)
        rid = f"{project}/{i:04d}-{name}"
        out.append(
            Summary(
                id=rid,
                kind=rng.choice(["run", "run", "sweep", "abtest"]),
                project=project,
                name=name,
                path="/r/" + rid,
                status=rng.choice(["finished", "failed", "incomplete", "unknown"]),
                started=rng.choice([None, "2025-01-07T14:32:11", "2024-12-31T00:00:00"]),
                run_number=rng.choice([None, 3, 23, 100]),
                sweep=rng.choice([None, "nlp-intent/sweep-07"]),
                metrics=metrics,
                problems=tuple(Problem("f", "m") for _ in range(rng.choice([0, 0, 1, 3]))),
                search=f"{rid}\0{name}\0{project}".lower(),
            )
        )
    out.sort(key=lambda r: r.id)
    return out


def reference_match(row: Summary, text: str) -> bool:
    for f in parse_filters(text):
        if f.key is None:
            ok = f.value.lower() in f"{row.id}\0{row.name}\0{row.project}".lower()
        elif f.key in FIELDS:
            ok = compare(field_value(row, f.key), f.op, f.value)
        else:
            ok = compare(row.metrics.get(f.key.removeprefix("metrics.")), f.op, f.value)
        if not ok:
            return False
    return True


def reference_sort(items: list[Summary], key: str, descending: bool) -> list[Summary]:
    def get(r: Summary) -> Any:
        return field_value(r, key) if key in FIELDS else r.metrics.get(key)

    present, missing = [], []
    for r in items:
        v = get(r)
        n = as_number(v)
        if v is None or (n is not None and math.isnan(n)):
            missing.append(r)
        elif n is not None:
            present.append(((0, n), r))
        else:
            present.append(((1, (("true" if v else "false") if isinstance(v, bool) else str(v)).lower()), r))
    present.sort(key=lambda x: x[1].id)
    present.sort(key=lambda x: x[0], reverse=descending)
    return [r for _, r in present] + sorted(missing, key=lambda r: r.id)


FILTERS = [
    "project=fraud-model", "project!=fraud-model", "project=2024", "project=inf", "project~fraud", "name=run-1",
    "name=123", "name=123.0", "name!=nan", "name~un", "status!=failed", "status=finished", "kind=run",
    "sweep=nlp-intent/sweep-07", "sweep!=x", "started~2025", "started=", "started!=", "run_number>20",
    "run_number=23", "problems>0", "problems=0", "val_auc>0.9", "val_auc<=0.5", "val_auc=0.7", "val_auc!=0.7",
    "loss>=0", "metrics.loss<1", "fraud", "RUN", "fraud status!=failed val_auc>0.5", "name=",
]


@pytest.mark.parametrize("text", FILTERS)
def test_filters_agree_with_the_plain_comparison(text: str) -> None:
    data = rows()
    predicate = compile_filters(parse_filters(text))
    assert [r.id for r in data if predicate(r)] == [r.id for r in data if reference_match(r, text)]


@pytest.mark.parametrize("key", ["project", "name", "status", "started", "run_number", "problems", "sweep", "val_auc", "loss"])
@pytest.mark.parametrize("descending", [False, True])
def test_sorts_agree_with_the_plain_definition(key: str, descending: bool) -> None:
    data = rows()
    sort = parse_sort(("-" if descending else "") + key)
    assert [r.id for r in sort_rows(data, sort)] == [r.id for r in reference_sort(data, key, descending)]


def test_sorting_rows_not_in_id_order_still_breaks_ties_by_id() -> None:
    data = rows()
    shuffled = data[:]
    random.Random(1).shuffle(shuffled)
    assert sort_rows(shuffled, parse_sort("-status")) == sort_rows(data, parse_sort("-status"))


@pytest.mark.parametrize("text", [*NAMES, "1e3", "+5", ".5", "\t7\n", "NaN", "-inf", "0x10", "abc", "٣"])
def test_as_number_reads_text_as_float_does(text: str) -> None:
    try:
        expected: float | None = float(text)
    except ValueError:
        expected = None
    got = as_number(text)
    assert (got is None and expected is None) or (got == expected) or (math.isnan(got) and math.isnan(expected))


def test_sorting_by_a_detail_key_uses_its_values() -> None:
    data = rows(40)
    lrs = {r.id: (str(lr), lr) for r, lr in zip(data, [0.1, 0.01, None, 0.001] * 10) if lr is not None}
    ordered = sort_rows(data, parse_sort("config.optimizer.lr"), lambda key: lrs)
    got = [lrs.get(r.id, (None, None))[1] for r in ordered]
    assert got == sorted(v for v in got if v is not None) + [None] * got.count(None)


@pytest.mark.parametrize("key", ["name", "-status", "val_auc", "-problems"])
def test_rows_declared_in_id_order_sort_the_same(key: str) -> None:
    data = rows()
    assert sort_rows(data, parse_sort(key), in_id_order=True) == sort_rows(data, parse_sort(key))


@pytest.mark.parametrize(
    ("new", "old", "expected"),
    [
        ("fr", "f", True),
        ("Fraud", "fr", True),
        ("fraud status!=failed", "fraud", True),
        ("name~run-1", "name~run", True),
        ("f", "fr", False),
        ("project=fraud", "project=fr", False),
        ("val_auc>0.9", "val_auc>0", False),
        ("name~run", "project~run", False),
        ("fraud", "", False),
        ("x fraud", "fraud", False),
    ],
)
def test_refines_only_when_the_new_filter_can_only_narrow(new: str, old: str, expected: bool) -> None:
    assert refines(parse_filters(new), parse_filters(old)) is expected


@pytest.mark.parametrize("typed", ["fraud", "Run-1", "nlp status!=failed"])
def test_typing_a_filter_key_by_key_gives_the_fresh_result(typed: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The catalog narrows the last result as the user types; each step must equal a fresh query."""
    from conftest import make_run

    from runsift.core.catalog import Catalog

    for i, (project, name) in enumerate([("fraud-model", "run-1"), ("nlp-intent", "run-10"), ("fraud-model", "Run-2"), ("nlp", "run-3")]):
        make_run(tmp_path / "exp" / project / f"2025-01-0{i + 1}_10-00-00_{name}", metrics={"status": "failed"} if i == 3 else None)
    with Catalog.open(tmp_path / "exp", use_cache=False) as cat:
        everything = sort_rows(cat.summaries(), parse_sort("name"))
        for end in range(1, len(typed) + 1):
            text = typed[:end]
            try:
                filters = parse_filters(text)
            except Exception:
                continue
            got = [r.id for r in cat.list(filters=filters, sort=parse_sort("name"))]
            match = compile_filters(filters)
            assert got == [r.id for r in everything if match(r)], text


def test_a_column_filter_compares_a_typed_nul_as_the_catalog_stores_it() -> None:
    # PostgreSQL cannot hold NUL, so a name is stored with U+FFFD in its place; a value typed with one (from a
    # script) must still match it, as the vals path does (sqlquery.db_text on both sides).
    from runsift.core.query import Filter
    from runsift.core.sqlquery import column_filter

    assert column_filter(Filter("project", "=", "a\0b"), ["a\ufffdb", "ab"]) == ("r.project = %s", ["a\ufffdb"])
    assert column_filter(Filter("project", "!=", "a\0b"), ["a\ufffdb"]) == ("r.project IS NULL", [])

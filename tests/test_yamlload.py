"""The lean YAML path must give exactly what PyYAML's safe loader gives, objects and errors alike."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml

from runsift.core.safeio import Unreadable, parse_yaml
from runsift.core.yamlload import load_yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DOCUMENTS = [
    "optimizer:\n  name: adam\n  lr: 0.001\n  betas: [0.9, 0.999]\nbatch_size: 64\nepochs: 3\n",
    "a: yes\nb: No\nc: on\nd: OFF\ne: true\nf: ~\ng: null\nh:\ni: ''\nj: 'yes'\n",
    "octal: 0o17\nold_octal: 017\nhex: 0x1F\nbin: 0b101\nsexagesimal: 1:30\nunderscore: 1_000\nneg: -3\nplus: +4\n",
    "inf: .inf\nninf: -.Inf\nnan: .NaN\nexp: 1e-3\nexp2: 1.0e-3\nlead: .5\ntrail: 5.\nsexa: 1:30.5\n",
    "date: 2025-01-07\nstamp: 2025-01-07T14:32:11Z\n",
    "base: &base {lr: 0.1, wd: 0.01}\nrun:\n  <<: *base\n  lr: 0.2\nother: *base\n",
    "list:\n  - a\n  - - nested\n    - [1, 2, {k: v}]\n  - {x: 1}\n",
    "3: int key\n0.5: float key\ntrue: bool key\nnull: null key\n",
    "!!set {a, b}\n",
    "- !!binary aGVsbG8=\n- !!str 123\n- !!int '7'\n- !!float '1.5'\n",
    "key: value\nkey: again\n",
    "just a string\n",
    "42\n",
    "",
    "# only a comment\n",
    "? [1, 2]\n: unhashable\n",
    "a: !!python/object:os.system echo\n",
    "a: [1, 2\n",
    "---\na: 1\n---\nb: 2\n",
    "a: !custom tag\n",
    "ratio: 'x & y'\nlr: [0.1, 0.1, 1e-3, 1.0e-3]\nflag: [yes, 'yes', !!bool yes]\n",
    "n: !!int '0x1F'\nm: 0x1F\nf: !!float '3'\ng: 3\n",
]


def outcome(load: Any, text: str) -> Any:
    try:
        return ("ok", load(text))
    except yaml.YAMLError as exc:
        return ("error", type(exc).__name__, str(exc))


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("text", DOCUMENTS)
def test_same_objects_and_errors_as_pyyaml(text: str) -> None:
    expected = outcome(lambda t: yaml.load(t, Loader=LOADER), text)
    got = outcome(load_yaml, text)
    assert same(got, expected)
    assert same(outcome(load_yaml, text), expected)  # again, now from the resolver's memo


def test_aliases_still_share_one_object_so_bombs_are_caught() -> None:
    doc = load_yaml("a: &a [1, 2]\nb: *a\n")
    assert doc["a"] is doc["b"]
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    with pytest.raises(Unreadable):
        parse_yaml(bomb)


def test_long_and_quoted_scalars_are_not_remembered() -> None:
    from runsift.core.yamlload import SafeLoader

    prompt = "x" * 5000
    load_yaml(f"prompt: {prompt}\nquoted: 'a quoted value'\nshort: adam\n")
    remembered = set(SafeLoader._resolved)
    assert "adam" in remembered
    assert prompt not in remembered and "a quoted value" not in remembered

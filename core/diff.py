"""What differs between two runs, section by section.

Each section is a list of :class:`Change` with a dotted ``path``, the two values
and a ``change`` word (changed, added, removed, type_changed, upgraded,
downgraded, same ...). "Same" entries are produced only when ``include_same``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .goals import is_better
from .mappings import flatten
from .readers.splits import load_split_ids
from .records import Run
from .versions import compare_versions

SECTIONS: tuple[str, ...] = ("config", "code", "env", "data", "splits", "seeds", "metrics", "notes", "artifacts")
SPLIT_OVERLAP_MAX_IDS = 5_000_000
"""Largest split (ids per side) whose overlap is computed; beyond it only counts and hashes are compared."""


@dataclass(frozen=True, slots=True)
class Change:
    """One difference (or, in the full view, one equality) between run A and run B."""

    path: str
    a: Any
    b: Any
    change: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    """Extra facts: version level, metric delta and relative delta, split overlap ..."""


@dataclass(frozen=True, slots=True)
class RunDiff:
    """The differences between two runs, by section."""

    a: str
    b: str
    sections: Mapping[str, tuple[Change, ...]]

    def changes(self, section: str) -> tuple[Change, ...]:
        """Changes of one section that are real differences (not 'same')."""
        return tuple(c for c in self.sections.get(section, ()) if c.change != "same")

    @property
    def has_differences(self) -> bool:
        """True when any section holds a real difference."""
        return any(self.changes(s) for s in self.sections)

    def summary(self) -> str:
        """One line naming the kinds of differences: "3 config keys, 2 packages, data version"."""
        parts: list[str] = []
        counts = {s: len(self.changes(s)) for s in self.sections}
        if counts.get("config"):
            parts.append(_plural(counts["config"], "config key"))
        if counts.get("code"):
            parts.append("code " + ", ".join(sorted({c.path for c in self.changes("code")})))
        env = self.changes("env")
        packages = [c for c in env if c.path.startswith("packages.")]
        if packages:
            parts.append(_plural(len(packages), "package"))
        others = sorted({c.path.split(".")[0] for c in env if not c.path.startswith("packages.")})
        parts.extend(f"env {o}" for o in others)
        data = self.changes("data")
        if data:
            parts.append("data " + ", ".join(sorted({c.path.split(".")[0] for c in data})))
        if counts.get("splits"):
            parts.append(_plural(len({c.path.split(".")[0] for c in self.changes("splits")}), "split"))
        if counts.get("seeds"):
            parts.append(_plural(counts["seeds"], "seed"))
        defs = [c for c in self.changes("metrics") if c.path.startswith("definitions.")]
        if defs:
            parts.append(_plural(len({c.path.split(".")[1] for c in defs}), "metric definition"))
        if counts.get("notes"):
            parts.append("notes")
        if counts.get("artifacts"):
            parts.append(_plural(counts["artifacts"], "artifact"))
        return ", ".join(parts) if parts else "no differences in what produced the runs"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def diff_runs(
    a: Run,
    b: Run,
    *,
    sections: tuple[str, ...] | list[str] = SECTIONS,
    include_same: bool = False,
    root: Path | None = None,
) -> RunDiff:
    """Compare two runs; ``root`` lets split ids be read to compute overlaps."""
    builders = {
        "config": lambda: diff_config(a.config, b.config, include_same),
        "code": lambda: _diff_code(a, b, include_same),
        "env": lambda: _diff_env(a, b, include_same),
        "data": lambda: _diff_data(a, b, include_same),
        "splits": lambda: _diff_splits(a, b, include_same, root),
        "seeds": lambda: _diff_mapping(a.seeds, b.seeds, include_same),
        "metrics": lambda: _diff_metrics(a, b, include_same),
        "notes": lambda: _diff_notes(a, b, include_same),
        "artifacts": lambda: _diff_artifacts(a, b, include_same),
    }
    unknown = [s for s in sections if s not in builders]
    if unknown:
        raise ValueError(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    return RunDiff(a.id, b.id, {s: tuple(builders[s]()) for s in SECTIONS if s in sections})


# -- config -----------------------------------------------------------------------


def diff_config(a: Mapping[str, Any], b: Mapping[str, Any], include_same: bool = False) -> list[Change]:
    """Config differences by dotted path, via deepdiff."""
    # Imported here: deepdiff pulls in numpy (and pandas when installed), which ls never needs.
    from deepdiff import DeepDiff

    dd = DeepDiff(dict(a), dict(b), view="tree", ignore_nan_inequality=True, verbose_level=2)
    kinds = {
        "values_changed": "changed",
        "type_changes": "type_changed",
        "dictionary_item_added": "added",
        "dictionary_item_removed": "removed",
        "iterable_item_added": "added",
        "iterable_item_removed": "removed",
        "attribute_added": "added",
        "attribute_removed": "removed",
        "set_item_added": "added",
        "set_item_removed": "removed",
    }
    changes: list[Change] = []
    for report, word in kinds.items():
        for level in dd.get(report, ()):
            path = dotted(level.path(output_format="list"))
            va = None if word == "added" else _plain(level.t1)
            vb = None if word == "removed" else _plain(level.t2)
            changes.append(Change(path, va, vb, word))
    changes.sort(key=lambda c: c.path)
    if include_same:
        changed = {c.path for c in changes}
        for path, value in flatten(a, ""):
            if path not in changed and not any(p.startswith((path + ".", path + "[")) for p in changed):
                changes.append(Change(path, value, value, "same"))
        changes.sort(key=lambda c: c.path)
    return changes


def dotted(parts: list[Any]) -> str:
    """deepdiff's path list as ``optimizer.lr`` / ``features[3]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _plain(value: Any) -> Any:
    from deepdiff.helper import NotPresent

    return None if isinstance(value, NotPresent) else value


# -- simple sections ------------------------------------------------------------------


def _diff_mapping(a: Mapping[str, Any], b: Mapping[str, Any], include_same: bool, prefix: str = "") -> list[Change]:
    changes = []
    for key in sorted(set(a) | set(b), key=str):
        path = f"{prefix}{key}"
        if key not in a:
            changes.append(Change(path, None, b[key], "added"))
        elif key not in b:
            changes.append(Change(path, a[key], None, "removed"))
        elif not _same(a[key], b[key]):
            changes.append(Change(path, a[key], b[key], "changed"))
        elif include_same:
            changes.append(Change(path, a[key], b[key], "same"))
    return changes


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return bool(x == y)


def _diff_code(a: Run, b: Run, include_same: bool) -> list[Change]:
    fields = {"commit": (a.code.commit, b.code.commit), "dirty": (a.code.dirty, b.code.dirty)}
    changes = _pairs(fields, include_same)
    fa, fb = set(a.code.changed_files), set(b.code.changed_files)
    changes += [Change(f"changed_files.{f}", None, f, "added") for f in sorted(fb - fa)]
    changes += [Change(f"changed_files.{f}", f, None, "removed") for f in sorted(fa - fb)]
    if include_same:
        changes += [Change(f"changed_files.{f}", f, f, "same") for f in sorted(fa & fb)]
    changes += _diff_mapping(a.code.extra, b.code.extra, include_same, "extra.")
    return changes


def _pairs(fields: Mapping[str, tuple[Any, Any]], include_same: bool) -> list[Change]:
    changes = []
    for path, (va, vb) in fields.items():
        if va is None and vb is None:
            continue
        if va is None:
            changes.append(Change(path, va, vb, "added"))
        elif vb is None:
            changes.append(Change(path, va, vb, "removed"))
        elif va != vb:
            changes.append(Change(path, va, vb, "changed"))
        elif include_same:
            changes.append(Change(path, va, vb, "same"))
    return changes


def _diff_env(a: Run, b: Run, include_same: bool) -> list[Change]:
    changes = _pairs({"python": (a.env.python, b.env.python), "os": (a.env.os, b.env.os)}, include_same)
    if a.env.python and b.env.python and a.env.python != b.env.python:
        vc = compare_versions(a.env.python, b.env.python)
        changes = [
            Change(c.path, c.a, c.b, vc.direction if vc.direction != "same" else c.change, {"level": vc.level})
            if c.path == "python"
            else c
            for c in changes
        ]
    ha, hb = list(a.env.hardware), list(b.env.hardware)
    if ha != hb:
        changes.append(Change("hardware", "; ".join(ha) or None, "; ".join(hb) or None, "changed"))
    elif include_same and ha:
        changes.append(Change("hardware", "; ".join(ha), "; ".join(hb), "same"))
    changes += _diff_mapping(a.env.extra, b.env.extra, include_same, "extra.")
    pa, pb = a.env.packages, b.env.packages
    for name in sorted(set(pa) | set(pb)):
        path = f"packages.{name}"
        if name not in pa:
            changes.append(Change(path, None, pb[name], "added"))
        elif name not in pb:
            changes.append(Change(path, pa[name], None, "removed"))
        else:
            vc = compare_versions(str(pa[name]), str(pb[name]))
            if vc.direction != "same":
                changes.append(Change(path, pa[name], pb[name], vc.direction, {"level": vc.level}))
            elif include_same:
                changes.append(Change(path, pa[name], pb[name], "same"))
    return changes


def _diff_data(a: Run, b: Run, include_same: bool) -> list[Change]:
    da, db = a.data, b.data
    changes = _pairs(
        {"name": (da.name, db.name), "version": (da.version, db.version), "format": (da.format, db.format), "rows": (da.rows, db.rows)},
        include_same,
    )
    changes += _diff_mapping(da.hashes, db.hashes, include_same, "hashes.")
    changes += _diff_mapping(da.extra, db.extra, include_same, "extra.")
    return changes


def _diff_splits(a: Run, b: Run, include_same: bool, root: Path | None) -> list[Change]:
    changes: list[Change] = []
    sa = {s.name: s for s in a.splits}
    sb = {s.name: s for s in b.splits}
    for name in sorted(set(sa) | set(sb)):
        x, y = sa.get(name), sb.get(name)
        if x is None:
            if y is not None:  # always: the name came from b
                changes.append(Change(name, None, y.count, "added", {"count_b": y.count}))
            continue
        if y is None:
            changes.append(Change(name, x.count, None, "removed", {"count_a": x.count}))
            continue
        if x.sha256 == y.sha256:
            if include_same:
                changes.append(Change(name, x.count, y.count, "same", {"sha256": x.sha256}))
            continue
        detail: dict[str, Any] = {"count_a": x.count, "count_b": y.count, "sha256_a": x.sha256, "sha256_b": y.sha256}
        if root is not None and max(x.count, y.count) <= SPLIT_OVERLAP_MAX_IDS:
            detail.update(_overlap(root, x, y))
        changes.append(Change(name, x.count, y.count, "changed", detail))
    return changes


def _overlap(root: Path, x: Any, y: Any) -> dict[str, Any]:
    try:
        ids_a, ids_b = set(load_split_ids(root, x)), set(load_split_ids(root, y))
    except Exception as exc:
        return {"overlap_error": f"could not read split ids: {exc}"}
    only_a, only_b = sorted(ids_a - ids_b), sorted(ids_b - ids_a)
    return {
        "common": len(ids_a & ids_b),
        "only_a": len(only_a),
        "only_b": len(only_b),
        "examples_only_a": only_a[:5],
        "examples_only_b": only_b[:5],
    }


def _diff_metrics(a: Run, b: Run, include_same: bool) -> list[Change]:
    changes: list[Change] = []
    fa, fb = a.metrics.final, b.metrics.final
    defs_a, defs_b = a.metrics.definitions, b.metrics.definitions
    for name in sorted(set(fa) | set(fb)):
        if name not in fa:
            changes.append(Change(name, None, fb[name], "added"))
            continue
        if name not in fb:
            changes.append(Change(name, fa[name], None, "removed"))
            continue
        va, vb = fa[name], fb[name]
        if _same(va, vb):
            if include_same:
                changes.append(Change(name, va, vb, "same", {"delta": 0.0, "relative": 0.0}))
            continue
        changes.append(Change(name, va, vb, "changed", metric_delta(name, va, vb, defs_b.get(name) or defs_a.get(name))))
    for name in sorted(set(defs_a) | set(defs_b)):
        da, db = defs_a.get(name), defs_b.get(name)
        fields = ("version", "threshold", "text", "goal")
        pa = {f: getattr(da, f) for f in fields} if da else {}
        pb = {f: getattr(db, f) for f in fields} if db else {}
        for f in fields:
            da_f, db_f = pa.get(f), pb.get(f)
            if da_f == db_f:
                if include_same and da_f is not None:
                    changes.append(Change(f"definitions.{name}.{f}", da_f, db_f, "same"))
                continue
            word = "added" if da_f is None else "removed" if db_f is None else "changed"
            changes.append(Change(f"definitions.{name}.{f}", da_f, db_f, word))
    return changes


def metric_delta(name: str, a: float, b: float, definition: Any = None) -> dict[str, Any]:
    """Absolute and relative change of a metric from ``a`` to ``b``, and whether ``b`` is better."""
    try:
        delta = float(b) - float(a)
    except (TypeError, ValueError):
        return {}
    relative = delta / abs(a) if a not in (0, 0.0) and math.isfinite(a) else None
    better = is_better(name, float(a), float(b), definition) if math.isfinite(delta) else None
    return {"delta": delta, "relative": relative, "better": better}


def _diff_notes(a: Run, b: Run, include_same: bool) -> list[Change]:
    if a.notes == b.notes:
        return [Change("notes", a.notes, b.notes, "same")] if include_same and a.notes else []
    word = "added" if not a.notes else "removed" if not b.notes else "changed"
    return [Change("notes", a.notes or None, b.notes or None, word)]


def _diff_artifacts(a: Run, b: Run, include_same: bool) -> list[Change]:
    sizes_a = {x.path: x.size for x in a.artifacts}
    sizes_b = {x.path: x.size for x in b.artifacts}
    return _diff_mapping(sizes_a, sizes_b, include_same)

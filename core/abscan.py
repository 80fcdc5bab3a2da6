"""The parallel scan of an A/B kit's logs: every metric event of every unit, classified once.

Both logs are streamed once; each analysed unit ends up with a bit mask of the classes of its
metric events (in the window, before exposure, after the window, each of the recorded schema or
another), so :mod:`.abfigures` can recount under relaxed rules without reading the logs again.
Large logs are split between worker processes by unit, so a unit's assignments and events are
always read by the same worker.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from .ablogs import open_rows, slow_time
from .abspec import loose_name, version_key
from .gcpause import paused_gc

NOT_A_VARIANT: tuple[str, ...] = ("holdout", "hold_out", "hold-out", "excluded", "unassigned", "none", "null", "")
"""Assignment values never analysed as a variant when the definition plans none."""
MAX_EXAMPLES = 5
"""Example unit ids kept for units assigned to more than one variant."""
PARALLEL_MIN_BYTES = 32 * 1024 * 1024
"""Below this combined log size one process is quicker than starting workers."""

QUAL, BEFORE, AFTER, SCHEMA_QUAL, SCHEMA_BEFORE, SCHEMA_AFTER = 1, 2, 4, 8, 16, 32
"""Per-unit classes of metric events, as bits: of the recorded schema version, in the window / before
exposure / at or after the window's end; then the same three for another schema version."""
MASKS = 64
"""Number of bit masks (histogram length): every combination of the six classes."""

_UTC = UTC
_fromiso = datetime.fromisoformat


@dataclass(frozen=True, slots=True)
class ScanJob:
    """Everything a worker needs to scan one partition of the units (picklable)."""

    root: str
    a_rel: str
    a_path: str
    a_names: tuple[str, ...]
    a_cols: tuple[int, int, int, int]
    """unit, variant, exposure time, experiment id (-1: none)."""
    experiment_id: str | None
    planned: tuple[str, ...]
    e_rel: str
    e_path: str
    e_names: tuple[str, ...]
    e_cols: tuple[int, int, int, int]
    """unit, event name (-1: every row is the event), time, schema version (-1: none)."""
    event: str | None
    schema: str | None
    window_seconds: float | None
    part: int = 0
    parts: int = 1


@dataclass(slots=True)
class Partial:
    """What one worker counted (plain data: summed across workers)."""

    hist: dict[str, list[int]]
    multi_hist: dict[str, list[int]]
    qualifying: dict[str, int]
    variants_seen: list[str]
    counts: dict[str, int]
    unplanned_rows: dict[str, int]
    other_schema: dict[str, int]
    multi_units: int
    multi_examples: list[str]
    near_names: dict[str, int]
    """Event names that differ from the metric's event only in case or spacing, with their row counts."""


def _scan(job: ScanJob) -> Partial:
    """Stream both logs once for the units of one partition; classify every metric event of each unit."""
    with paused_gc():  # millions of small objects: generational GC passes would cost as much as the parsing
        return _scan_inner(job)


def _scan_inner(job: ScanJob) -> Partial:
    i: int | None  # a unit's index: None when the events name a unit the assignments do not
    t: datetime | None  # an event's time: None when it cannot be read
    part, parts = job.part, job.parts
    iu, iv, it, ix = job.a_cols
    exp_id = job.experiment_id if ix >= 0 else None
    planned = list(job.planned)
    names: list[str] = list(planned)
    lower_planned = {p.lower(): p for p in planned}
    vindex: dict[Any, int] = {}
    unplanned_rows: dict[str, int] = {}
    unplanned_units: set[str] = set()
    units: dict[str, int] = {}
    var = array("h")
    texp: list[Any] = []
    multi: dict[str, dict[int, Any]] = {}
    other_exp = dup = bad_a = rows_a = 0
    setdefault = units.setdefault
    append_var, append_time = var.append, texp.append
    str_type = str

    def variant_index(raw: Any) -> int:
        """Index of an assignment value's variant; -1 for values not analysed (holdout ...)."""
        text = raw if isinstance(raw, str) else str(raw)
        if planned:
            if text in planned:
                return planned.index(text)
            name = lower_planned.get(text.strip().lower())
            return planned.index(name) if name is not None else -1
        key = text.strip()
        if key.lower() in NOT_A_VARIANT:
            return -1
        if key not in names:
            names.append(key)
        return names.index(key)

    with open_rows(job.root, job.a_rel, job.a_path, job.a_names) as rows:
        for row in rows:
            try:
                u = row[iu]
                raw_v = row[iv]
                ts = row[it]
                exp = row[ix] if ix >= 0 else None
            except IndexError:
                if row and part == 0:
                    bad_a += 1
                continue
            if parts > 1 and (ord(u[-1]) % parts if u else 0) != part:
                continue
            rows_a += 1
            if exp_id is not None and exp != exp_id:
                other_exp += 1
                continue
            vi = vindex.get(raw_v)
            if vi is None:
                vi = vindex[raw_v] = variant_index(raw_v)
            if vi < 0:
                label = str(raw_v)
                unplanned_rows[label] = unplanned_rows.get(label, 0) + 1
                unplanned_units.add(u)
                continue
            n = len(texp)
            i = setdefault(u, n)
            if i == n:  # a new unit; its exposure time is parsed when first needed
                if not u:
                    del units[u]
                    bad_a += 1
                    continue
                append_var(vi)
                append_time(ts if ts.__class__ is str_type else slow_time(ts))
                continue
            cur = var[i]
            if cur == vi:  # the same assignment again: the earliest is the exposure
                dup += 1
                old, new = _exposure(texp[i]), slow_time(ts)
                if new is not None and (old is None or new < old):
                    texp[i] = new
            elif cur >= 0:  # a second variant: the unit leaves every variant
                multi[u] = {cur: _exposure(texp[i]), vi: slow_time(ts)}
                var[i] = -1
            else:
                seen = multi[u]
                new = slow_time(ts)
                if vi in seen:
                    dup += 1
                    if new is not None and (seen[vi] is None or new < seen[vi]):
                        seen[vi] = new
                else:
                    seen[vi] = new

    mask = bytearray(len(texp))
    touched: list[int] = []
    multi_mask: dict[tuple[str, int], int] = {}
    qualifying = [0] * len(names)
    other_schema: dict[str, int] = {}
    ju, je, jt, js = job.e_cols
    event = job.event if je >= 0 else None
    event_loose = loose_name(event) if event is not None else None
    want = job.schema if js >= 0 else None
    window = timedelta(seconds=job.window_seconds) if job.window_seconds is not None else None
    near_miss: dict[Any, bool] = {}
    near_names: dict[Any, int] = {}  # keys as the file gives them (JSON lines may hold non-text)
    schema_key: dict[Any, str] = {}
    rows_e = bad_e = metric_events = unassigned = unplanned_ev = multi_ev = bad_exposure = 0
    before = outside = other_schema_n = qualifying_n = 0
    fromiso = _fromiso
    utc = _UTC
    get = units.get
    key = ""

    with open_rows(job.root, job.e_rel, job.e_path, job.e_names) as rows:
        for row in rows:
            try:
                u = row[ju]
                ev = row[je] if je >= 0 else None
                ts = row[jt]
                sv = row[js] if js >= 0 else None
            except IndexError:
                if row and part == 0:
                    bad_e += 1
                continue
            if parts > 1 and (ord(u[-1]) % parts if u else 0) != part:
                continue
            rows_e += 1
            if ev != event:  # names match exactly; near misses (Purchase, " purchase") are only counted
                near = near_miss.get(ev)
                if near is None:
                    near = near_miss[ev] = loose_name(ev) == event_loose
                if near:
                    near_names[ev] = near_names.get(ev, 0) + 1
                continue
            metric_events += 1
            i = get(u)
            if i is None:
                if u in unplanned_units:
                    unplanned_ev += 1
                else:
                    unassigned += 1
                continue
            schema_ok = True
            if want is not None and sv != want:
                known = schema_key.get(sv)
                if known is None:
                    known = schema_key[sv] = version_key(sv)
                key = known
                schema_ok = key == want
            try:
                t = fromiso(ts)
                if t.tzinfo is None:
                    t = t.replace(tzinfo=utc)
            except (TypeError, ValueError):
                t = slow_time(ts)
                if t is None:
                    bad_e += 1
                    continue
            vi = var[i]
            if vi >= 0:
                te = texp[i]
                if te.__class__ is str_type:  # first event of this unit: parse its exposure time once
                    try:
                        te = fromiso(te)
                        if te.tzinfo is None:
                            te = te.replace(tzinfo=utc)
                    except ValueError:
                        te = slow_time(te)
                    texp[i] = te
                if te is None:
                    bad_exposure += 1
                    continue
                if not schema_ok:
                    other_schema_n += 1
                    other_schema[key] = other_schema.get(key, 0) + 1
                    c = SCHEMA_BEFORE if t < te else (SCHEMA_AFTER if window is not None and t >= te + window else SCHEMA_QUAL)
                elif t < te:
                    c = BEFORE
                    before += 1
                elif window is not None and t >= te + window:
                    c = AFTER
                    outside += 1
                else:
                    c = QUAL
                    qualifying[vi] += 1
                    qualifying_n += 1
                if not mask[i]:
                    touched.append(i)
                mask[i] |= c
            else:
                multi_ev += 1
                for vj, te in multi[u].items():
                    if te is None:
                        continue
                    if t < te:
                        c = BEFORE if schema_ok else SCHEMA_BEFORE
                    elif window is not None and t >= te + window:
                        c = AFTER if schema_ok else SCHEMA_AFTER
                    else:
                        c = QUAL if schema_ok else SCHEMA_QUAL
                    multi_mask[(u, vj)] = multi_mask.get((u, vj), 0) | c

    per_variant = [0] * len(names)
    for v in var:
        if v >= 0:
            per_variant[v] += 1
    hist = [[0] * MASKS for _ in names]
    for i in touched:
        if var[i] >= 0:
            hist[var[i]][mask[i]] += 1
    for k, h in enumerate(hist):
        h[0] = per_variant[k] - sum(h)
    multi_hist = [[0] * MASKS for _ in names]
    for u, seen in multi.items():
        for vj in seen:
            multi_hist[vj][multi_mask.get((u, vj), 0)] += 1
    return Partial(
        hist={n: hist[k] for k, n in enumerate(names)},
        multi_hist={n: multi_hist[k] for k, n in enumerate(names)},
        qualifying={n: qualifying[k] for k, n in enumerate(names)},
        variants_seen=names,
        counts={
            "assignment_rows": rows_a,
            "other_experiment_rows": other_exp,
            "duplicate_assignment_rows": dup,
            "bad_assignment_rows": bad_a,
            "event_rows": rows_e,
            "metric_events": metric_events,
            "qualifying_events": qualifying_n,
            "events_before_exposure": before,
            "events_outside_window": outside,
            "events_other_schema": other_schema_n,
            "events_unassigned": unassigned,
            "events_unplanned_variant": unplanned_ev,
            "events_multi_variant_units": multi_ev,
            "events_bad_exposure": bad_exposure,
            "bad_event_rows": bad_e,
        },
        unplanned_rows=unplanned_rows,
        other_schema=other_schema,
        multi_units=len(multi),
        multi_examples=sorted(multi)[:MAX_EXAMPLES],
        near_names=near_names,
    )


def _exposure(value: Any) -> datetime | None:
    """An exposure time kept as text until first needed, parsed (timezone-aware), or None."""
    if value is None or isinstance(value, datetime):
        return slow_time(value) if value is not None else None
    try:
        t = _fromiso(value)
    except (TypeError, ValueError):
        return slow_time(value)
    return t if t.tzinfo is not None else t.replace(tzinfo=_UTC)


def merge(parts: Sequence[Partial]) -> Partial:
    """Sum the workers' counts (variant names in first-seen order)."""
    names: list[str] = []
    for p in parts:
        names += [n for n in p.variants_seen if n not in names]
    total = Partial(
        hist={n: [0] * MASKS for n in names},
        multi_hist={n: [0] * MASKS for n in names},
        qualifying=dict.fromkeys(names, 0),
        variants_seen=names,
        counts={},
        unplanned_rows={},
        other_schema={},
        multi_units=0,
        multi_examples=[],
        near_names={},
    )
    for p in parts:
        for n in p.variants_seen:
            total.hist[n] = [a + b for a, b in zip(total.hist[n], p.hist[n])]
            total.multi_hist[n] = [a + b for a, b in zip(total.multi_hist[n], p.multi_hist[n])]
            total.qualifying[n] += p.qualifying[n]
        for src, dst in (
            (p.counts, total.counts),
            (p.unplanned_rows, total.unplanned_rows),
            (p.other_schema, total.other_schema),
            (p.near_names, total.near_names),
        ):
            for k, v in src.items():
                dst[k] = dst.get(k, 0) + v
        total.multi_units += p.multi_units
        total.multi_examples += p.multi_examples
    total.multi_examples = sorted(total.multi_examples)[:MAX_EXAMPLES]
    return total


def scan_all(job: ScanJob, n: int) -> Partial:
    """Scan in this process, or split the units between it and ``n - 1`` spawned workers."""
    if n <= 1:
        return merge([_scan(job)])
    jobs = [replace(job, part=k, parts=n) for k in range(n)]
    try:
        with ProcessPoolExecutor(max_workers=n - 1, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_scan, j) for j in jobs[1:]]
            own = _scan(jobs[0])  # this process scans one partition while the workers scan the others
            return merge([own] + [f.result() for f in futures])
    except BrokenProcessPool:  # workers could not start or died: do it all here
        return merge([_scan(job)])


def worker_count(requested: int | None, paths: Sequence[Path]) -> int:
    """Worker processes to use: as requested, else 2-4 for logs over PARALLEL_MIN_BYTES when cores allow."""
    if requested is not None:
        return max(1, int(requested))
    try:
        size = sum(os.path.getsize(p) for p in paths)
    except OSError:
        return 1
    if size < PARALLEL_MIN_BYTES:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))

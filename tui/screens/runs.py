"""The runs screen: every record in one virtual table, with a live filter, sort, marks and indexing."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static
from textual.worker import Worker, get_current_worker

from runsift.core.catalog import CatalogError
from runsift.core.columns import default_columns
from runsift.core.gcpause import freeze_long_lived
from runsift.core.naming import short_name
from runsift.core.query import (
    FACET_PREFIXES,
    FIELDS,
    SOURCE_FACETS,
    FacetValue,
    Filter,
    QueryError,
    Sort,
    check_keys,
    is_facet,
    parse_filters_lenient,
    parse_sort,
)
from runsift.core.records import Summary

from ..messages import OpenDiff, OpenRecord, PickColumns, PickProject, RecordsChanged
from ..safe import literal, visible
from ..trouble import catalog_work
from ..widgets.filter_input import FilterInput
from ..widgets.run_table import LIVE_FOR, Column, RunTable, is_guessed, table_key, user_key

if TYPE_CHECKING:
    from ..app import RunsiftApp

BASE_COLUMNS: tuple[Column, ...] = (
    Column("project", "project", "left", 5, 20),
    Column("name", "name", "left", 16, 36),
    Column("started", "started", "left", 16, 17),
    Column("status", "status", "left", 8, 11),  # "~incomplete": a guessed status
)
_BASE = {c.key: c for c in BASE_COLUMNS}
MAX_METRIC_COLUMNS = 6
FIRST_PAGE = 200
"""Rows shown before the whole list is loaded on a first start."""
FILL_EVERY = 1.5
"""Seconds between table refreshes while a long indexing runs."""
COUNT_AFTER = 0.3
"""Seconds a full page waits on screen before its matches are counted: a count of a broad filter takes 0.35-0.6 s of the
database at 1M records, for nothing when the next key replaces the list; typed within this, none runs."""
MORE_WITHIN = 100
"""On a catalog read a page at a time, the next page is asked for when the cursor comes this close to the last
row held (or half a page, for small pages)."""


def _still_wanted(worker: Worker[None], seconds: float) -> bool:
    """Wait ``seconds`` in a worker's thread; False as soon as a newer query replaced it."""
    for _ in range(max(1, round(seconds / 0.05))):
        if worker.is_cancelled:
            return False
        time.sleep(0.05)
    return not worker.is_cancelled


class RunsScreen(Screen[None]):
    """All records below the root; type to filter, space to mark two, d to diff them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # A priority binding, so the app acts on "/" before it hands on the keys typed after it in the
        # same burst (a slow SSH link): "/fr" puts "fr" in the filter instead of sending r (rescan)
        # to the table. check_action turns it off while the filter has focus, so "/" can be typed there.
        Binding("slash", "focus_filter", "Filter", key_display="/", priority=True),
        Binding("d", "diff", "Diff"),
        Binding("s", "sort_next", "Sort"),
        Binding("S", "sort_reverse", "Reverse", show=False),
        Binding("question_mark", "app.help", "Help", key_display="?"),
        Binding("q", "app.quit", "Quit"),
        Binding("p", "pick_project", "Project"),
        Binding("c", "pick_columns", "Columns"),
        Binding("r", "rescan", "Rescan", show=False),  # the footer fits 80 columns; ? lists it
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    HELP: ClassVar[str] = (
        "Every run, sweep and A/B record below the root (shown in the header), one per row. While the app "
        "is open the root is watched: new runs appear and running ones update, keeping the cursor, marks "
        "and filter.\n\n"
        "**Filters** (typed, all must match): `KEY OP VALUE` with `=  !=  >  >=  <  <=  ~` (contains), or a "
        "bare word matched against id, name and project. Keys: `project`, `name`, `status`, `started`, "
        "`kind`, `sweep`, `problems`, a metric (`val_auc`), or `config.…`, `data.…`, `seeds.…`, "
        "`env.python`, `code.commit`. Example: `project=fraud-model val_auc>0.92 status!=failed cosine`."
    )
    AUTO_FOCUS = "#runs"
    app: RunsiftApp

    def __init__(self) -> None:
        super().__init__()
        self._columns: list[Column] = list(BASE_COLUMNS)
        self._total = 0
        self._shown = 0
        self._filter_error: str | None = None
        self._indexing: str | None = None
        self._cursor_restored = False
        self._projects: list[str] = []
        self._presort_pending = False
        """Presorting was asked for by a query that a newer one replaced."""
        self._live_since: dict[str, float] = {}
        """Record id -> when the watcher last saw its files change (for the ``↻`` after its name)."""
        self._facet_cache: dict[str, Mapping[str, FacetValue]] = {}
        """Detail values by key (config paths, error, started_source, status_source), until the next indexing."""
        self._sweep_metrics: dict[str, str | None] = {}
        self._guessed = False
        """Some rows shown start at a guessed time (the status line says what ``~`` means)."""
        self._loaded = False
        """Rows of a valid filter are on screen: a filter being typed (``val_auc>``) keeps them."""
        self._query: tuple[int, tuple[Filter, ...], Sort | None] = (0, (), None)
        """The shown rows' query (a number that changes with each new list, filters, sort): what a next page continues."""
        self._rows_held = 0
        """Rows the table holds (fewer than ``_shown`` while a paged catalog has more to give), for workers,
        which do not touch widgets."""
        self._more_pending = False
        """A next page is being read: one at a time."""
        self._counting = False
        """The shown rows are a full page whose matches are being counted: ``_shown`` is the rows held, and more."""

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        with Horizontal(id="filter-bar"):
            yield FilterInput(
                value=self.app.state.filter,
                placeholder="press / to filter, e.g. project=fraud-model val_auc>0.9",
                id="filter",
            )
            yield Static("", id="match-count")
        yield RunTable(id="runs")
        yield Static("", id="empty-note")
        yield Static("", id="status-line")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one(RunTable)
        table.set_marks(frozenset(self.app.state.marks))
        table.focus()
        self._sort = self._parse_saved_sort()
        self.load_rows(first=True)
        self.index(full=self.app.rescan_at_start)

    def _parse_saved_sort(self) -> Sort | None:
        try:
            return parse_sort(self.app.state.sort) if self.app.state.sort else None
        except QueryError:
            return None

    # -- data ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="query")
    @catalog_work
    def load_rows(self, first: bool = False, keep_cursor: bool = True, presort: bool = False) -> None:
        """Query the catalog off the UI thread and hand the rows to the table.

        ``first`` also (re)computes the metric columns and projects; ``presort`` then sorts by every
        column in the background (asked for once indexing is over).
        """
        worker = get_current_worker()
        text = self.app.state.filter
        catalog = self.app.catalog
        if first:
            self._facet_cache = {}  # indexing may have changed any detail
        chosen = self.app.state.columns
        if first and not text.strip() and self._sort is None and not self._loaded:
            # Paint the first screen before anything that reads every record (the full list, metric names).
            head, total = catalog.head(FIRST_PAGE)
            if head and not worker.is_cancelled:
                keys = chosen or default_columns(head, None, MAX_METRIC_COLUMNS)
                self.app.call_from_thread(self._show_rows, head, total, None, keys, {}, [], True, True)
        metric_names = catalog.metric_names()

        def check(flt: Filter) -> None:
            # A catalog in memory reads a detail key's column for the filter anyway: values there say the key is known
            # without listing every key of every record first (2 s of a first config filter's 4 s at 100k runs).
            if catalog.page_rows is None and flt.key is not None and flt.key.startswith(FACET_PREFIXES) and catalog.facet(flt.key):
                return
            check_keys([flt], None, metric_names, catalog.facet_keys)

        # A word being typed (val_auc>) or mistyped (val_acu>0.9) is left out and named in the status
        # line; the complete words before it keep filtering, so the table does not jump to every row.
        filters, error = parse_filters_lenient(text, check)
        # A catalog read a page at a time (a database) gives the first page, or as many rows as the table
        # holds when the same list is reloaded (a refresh keeps the cursor where it was); the rest as the
        # cursor nears the end (load_more). The number of matches is then the database's count.
        page = catalog.page_rows
        limit = None if page is None else max(page, self._rows_held if keep_cursor else 0)
        if worker.is_cancelled:  # keys pressed in a burst (s s s): only the last one's queries run
            self._presort_pending = self._presort_pending or presort
            return
        catalog.cancel_counts(keep=filters)  # the list before is replaced: its count, if of other filters, is for nothing
        rows = catalog.list(filters=filters, sort=self._sort, limit=limit)
        if worker.is_cancelled:
            self._presort_pending = self._presort_pending or presort
            return
        # A full page of a broad filter is shown before its matches are counted: at 1M records the count of a
        # status passing 937k took 0.35-0.6 s, where the page took 40-60 ms. The count follows (_set_matched).
        full = limit is not None and len(rows) >= limit
        total = catalog.count()
        projects = catalog.projects() if first or not self._projects else self._projects
        keys = chosen or default_columns(rows, self._sweep_metric, MAX_METRIC_COLUMNS)
        facets = self._facets(keys, rows)
        if worker.is_cancelled:
            self._presort_pending = self._presort_pending or presort  # replaced by a newer query (a key typed): that one starts it
            return
        listed = (tuple(filters), self._sort)
        matched = None if full else len(rows)
        generation = self.app.call_from_thread(self._show_rows, rows, total, error, keys, facets, projects, keep_cursor, False, matched, listed)
        if full and _still_wanted(worker, COUNT_AFTER):
            try:  # on a connection of its own: a key typed meanwhile does not wait for it
                counted = catalog.count(filters=filters, background=True)
            except CatalogError as exc:  # the page stays, "+" saying more match; the count's trouble is told
                if not worker.is_cancelled:
                    self.app.call_from_thread(self._count_failed, generation, str(exc))
            else:
                if not worker.is_cancelled:
                    self.app.call_from_thread(self._set_matched, generation, counted)
        if presort or self._presort_pending:  # once indexing is over: seconds of CPU at 100k runs
            if worker.is_cancelled:
                self._presort_pending = True
            else:
                self._presort_pending = False
                self.app.call_from_thread(self.presort)

    def _facet(self, key: str, ids: list[str]) -> Mapping[str, FacetValue]:
        """Values of a detail key for the records ``ids`` (called in a worker).

        A catalog held in memory gives every record's (the table holds them all), read once per key and kept;
        a database only the records asked for (a page), never a million rows for one column.
        """
        if self.app.catalog.page_rows is not None:
            return self.app.catalog.facet(key, ids)
        values = self._facet_cache.get(key)
        if values is None:
            values = self._facet_cache[key] = self.app.catalog.facet(key)
        return values

    def _facets(self, keys: list[str], rows: list[Summary]) -> dict[str, Mapping[str, FacetValue]]:
        """The detail values the table shows for ``rows``: its detail columns and where each start came from."""
        ids = [r.id for r in rows]
        return {k: self._facet(k, ids) for k in (*keys, *SOURCE_FACETS) if is_facet(k)}

    def _sweep_metric(self, sweep_id: str) -> str | None:
        """The metric a sweep's spec declares (a record read, remembered; called in a worker)."""
        if sweep_id not in self._sweep_metrics:
            try:
                record = self.app.catalog.get(sweep_id)
            except Exception:
                record = None
            self._sweep_metrics[sweep_id] = getattr(record, "metric", None)
        return self._sweep_metrics[sweep_id]

    @work(thread=True, exclusive=True, group="presort")
    @catalog_work
    def presort(self) -> None:
        """Sort by every column, both ways, in the background: a sort key pressed later answers at once."""
        worker = get_current_worker()
        keys = [self._sort_key(c.key) for c in self._columns if c.key != "problems"]
        if not self._loaded:
            return
        sorts = [Sort(key, descending) for key in keys for descending in (False, True)]
        self.app.catalog.presort(sorts, cancelled=lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            freeze_long_lived()  # the list and its orders stay for the session: keep them out of GC passes

    def _show_rows(
        self,
        rows: list[Summary],
        total: int,
        error: str | None,
        keys: list[str],
        facets: Mapping[str, Mapping[str, FacetValue]],
        projects: list[str],
        keep_cursor: bool = True,
        partial: bool = False,
        matched: int | None = None,
        listed: tuple[tuple[Filter, ...], Sort | None] | None = None,
    ) -> int:
        """Put rows on screen; ``matched`` None (not ``partial``) says their matches are being counted
        (:meth:`_set_matched` follows). Returns the shown list's number, which the count is for."""
        if projects or not partial:
            self._projects = projects or self._projects
        self._columns = [self._column(k, facets) for k in keys]
        table = self.query_one(RunTable)
        table.set_rows(rows, self._columns, keep_cursor=keep_cursor, facets=facets)
        if not keep_cursor:
            table.move_cursor(0)
        if self._sort is not None:
            table.set_sort(self._sort_column_key(self._sort.key), self._sort.descending)
        if not self._cursor_restored and self.app.state.cursor:
            self._cursor_restored = table.move_to_id(self.app.state.cursor)
        self._counting = not partial and matched is None
        self._total, self._shown, self._filter_error = total, (-1 if partial else len(rows) if matched is None else matched), error
        self._rows_held = len(rows)
        if listed is not None:  # a new list (its filters, sort): a next page asked for the previous one is dropped
            self._query = (self._query[0] + 1, *listed)
            self._more_pending = False
        self._loaded = self._loaded or (not partial and error is None)
        self._guessed = any(is_guessed(facets, key, r.id) for key in SOURCE_FACETS for r in rows[:2000])
        self._update_status()
        if not partial:
            self._maybe_more()
        return self._query[0]

    def _count_failed(self, generation: int, reason: str) -> None:
        """The shown list's matches could not be counted: its page stays as shown, with more after it."""
        if generation == self._query[0]:
            self.notify(visible(f"Cannot count the matches: {reason}", one_line=True), severity="warning", markup=False)

    def _set_matched(self, generation: int, matched: int) -> None:
        """The count of the shown list's matches, once counted (unless another list replaced it meanwhile)."""
        if generation != self._query[0]:
            return
        self._shown, self._counting = matched, False
        self._update_status()
        self._maybe_more()

    @work(thread=True, group="more")
    def load_more(self, query: tuple[int, tuple[Filter, ...], Sort | None], offset: int, after: str) -> None:
        """The next page of the shown list (after the row ``after``, the last one held), from a catalog read a page
        at a time (a database)."""
        generation, filters, sort = query
        keys = [user_key(c.key) for c in self._columns]
        try:
            rows = self.app.catalog.list(filters=filters, sort=sort, limit=self.app.catalog.page_rows, offset=offset, after=after)
            facets = self._facets(keys, rows)
        except Exception as exc:  # a dropped connection: say so, keep what is shown
            self.app.call_from_thread(self._set_indexing, f"next rows failed: {exc}")
            rows, facets = [], {}
        self.app.call_from_thread(self._append_rows, generation, offset, rows, facets)

    def _append_rows(self, generation: int, offset: int, rows: list[Summary], facets: dict[str, Mapping[str, FacetValue]]) -> None:
        self._more_pending = False
        table = self.query_one(RunTable)
        if generation != self._query[0] or offset != table.row_count or not rows:
            return  # the list was replaced (a key typed, a refresh) while the page was read
        table.append_rows(rows, facets)
        self._rows_held = table.row_count
        self._update_status()
        self._maybe_more()

    def _maybe_more(self) -> None:
        """Ask for the next page when the cursor nears the last row held and the list has more."""
        table = self.query_one(RunTable)
        held, page = table.row_count, self.app.catalog.page_rows
        if self._more_pending or self._shown < 0 or (held >= self._shown and not self._counting) or page is None:
            return
        if table.cursor_row >= held - min(MORE_WITHIN, page // 2):
            self._more_pending = True
            self.load_more(self._query, held, table.rows[-1].id)

    @staticmethod
    def _column(key: str, facets: Mapping[str, Mapping[str, FacetValue]]) -> Column:
        """The table column for a filter key: base fields as they were, metrics right-aligned, detail keys by their values."""
        if key in _BASE:
            return _BASE[key]
        tkey = table_key(key)
        if tkey.startswith("metric:"):
            return Column(tkey, key, "right", 7, 14)
        if key == "error":
            return Column(key, key, "left", 10, 48)
        values = facets.get(key, {})
        sample = [entry for entry in list(values.values())[:200] if entry[0] is not None]
        numeric = bool(sample) and all(number is not None for _, number in sample)
        return Column(tkey, key, "right" if numeric else "left", 5, 24)

    def _update_status(self) -> None:
        count = self.query_one("#match-count", Static)
        if self._shown < 0:
            count.update(f"[…/{self._total:,}]")
        else:  # while a full page's matches are counted, the rows held and more
            count.update(f"[{self._rows_held:,}+/{self._total:,}]" if self._counting else f"[{self._shown:,}/{self._total:,}]")
        parts = []
        if self._filter_error:
            parts.append(("filter: " + self._filter_error, "bold red"))
        if self._indexing:
            parts.append((self._indexing, "yellow"))
        marks = self.app.state.marks
        if marks:
            parts.append(("marked: " + "  ·  ".join(short_name(m.rsplit("/", 1)[-1]) for m in marks), "cyan"))
        if 0 <= self._rows_held < self._shown or self._counting:
            parts.append((f"first {self._rows_held:,} rows: more as you scroll", "dim"))
        if self._sort is not None:
            parts.append((f"sort: {'-' if self._sort.descending else ''}{self._sort.key}", "dim"))
        if self._guessed:
            parts.append(("~ guessed", "dim"))
        line = literal("")
        for i, (text, style) in enumerate(parts):
            if i:
                line.append("   ")
            line.append_text(literal(text, style))
        self.query_one("#status-line", Static).update(line)

    @work(thread=True, exclusive=True, group="index")
    @catalog_work
    def index(self, full: bool = False) -> None:
        """Bring the cache up to date with the disk, showing progress; then reload the rows.

        At start-up the walk is quick (folder times); ``r`` asks for a full one that lists every file.
        """
        last = 0.0
        last_fill = time.monotonic()

        def progress(done: int, total: int) -> None:
            nonlocal last, last_fill
            now = time.monotonic()
            if total and (now - last > 0.1 or done == total):
                last = now
                self.app.call_from_thread(self._set_indexing, f"indexing {done:,}/{total:,}")
            if done and now - last_fill > FILL_EVERY:  # a cold start fills the table as records arrive
                last_fill = now
                self.app.call_from_thread(self.load_rows, True)

        try:
            with self.app.index_lock:  # the watcher refreshes too: one at a time, and never from a mirror half synced
                unsynced = None
                if self.app.sync is not None:
                    go_on, unsynced = self._sync()
                    if not go_on:
                        if unsynced:
                            self.app.call_from_thread(self._set_indexing, unsynced)
                        return
                self.app.call_from_thread(self._set_indexing, "rescanning every file…" if full else "scanning…")
                stats = self.app.catalog.refresh(full=full, progress=progress)
        except Exception as exc:
            self.app.call_from_thread(self._set_indexing, f"indexing failed: {exc}")
            self._presort_pending = True  # the cached list is what the user has: make its sorts quick
            return
        if stats.added or stats.changed or stats.removed:
            summary: str | None = f"indexed: {stats.added} new, {stats.changed} changed, {stats.removed} removed"
        else:  # say that an asked-for rescan happened; a start-up check that found nothing stays quiet
            summary = f"rescanned every file of {stats.unchanged:,} records: nothing changed" if full else None
        summary = "; ".join(x for x in (unsynced, summary) if x) or None
        walk = self.app.catalog.problems  # folders that could not be searched belong to no run
        if walk:
            first = f"{walk[0].file}: {walk[0].message}"
            more = f" (+{len(walk) - 1} more: runsift ls)" if len(walk) > 1 else ""
            summary = "; ".join(x for x in (summary, f"⚠ {first}{more}") if x)
        if self.app.catalog.count() == 0:  # never a bare empty table: say what was seen and what runsift reads
            from runsift.core.survey import survey

            seen = survey(self.app.root).message()
            summary = seen.split(". runsift reads", 1)[0]
            self.app.call_from_thread(self._show_empty, seen)
            self.app.call_from_thread(self.app.notify, visible(seen, one_line=False), title="No runs", severity="warning", timeout=30, markup=False)
        else:
            self.app.call_from_thread(self._show_empty, None)
        self.app.call_from_thread(self._set_indexing, summary)
        self.app.call_from_thread(self.load_rows, True, True, True)

    def _show_empty(self, seen: str | None) -> None:
        """In place of an empty table: what runsift looks for and what it saw (None: hide)."""
        note = self.query_one("#empty-note", Static)
        table = self.query_one(RunTable)
        was_empty = not table.display
        note.update(literal(seen or "", one_line=False))
        note.display = seen is not None
        table.display = seen is None
        if was_empty and seen is None:  # runs appeared (a training job started writing): their table, not the note
            self.app.clear_notifications()
            if self._indexing and self._indexing.startswith("no run records here"):
                self._set_indexing(None)
            if not isinstance(self.focused, Input) or not self.focused.value:
                table.focus()  # the filter only had focus because the table was hidden

    @on(RecordsChanged)
    def _records_changed(self, event: RecordsChanged) -> None:
        """The watcher re-read records: show them, keeping cursor, marks and filter (new runs: new columns too)."""
        if event.added:
            self._show_empty(None)
        self.load_rows(event.added)
        now = time.monotonic()
        self._live_since.update(dict.fromkeys(event.ids, now))
        self._expire_live()
        self.set_timer(LIVE_FOR + 0.5, self._expire_live)

    def _expire_live(self) -> None:
        """Mark ``↻`` the runs whose files changed in the last :data:`LIVE_FOR` seconds; the others lose it."""
        now = time.monotonic()
        self._live_since = {i: t for i, t in self._live_since.items() if now - t < LIVE_FOR}
        self.query_one(RunTable).set_live(frozenset(self._live_since))

    def _sync(self) -> tuple[bool, str | None]:
        """Bring a remote root's mirror up to date (from the indexing worker), saying so. Returns whether to index the
        mirror now, and what went wrong. A sync cut off once it changed the tree leaves some runs newer than others:
        the list stays as last indexed until ``r`` syncs again.

        The sync runs in a thread of its own, a daemon: quitting the app does not wait for a listing (seconds at 10k
        runs), and one cut off is safe (the mirror is not marked whole; the next start syncs before it opens)."""
        sync, worker, where = self.app.sync, get_current_worker(), self.app.sub_title
        assert sync is not None
        failed: list[BaseException] = []

        def fetched(done: int, todo: int) -> None:
            self.app.call_from_thread(self._set_indexing, f"{where}: fetched {done:,} of {todo:,} changed objects")

        def run() -> None:
            try:
                sync(fetched)
            except BaseException as exc:
                failed.append(exc)

        self.app.call_from_thread(self._set_indexing, f"checking {where} for changes…")
        thread = threading.Thread(target=run, name="runsift-sync", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(0.1)
            if worker.is_cancelled:  # the app is closing
                return False, None
        if not failed:
            return True, None
        exc = failed[0]
        self.app.call_from_thread(self.app.notify, visible(str(exc), one_line=False), title=f"Cannot check {where} for changes",
                                  severity="warning", timeout=20, markup=False)
        if sync.whole():  # cut off before it changed anything (the listing): what is shown is the last sync's
            return True, f"runs as last synced; cannot check for changes: {exc}"
        return False, f"runs as last indexed; {where} was synced part-way, r to sync again: {exc}"

    def _set_indexing(self, text: str | None) -> None:
        self._indexing = text
        self._update_status()

    # -- events ----------------------------------------------------------------------
    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.app.state.filter = event.value
        self.load_rows(keep_cursor=False)  # a new filter starts at its best match, the first row

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.query_one(RunTable).focus()
        self.app.save_state()

    @on(RunTable.Selected)
    def _open(self, event: RunTable.Selected) -> None:
        self.app.state.cursor = event.summary.id
        self.post_message(OpenRecord(event.summary.id, kind=event.summary.kind))

    @on(RunTable.Highlighted)
    def _highlighted(self, event: RunTable.Highlighted) -> None:
        if event.summary is not None:
            self.app.state.cursor = event.summary.id
        self._maybe_more()

    @on(RunTable.MarkToggled)
    def _toggle_mark(self, event: RunTable.MarkToggled) -> None:
        marks = list(self.app.state.marks)
        if event.summary.id in marks:
            marks.remove(event.summary.id)
        else:
            if event.summary.kind != "run":
                self.notify("Only runs can be marked for a diff.", severity="warning")
                return
            marks.append(event.summary.id)
            if len(marks) > 2:
                dropped = marks.pop(0)
                self.notify(visible(f"Unmarked {dropped.rsplit('/', 1)[-1]} (two runs at most).", one_line=True), timeout=3, markup=False)
        self.app.state.marks = marks
        self.query_one(RunTable).set_marks(frozenset(marks))
        self.app.save_state()
        self._update_status()

    @on(RunTable.SortRequested)
    def _sort_requested(self, event: RunTable.SortRequested) -> None:
        key = self._sort_key(event.column_key)
        descending = self._sort is not None and self._sort.key == key and not self._sort.descending
        self._set_sort(Sort(key, descending))

    # -- actions -----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """"/" focuses the filter, except in the filter itself, where it is a character (ids have "/")."""
        if action == "focus_filter":  # self.focused, not has_focus: that changes only once Focus is handled
            return self.focused is not self.query_one("#filter", Input)
        return True

    def action_focus_filter(self) -> None:
        # At once, not via focus() (which waits its turn behind keys already queued): "/fr" typed in
        # one burst over SSH must put "fr" in the filter, not send "r" (rescan) to the table.
        self.set_focus(self.query_one("#filter", Input))

    def action_clear_filter(self) -> None:
        filter_input = self.query_one("#filter", Input)
        if filter_input.has_focus:
            self.query_one(RunTable).focus()
        elif filter_input.value:
            filter_input.value = ""

    def action_sort_next(self) -> None:
        keys = [self._sort_key(c.key) for c in self._columns if c.key != "problems"]
        current = self._sort.key if self._sort else None
        nxt = keys[(keys.index(current) + 1) % len(keys)] if current in keys else keys[0]
        descending = nxt.startswith("metrics.") or nxt == "started"  # best and newest first
        self._set_sort(Sort(nxt, descending))

    def action_sort_reverse(self) -> None:
        if self._sort is not None:
            self._set_sort(Sort(self._sort.key, not self._sort.descending))

    def _set_sort(self, sort: Sort) -> None:
        self._sort = sort
        self.app.state.sort = f"{'-' if sort.descending else ''}{sort.key}"
        self.app.save_state()
        self.load_rows()
        self.query_one(RunTable).show_column(self._sort_column_key(sort.key))  # never sort by a column out of sight

    # -- columns -----------------------------------------------------------------------
    def action_pick_columns(self) -> None:
        """Open the column picker: metrics and config paths, those that vary among the shown rows first."""
        self._gather_columns()

    @work(thread=True, exclusive=True, group="columns")
    @catalog_work
    def _gather_columns(self) -> None:
        from runsift.core.columns import offered_columns, varying_config

        catalog = self.app.catalog
        rows = list(self.query_one(RunTable).rows)
        facet_keys = catalog.facet_keys()
        ids = [r.id for r in rows[:5000] if r.kind == "run"]
        varying = varying_config(facet_keys, lambda key: catalog.facet(key, ids), ids)  # these rows' values only, a key at a time
        counts: dict[str, int] = {}
        for row in rows:
            for name in row.metrics:
                counts[name] = counts.get(name, 0) + 1
        metrics = sorted(counts, key=lambda n: -counts[n])
        others = [m for m in catalog.metric_names() if m not in counts]
        offered = offered_columns([*metrics, *others], facet_keys, varying)
        current = [user_key(c.key) for c in self._columns]
        self.app.call_from_thread(self._open_picker, offered, current, varying)

    def _open_picker(self, offered: list[str], current: list[str], varying: list[str]) -> None:
        if self.app.screen is not self:  # a record or a diff opened while the columns were gathered: not over it
            return

        def chosen(keys: list[str] | None) -> None:
            if keys is None:
                return
            self.app.state.columns = keys or None  # an empty choice means: automatic again
            self.app.save_state()
            self.load_rows()

        self.post_message(PickColumns(offered, current, set(varying), self.app.state.columns is None, chosen))

    @staticmethod
    def _sort_key(column_key: str) -> str:
        return "metrics." + column_key[len("metric:") :] if column_key.startswith("metric:") else column_key

    @staticmethod
    def _sort_column_key(sort_key: str) -> str:
        if sort_key in FIELDS or is_facet(sort_key):
            return sort_key
        return "metric:" + (sort_key.removeprefix("metrics."))

    def action_rescan(self) -> None:
        self.index(full=True)

    def action_diff(self) -> None:
        # A space typed just before d posts MarkToggled from the table after d reached us. Hop through
        # the table's queue and back into ours so that every earlier mark is handled first.
        table = self.query_one(RunTable)
        table.call_later(self.call_later, self._open_diff)

    def _open_diff(self) -> None:
        marks = self.app.state.marks
        table = self.query_one(RunTable)
        current = table.current
        if len(marks) == 2:
            a, b = marks
        elif len(marks) == 1 and current is not None and current.id != marks[0] and current.kind == "run":
            a, b = marks[0], current.id
        else:
            self.notify("Mark two runs with space (or one, then put the cursor on another) and press d.", severity="warning")
            return
        self.post_message(OpenDiff(a, b))

    def action_pick_project(self) -> None:
        projects = self._projects

        def chosen(project: str | None) -> None:
            if project is None:
                return
            filter_input = self.query_one("#filter", Input)
            words = [w for w in filter_input.value.split() if not w.startswith("project=")]
            if project:
                words.insert(0, f"project={project}" if " " not in project else f'"project={project}"')
            filter_input.value = " ".join(words)

        self.post_message(PickProject(projects, chosen))

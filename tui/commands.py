"""Command palette: jump to any run, sweep or A/B record by name."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content
from textual.markup import escape
from textual.worker import WorkerFailed

from runsift.core.catalog import CatalogError
from runsift.core.naming import display_name
from runsift.core.query import Filter, Sort

from .messages import OpenRecord
from .safe import visible
from .trouble import show_trouble

if TYPE_CHECKING:
    from collections.abc import Callable

    from runsift.core.records import Summary

MAX_DISCOVERY = 30
MAX_ASKED = 200
"""Records a search asks a paged catalog (a database) for: those whose id, name or project hold every word typed."""


class RunsProvider(Provider):
    """Runs by name, project and id.

    A catalog held in memory is searched whole, fuzzily; a catalog read a page at a time (a shared database
    of a million runs) is asked, in a worker, for the records holding every word typed, then those are ranked.
    """

    async def startup(self) -> None:
        catalog = self.app.catalog  # type: ignore[attr-defined]
        self._paged = catalog.page_rows is not None
        newest = partial(catalog.list, sort=Sort("started", descending=True), limit=MAX_DISCOVERY)
        self._rows: list[Summary] = await self._asked(newest if self._paged else catalog.summaries)

    async def _candidates(self, query: str) -> list[Summary]:
        """The rows a query is matched against: all of them, or those a paged catalog finds for its words."""
        words = query.split()
        if not self._paged or not words:
            return self._rows
        asked = partial(self.app.catalog.list, filters=[Filter(None, "~", w) for w in words], limit=MAX_ASKED)  # type: ignore[attr-defined]
        return await self._asked(asked, group="palette")

    async def _asked(self, read: Callable[[], list[Summary]], group: str = "default") -> list[Summary]:
        """``read()`` in a worker's thread; when the catalog fails (a database connection lost), no rows and a notification."""
        try:
            found: list[Summary] = await self.app.run_worker(read, thread=True, group=group, exit_on_error=False).wait()
        except WorkerFailed as failed:
            if not isinstance(failed.error, CatalogError):
                raise
            show_trouble(self.app, failed.error, timeout=None)
            return []
        return found

    def _label(self, row: Summary) -> str:
        return visible(f"{row.project} / {display_name(row.name, row.sweep)}", one_line=True)

    def _open(self, record_id: str, kind: str) -> None:
        self.app.post_message(OpenRecord(record_id, kind))

    @staticmethod
    def _highlight(matcher: Matcher, label: str) -> Content:
        """Matcher.highlight parses markup; run names are untrusted, so style plain Content instead."""
        content = Content(label)
        _, offsets = matcher.fuzzy_search.match(matcher.query, label)
        for offset in offsets:
            content = content.stylize("reverse", offset, offset + 1)
        return content

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for row in await self._candidates(query):
            label = self._label(row)
            score = max(matcher.match(label), matcher.match(row.id))
            if score > 0:
                yield Hit(score, self._highlight(matcher, label), partial(self._open, row.id, row.kind), help=escape(visible(row.id, one_line=True)))

    async def discover(self) -> Hits:
        for row in sorted(self._rows, key=lambda r: r.started or "", reverse=True)[:MAX_DISCOVERY]:
            yield DiscoveryHit(Content(self._label(row)), partial(self._open, row.id, row.kind), help=escape(visible(row.id, one_line=True)))

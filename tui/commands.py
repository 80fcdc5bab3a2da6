"""Command palette: jump to any run, sweep or A/B record by name."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content
from textual.markup import escape

from runsift.core.naming import display_name

from .messages import OpenRecord
from .safe import visible

if TYPE_CHECKING:
    from runsift.core.records import Summary

MAX_DISCOVERY = 30


class RunsProvider(Provider):
    """Runs by name, project and id."""

    async def startup(self) -> None:
        worker = self.app.run_worker(self.app.catalog.summaries, thread=True)  # type: ignore[attr-defined]
        self._rows: list[Summary] = await worker.wait()

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
        for row in self._rows:
            label = self._label(row)
            score = max(matcher.match(label), matcher.match(row.id))
            if score > 0:
                yield Hit(score, self._highlight(matcher, label), partial(self._open, row.id, row.kind), help=escape(visible(row.id, one_line=True)))

    async def discover(self) -> Hits:
        for row in sorted(self._rows, key=lambda r: r.started or "", reverse=True)[:MAX_DISCOVERY]:
            yield DiscoveryHit(Content(self._label(row)), partial(self._open, row.id, row.kind), help=escape(visible(row.id, one_line=True)))

"""The command line's JSON writers: a list written item by item is the list written whole."""

from __future__ import annotations

import io
import sys

import pytest

from runsift.tui import report

DOCS = [
    [],
    [{"id": "a", "metrics": {"val_auc": 0.91}, "tags": ["x", "y"]}],
    [{"id": "a\u202eb\x1b[2J", "nested": {"deep": [1, {"k": None}]}}, {"id": "b", "empty": {}, "none": []}, 3, "text"],
]


class _Out(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [False, True])
@pytest.mark.parametrize("docs", DOCS)
def test_a_streamed_json_list_is_the_whole_list_byte_for_byte(docs: list[object], tty: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    whole, streamed = _Out(tty), _Out(tty)
    monkeypatch.setattr(sys, "stdout", whole)
    report.print_json(docs)
    monkeypatch.setattr(sys, "stdout", streamed)
    report.print_json_stream(iter(docs))
    assert streamed.getvalue() == whole.getvalue()
    assert "\x1b" not in streamed.getvalue() and "\u202e" not in streamed.getvalue()  # escaped as in print_json


def test_a_remote_roots_streamed_list_shows_the_url_as_the_whole_one_does(monkeypatch: pytest.MonkeyPatch) -> None:
    # ls of a remote root with a shared catalog writes its big list a page at a time: paths in the mirror must
    # still read as the bucket's URL, as print_json shows them.
    from runsift.core.remotepaths import register
    from runsift.tui.remote_args import RemoteReport

    register("/tmp/mirror-of-b", "s3://b/runs")
    docs = [{"id": "p/run-1", "path": "/tmp/mirror-of-b/p/run-1"}, {"id": "q", "path": "/elsewhere/q"}]
    whole, streamed = _Out(False), _Out(False)
    monkeypatch.setattr(sys, "stdout", whole)
    RemoteReport(report).print_json(docs)
    monkeypatch.setattr(sys, "stdout", streamed)
    RemoteReport(report).print_json_stream(iter(docs))
    assert streamed.getvalue() == whole.getvalue()
    assert '"s3://b/runs/p/run-1"' in streamed.getvalue() and "mirror-of-b" not in streamed.getvalue()

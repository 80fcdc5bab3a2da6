"""The backend boundary, and a shared PostgreSQL catalog used as a team would: the app and every command on it,
from a host without the files, with a read-only role, and never a credential in any output."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pytest
import test_catalog_backends as backends
from conftest import until, workers_done
from test_catalog_backends import _fresh_db, _tree

from runsift.core.backend import MEMBERS, Backend
from runsift.core.catalog import Catalog, CatalogError
from runsift.core.query import parse_filter, parse_sort

pg_url = backends.pg_url
"""The throwaway PostgreSQL server fixture of the backend tests, used here by the same name."""
REPO = Path(__file__).resolve().parents[1]
_roles = iter(range(10_000))


def _protocol_members() -> set[str]:
    """Every member :class:`Backend` declares (annotations, properties and methods), read from the class itself."""
    own = {name for name in vars(Backend) if not name.startswith("_") or name in ("__enter__", "__exit__")}
    own -= set(vars(typing.Protocol)) - {"__enter__", "__exit__"}
    return own | set(Backend.__annotations__)


def test_the_protocol_lists_what_it_declares() -> None:
    assert _protocol_members() == set(MEMBERS)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_both_catalogs_have_every_member_with_the_same_parameters(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    root = _tree(tmp_path / "r")
    if engine == "sqlite":
        catalog: Any = Catalog.open(root, use_cache=False)
    else:
        from runsift.core.pgcatalog import SharedCatalog

        catalog = SharedCatalog.open(_fresh_db(request.getfixturevalue("pg_url"), f"conf{os.getpid()}"), root, refresh=True)
    with catalog:
        assert isinstance(catalog, Backend)
        for name in MEMBERS:
            assert hasattr(catalog, name), f"{type(catalog).__name__} lacks {name}"
            declared = getattr(Backend, name, None)
            if inspect.isfunction(declared):
                wanted = [(p.name, p.kind) for p in inspect.signature(declared).parameters.values()]
                have = [(p.name, p.kind) for p in inspect.signature(getattr(type(catalog), name)).parameters.values()]
                assert have == wanted, f"{type(catalog).__name__}.{name}{have} differs from the protocol's {wanted}"
        assert catalog.reachable


def test_mypy_sees_both_catalogs_as_backends(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy not installed")
    snippet = tmp_path / "conformance.py"
    snippet.write_text(
        "from core.backend import Backend\nfrom core.catalog import Catalog\nfrom core.pgcatalog import SharedCatalog\n\n\n"
        "def both(a: Catalog, b: SharedCatalog) -> list[Backend]:\n    return [a, b]\n\n\n"
        "def not_an_int(a: SharedCatalog) -> int:\n    return a  # the check must be able to fail\n"
    )
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(snippet)], cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)
    mine = [line for line in done.stdout.splitlines() if line.startswith(str(snippet))]
    assert len(mine) == 1 and ":11:" in mine[0] and "return-value" in mine[0], done.stdout[-3000:]


# -- a team's shared catalog ------------------------------------------------------------------------


def _indexed(pg_url: str, tmp_path: Path, name: str) -> tuple[str, Path]:
    """A fresh database with the test tree indexed as root ``team``; its URL and the tree."""
    url = _fresh_db(pg_url, name)
    root = _tree(tmp_path / "r")
    from runsift.core.pgcatalog import SharedCatalog

    with SharedCatalog.open(url, root, root_name="team", refresh=True):
        pass
    return url, root


def _reader(url: str) -> str:
    """The URL of a new role that may only SELECT the catalog's tables."""
    import psycopg

    role = f"reader{os.getpid()}_{next(_roles)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT SELECT ON roots, runs, vals TO {role}")
    return url.replace("postgres@", f"{role}@", 1)


def test_a_select_only_role_reads_everything_and_cannot_index(pg_url: str, tmp_path: Path) -> None:
    from runsift.core.pgcatalog import SharedCatalog

    url, root = _indexed(pg_url, tmp_path, "readonly")
    reader = _reader(url)
    with SharedCatalog.open(reader, root_name="team") as cat, Catalog.open(root, use_cache=False) as ref:
        flt = [parse_filter("val_auc>0.52")]
        assert cat.ids(filters=flt, sort=parse_sort("-val_auc")) == ref.ids(filters=flt, sort=parse_sort("-val_auc"))
        assert cat.refresh().unchanged == 25  # the app's refresh: re-read, never write
        assert cat.get(ref.ids()[0]).id == ref.ids()[0]
    with pytest.raises(CatalogError, match="permission denied"):
        SharedCatalog.open(reader, root, root_name="team", refresh=True)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from runsift.tui.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_host_without_the_files_lists_shows_diffs_and_explains(pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    url, root = _indexed(pg_url, tmp_path, "nofiles")
    reader = _reader(url)
    elsewhere = tmp_path / "empty-cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no ROOT argument and nothing here: records come from the database alone
    monkeypatch.delenv("RUNSIFT_ROOT", raising=False)
    monkeypatch.setenv("RUNSIFT_CATALOG", reader)
    shutil.move(root, tmp_path / "moved")  # not reachable any more at the path it was indexed from
    moved = tmp_path / "moved"
    with Catalog.open(moved, use_cache=False) as ref:
        wanted = ref.ids(filters=[parse_filter("status=failed")], sort=parse_sort("-loss"))
        a, b = ref.ids(sort=parse_sort("-val_auc"))[:2]
    code, out, _ = _cli(capsys, "ls", "--root-name", "team", "-f", "status=failed", "--sort", "-loss", "--format", "json", "-q")
    assert code == 0 and [r["id"] for r in json.loads(out)] == wanted
    code, out, err = _cli(capsys, "show", a, "--root-name", "team", "--format", "json")
    assert code == 0 and json.loads(out)["id"] == a
    assert str(root) not in out  # the indexing host's folder is never shown as if it were here
    assert "not reachable from this host" in err and "--root-map team=PATH" in err
    code, out, _ = _cli(capsys, "show", a, "--root-name", "team", "--root-map", f"team={moved}", "--format", "json", "-q")
    assert json.loads(out)["path"] == str(moved / a)
    code, out, _ = _cli(capsys, "diff", a, b, "--root-name", "team", "--format", "json", "-q")
    assert code == 1 and json.loads(out)
    code, out, _ = _cli(capsys, "explain", a, b, "--root-name", "team", "--metric", "val_auc", "--format", "json", "-q")
    assert code == 0 and json.loads(out)["metric"] == "val_auc"


@pytest.mark.asyncio
async def test_the_app_lists_filters_and_opens_a_record_from_postgresql(pg_url: str, tmp_path: Path) -> None:
    from runsift.core.pgcatalog import SharedCatalog
    from runsift.tui.app import RunsiftApp
    from runsift.tui.screens.record import RecordScreen
    from runsift.tui.widgets.run_table import RunTable

    url, root = _indexed(pg_url, tmp_path, "app")
    with Catalog.open(root, use_cache=False) as ref:
        failed = ref.ids(filters=[parse_filter("status=failed")])
    catalog = SharedCatalog.open(_reader(url), root_name="team", root_map={"team": str(tmp_path / "not-here")})
    app = RunsiftApp(catalog.root, catalog=catalog, state_dir=tmp_path / "state", watch=False)
    async with app.run_test(size=(120, 35)) as pilot:
        for _ in range(2):
            await workers_done(app)
            await pilot.pause()
        table = app.screen.query_one(RunTable)
        assert table.row_count == 25
        await pilot.press("slash", *"status=failed", "enter")
        for _ in range(2):
            await workers_done(app)
            await pilot.pause()
        assert sorted(r.id for r in table.rows) == sorted(failed)
        await pilot.press("enter")
        for _ in range(2):
            await workers_done(app)
            await pilot.pause()
        assert isinstance(app.screen, RecordScreen)
        assert app.screen.record is not None and app.screen.record.id in failed


@pytest.mark.asyncio
async def test_the_app_reads_a_big_shared_list_a_page_at_a_time(pg_url: str, tmp_path: Path) -> None:
    """A million runs cannot be one list: the table holds a page, says so, and reads the next as the cursor nears
    its end, in the sort asked for, until it holds exactly the list SQLite gives; a new filter starts again."""
    from runsift.core.pgcatalog import SharedCatalog
    from runsift.tui.app import RunsiftApp
    from runsift.tui.widgets.run_table import RunTable

    url, root = _indexed(pg_url, tmp_path, "pages")
    with Catalog.open(root, use_cache=False) as ref:
        by_auc = ref.ids(sort=parse_sort("-val_auc"))
        not_failed = ref.ids(filters=[parse_filter("status!=failed")], sort=parse_sort("-val_auc"))
    catalog = SharedCatalog.open(_reader(url), root_name="team", root_map={"team": str(root)})
    catalog.page_rows = 6
    with Catalog.open(root, use_cache=False) as ref:
        lrs = ref.facet("config.lr")
    asked_ids: list[int] = []
    real_facet = catalog.facet

    def facet(key: str, ids: Any = None) -> Any:
        asked_ids.append(-1 if ids is None else len(list(ids)))
        return real_facet(key, ids)

    catalog.facet = facet  # type: ignore[method-assign]
    app = RunsiftApp(catalog.root, catalog=catalog, state_dir=tmp_path / "state", watch=False)
    app.state.sort = "-val_auc"
    app.state.columns = ["name", "val_auc", "config.lr"]

    async def settle() -> None:
        for _ in range(3):
            await workers_done(app)
            await pilot.pause()

    async def scroll_to_the_end() -> None:  # End goes to the last row held, which asks for the next page
        for _ in range(len(by_auc)):
            before = table.row_count
            await pilot.press("end")
            await settle()
            if table.row_count == before:
                return

    async with app.run_test(size=(120, 35)) as pilot:
        await settle()
        table = app.screen.query_one(RunTable)
        status = str(app.screen.query_one("#status-line").render())
        count = str(app.screen.query_one("#match-count").render())
        held = table.row_count
        assert held == catalog.page_rows, "the whole list was read at once"
        assert [r.id for r in table.rows] == by_auc[:held]
        assert f"first {held:,} rows" in status and f"[{len(by_auc)}/{len(by_auc)}]" in count
        await scroll_to_the_end()
        assert [r.id for r in table.rows] == by_auc
        assert "first" not in str(app.screen.query_one("#status-line").render())
        # every page came with its rows' detail values (a config column), asked for those rows only
        shown = table._facets["config.lr"]
        assert [shown.get(r.id) for r in table.rows] == [lrs.get(i) for i in by_auc] and len(lrs) > catalog.page_rows
        assert asked_ids and -1 not in asked_ids and max(asked_ids) <= catalog.page_rows
        await pilot.press("slash", *"status!=failed", "enter")
        await settle()
        assert table.row_count <= len(not_failed)
        assert [r.id for r in table.rows] == not_failed[: table.row_count]
        await scroll_to_the_end()
        assert [r.id for r in table.rows] == not_failed


def _paged_reader(url: str, rows: int) -> Any:
    """The catalog at ``url`` as a read-only role sees it, read ``rows`` a page (a million records' paging, in small)."""
    from runsift.core.pgcatalog import SharedCatalog

    catalog = SharedCatalog.open(_reader(url), root_name="team")
    catalog.page_rows = rows
    return catalog


def _not_failed_by_auc(catalog: Any, tmp_path: Path) -> Any:
    """The app on ``catalog``, opening on the runs that did not fail, best AUC first."""
    from runsift.tui.app import RunsiftApp

    app = RunsiftApp(catalog.root, catalog=catalog, state_dir=tmp_path / "state", watch=False)
    app.state.filter, app.state.sort = "status!=failed", "-val_auc"
    return app


async def _counting(app: Any, pilot: Any) -> tuple[Any, Any]:
    """The runs table and the match count, once a full page shows and its matches are being counted ("N+")."""
    from runsift.tui.widgets.run_table import RunTable

    table, count = app.screen.query_one(RunTable), app.screen.query_one("#match-count")
    await until(pilot, lambda: bool(table.row_count) and "+" in str(count.render()))
    return table, count


@pytest.mark.asyncio
async def test_a_full_page_is_shown_before_its_matches_are_counted(pg_url: str, tmp_path: Path) -> None:
    """At 1M records counting a broad filter's matches took several times as long as its first page: the page is
    on screen (the count saying "6+") while the count runs, then the count replaces it."""
    import threading


    url, root = _indexed(pg_url, tmp_path, "counting")
    with Catalog.open(root, use_cache=False) as ref:
        not_failed = ref.ids(filters=[parse_filter("status!=failed")], sort=parse_sort("-val_auc"))
        total = len(ref.ids())
    catalog = _paged_reader(url, 6)
    release = threading.Event()
    real_count = catalog.count

    def slow_count(**kwargs: Any) -> int:
        if kwargs.get("filters"):
            assert release.wait(30), "the count was never let through"
        return real_count(**kwargs)

    catalog.count = slow_count  # type: ignore[method-assign]
    app = _not_failed_by_auc(catalog, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        table, count = await _counting(app, pilot)
        assert [r.id for r in table.rows] == not_failed[:6]
        assert str(count.render()) == f"[6+/{total}]"
        release.set()
        for _ in range(3):
            await workers_done(app)
            await pilot.pause()
        assert str(count.render()) == f"[{len(not_failed)}/{total}]"
        assert "first 6 rows" in str(app.screen.query_one("#status-line").render())


def _slow_counts(catalog: Any, seconds: float, *, gate: int | None = None) -> list[Any]:
    """Make each count of ``catalog`` with filters take ``seconds`` more in the database (as a broad filter's count does
    at 1M records), or, with ``gate``, wait in the database until the advisory lock ``gate`` is free (background counts
    only); returns the filters of the counts started, in order."""
    import threading

    counting = threading.local()
    started: list[Any] = []
    real_count, real_where = catalog.count, catalog._where

    def count(**kwargs: Any) -> int:
        counting.on = bool(kwargs.get("filters")) and (gate is None or bool(kwargs.get("background")))
        if counting.on:
            started.append(tuple(kwargs["filters"]))
        try:
            return int(real_count(**kwargs))
        finally:
            counting.on = False

    def where(*args: Any, **kwargs: Any) -> Any:
        conds, params, through_vals = real_where(*args, **kwargs)
        if getattr(counting, "on", False):  # each evaluated once per statement
            wait = f"pg_advisory_xact_lock_shared({gate})" if gate is not None else f"pg_sleep({seconds})"
            conds = [*conds, f"(SELECT 1 FROM (SELECT {wait}) w) = 1"]
        return conds, params, through_vals

    catalog.count, catalog._where = count, where
    return started


def test_a_count_in_the_background_does_not_hold_up_a_list(pg_url: str, tmp_path: Path) -> None:
    """The app counts a full page's matches after showing it; at 1M records a broad filter's count takes 0.35-0.6 s. On
    one connection a list asked meanwhile (the next key) waited for it: a background count has a connection of its own."""
    import threading
    import time

    from runsift.core.pgcatalog import SharedCatalog

    url, root = _indexed(pg_url, tmp_path, "aside")
    with Catalog.open(root, use_cache=False) as ref:
        failed = ref.ids(filters=[parse_filter("status=failed")])
        not_failed = ref.ids(filters=[parse_filter("status!=failed")])
    with SharedCatalog.open(_reader(url), root_name="team") as catalog:
        _slow_counts(catalog, 2)
        got: list[int] = []
        counter = threading.Thread(target=lambda: got.append(catalog.count(filters=[parse_filter("status!=failed")], background=True)))
        counter.start()
        time.sleep(0.3)  # the count is in the database now
        started = time.monotonic()
        listed = catalog.list(filters=[parse_filter("status=failed")], limit=3)
        took = time.monotonic() - started
        counter.join(10)
        assert [r.id for r in listed] == failed[:3] and took < 1.0, took
        assert got == [len(not_failed)]
        # a count asked by a command (not in the background) is one of its queries, on its one connection
        assert catalog.count(filters=[parse_filter("status=failed")]) == len(failed)


def test_a_count_that_spans_a_refresh_is_not_kept_past_it(pg_url: str, tmp_path: Path) -> None:
    """Counts are kept until a refresh. One that was running when a refresh dropped them counted the catalog before it:
    the next count is asked afresh, never that one's answer."""
    import threading

    import psycopg
    from conftest import make_run

    from runsift.core.pgcatalog import SharedCatalog

    url, root = _indexed(pg_url, tmp_path, "spans_refresh")
    finished = [parse_filter("status=finished")]
    with SharedCatalog.open(_reader(url), root_name="team") as reader, psycopg.connect(url, autocommit=True) as gate:
        before = reader.count(filters=finished)
        reader._forget()
        _slow_counts(reader, 0, gate=4242)
        gate.execute("SELECT pg_advisory_lock(4242)")  # the background count waits in the database until it is let go
        got: list[int] = []
        counter = threading.Thread(target=lambda: got.append(reader.count(filters=finished, background=True)))
        counter.start()
        waiting = "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'advisory' AND usename <> current_user"
        assert until_true(lambda: bool(gate.execute(waiting).fetchall()))  # its snapshot is taken: a run added now is not in it
        make_run(root / "proj1" / "2025-02-01_10-00-00_run-100", metrics={"final": {"val_auc": 0.6}, "status": "finished"})
        with SharedCatalog.open(url, root, root_name="team", refresh=True):
            pass
        reader.refresh()
        assert counter.is_alive()
        gate.execute("SELECT pg_advisory_unlock(4242)")
        counter.join(10)
        assert got == [before]
        assert reader.count(filters=finished) == before + 1


def _drop_connections(admin_url: str, reader_url: str) -> int:
    """End every session of the role in ``reader_url`` from the server's side (as a restart or a dropped network
    does); how many were ended."""
    import psycopg

    role = reader_url.split("://", 1)[1].split("@", 1)[0]
    with psycopg.connect(admin_url, autocommit=True) as conn:  # each waited for (up to 5 s) until it is gone
        ended = conn.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = %s", (role,)).fetchall()
    return sum(1 for (done,) in ended if done)


def test_a_read_after_the_server_dropped_the_connection_runs_on_a_new_one(pg_url: str, tmp_path: Path) -> None:
    """A server restarted under an open app (or a network that dropped) ended its session: the next read opens the
    connection again and answers, rather than failing until the app is restarted."""
    from runsift.core.pgcatalog import SharedCatalog

    url, root = _indexed(pg_url, tmp_path, "dropped_session")
    with Catalog.open(root, use_cache=False) as ref:
        failed = ref.ids(filters=[parse_filter("status=failed")], sort=parse_sort("-val_auc"))
        everything = ref.ids()
    reader_url = _reader(url)
    with SharedCatalog.open(reader_url, root_name="team") as catalog:
        assert catalog.count(filters=[parse_filter("status=failed")], background=True) == len(failed)  # both connections open
        assert _drop_connections(url, reader_url) == 2
        assert [r.id for r in catalog.list(filters=[parse_filter("status=failed")], sort=parse_sort("-val_auc"))] == failed
        catalog._forget()
        assert catalog.count(filters=[parse_filter("status=failed")], background=True) == len(failed)
        assert _drop_connections(url, reader_url) == 2
        assert catalog.get(everything[0]).id == everything[0]
        # still down: one clear error, never a password, and the read after it works once the server is back
        _drop_connections(url, reader_url)
        catalog.url, kept = "postgresql://nobody:s3cret@127.0.0.1:1/none", catalog.url
        with pytest.raises(CatalogError, match="cannot connect") as raised:
            catalog.ids()
        assert "s3cret" not in str(raised.value)
        catalog.url = kept
        assert catalog.ids() == everything


_WAITING = "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'advisory' AND usename <> current_user"
"""A session other than the test's own waits for an advisory lock (a count held by :func:`_held_count`)."""


def _held_count(catalog: Any, gate: Any) -> tuple[Any, list[BaseException]]:
    """A background count of ``catalog``, started in a thread and held in the database (by an advisory lock ``gate``
    takes) until the lock is let go; once it waits there, the thread and the errors it met."""

    _slow_counts(catalog, 0, gate=4343)
    gate.execute("SELECT pg_advisory_lock(4343)")
    counter, errors = _count_in_thread(catalog, "status!=failed")
    assert until_true(lambda: bool(gate.execute(_WAITING).fetchall()))
    return counter, errors


def _count_in_thread(catalog: Any, text: str) -> tuple[Any, list[BaseException]]:
    """A background count of the filter ``text``, started in a thread; the thread and the CatalogErrors it met."""
    import threading

    errors: list[BaseException] = []

    def count() -> None:
        try:
            catalog.count(filters=[parse_filter(text)], background=True)
        except CatalogError as exc:
            errors.append(exc)

    counter = threading.Thread(target=count)
    counter.start()
    return counter, errors


def test_a_count_whose_list_was_replaced_is_stopped_in_the_database(pg_url: str, tmp_path: Path) -> None:
    """The app stops the count of a list a newer one replaced: the database spends no more on it, and the next count
    runs at once on the same connection, not after it."""
    import psycopg

    from runsift.core.pgcatalog import SharedCatalog

    url, root = _indexed(pg_url, tmp_path, "stop_count")
    with Catalog.open(root, use_cache=False) as ref:
        failed = ref.ids(filters=[parse_filter("status=failed")])
    with SharedCatalog.open(_reader(url), root_name="team") as catalog, psycopg.connect(url, autocommit=True) as gate:
        catalog.cancel_counts()  # nothing under way: nothing happens
        assert catalog.count(filters=[parse_filter("status=failed")], background=True) == len(failed)
        pid = catalog._side.info.backend_pid
        counter, errors = _held_count(catalog, gate)
        catalog.cancel_counts(keep=[parse_filter("status!=failed")])  # the list shown is the one counted: kept
        counter.join(0.5)
        assert counter.is_alive() and not errors
        waiting, later = _count_in_thread(catalog, "status=finished")  # waits its turn; stopped then, it never starts
        assert until_true(lambda: catalog._asked[1] == (None, (parse_filter("status=finished"),)))  # asked, waiting
        catalog.cancel_counts()
        counter.join(10)
        waiting.join(10)
        assert not counter.is_alive() and errors and "cancel" in str(errors[0]).lower(), errors
        assert not waiting.is_alive() and later and "stopped" in str(later[0]), later
        assert not gate.execute(_WAITING).fetchall()
        gate.execute("SELECT pg_advisory_unlock(4343)")
        catalog._forget()
        assert catalog.count(filters=[parse_filter("status=failed")], background=True) == len(failed)
        assert catalog._side.info.backend_pid == pid  # the same connection, not one opened again


def test_counts_go_on_when_the_second_connection_is_lost_and_cannot_be_opened_again(pg_url: str, tmp_path: Path) -> None:
    from runsift.core.pgcatalog import SharedCatalog

    url, root = _indexed(pg_url, tmp_path, "side_lost")
    with Catalog.open(root, use_cache=False) as ref:
        failed = ref.ids(filters=[parse_filter("status=failed")])
    import psycopg

    with SharedCatalog.open(_reader(url), root_name="team") as catalog:
        assert catalog.count(filters=[parse_filter("status=failed")], background=True) == len(failed)
        with psycopg.connect(url, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (catalog._side.info.backend_pid,)).fetchone()[0]
        catalog.url = "postgresql://nobody@127.0.0.1:1/none"  # the second cannot be opened again: counts use the first
        catalog._forget()
        assert catalog.count(filters=[parse_filter("status=failed")], background=True) == len(failed)


def test_closing_does_not_wait_for_a_count_and_opens_nothing_after(pg_url: str, tmp_path: Path) -> None:
    """Quitting the app closes its catalog while a count may run: at once, and no worker still running opens a
    connection again afterwards."""
    import threading

    import psycopg

    from runsift.core.pgcatalog import SharedCatalog

    url, _ = _indexed(pg_url, tmp_path, "closing")
    reader_url = _reader(url)
    catalog = SharedCatalog.open(reader_url, root_name="team")
    with psycopg.connect(url, autocommit=True) as gate:
        counter, errors = _held_count(catalog, gate)
        closer = threading.Thread(target=catalog.close)
        closer.start()
        closer.join(1.0)
        closed_at_once = not closer.is_alive()
        gate.execute("SELECT pg_advisory_unlock(4343)")  # whatever happened, let the count go (a close waiting for it ends)
        closer.join(10)
        counter.join(10)
        assert closed_at_once, "closing waited for the count"
        assert errors, "the count went on after its connection closed"
        with pytest.raises(CatalogError, match="closed"):
            catalog.ids()
        role = reader_url.split("://", 1)[1].split("@", 1)[0]
        assert until_true(lambda: not gate.execute("SELECT 1 FROM pg_stat_activity WHERE usename = %s", (role,)).fetchall())


def until_true(check: Any, seconds: float = 10) -> bool:
    """Whether ``check()`` becomes true within ``seconds`` (a server notices a closed connection in its own time)."""
    import time

    ends = time.monotonic() + seconds
    while not check():
        if time.monotonic() > ends:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.asyncio
async def test_the_app_tells_a_lost_catalog_and_goes_on(pg_url: str, tmp_path: Path) -> None:
    """With the server gone, a key typed shows what failed and keeps the list shown (it ended the app with a
    traceback); once it is back, the next key lists again."""
    from runsift.core.pgcatalog import SharedCatalog
    from runsift.tui.widgets.run_table import RunTable

    url, root = _indexed(pg_url, tmp_path, "lost_app")
    with Catalog.open(root, use_cache=False) as ref:
        failed = ref.ids(filters=[parse_filter("status=failed")], sort=parse_sort("-val_auc"))
        shown = ref.ids(filters=[parse_filter("status!=failed")], sort=parse_sort("-val_auc"))
    reader_url = _reader(url)
    catalog = SharedCatalog.open(reader_url, root_name="team")
    app = _not_failed_by_auc(catalog, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        table = app.screen.query_one(RunTable)
        await until(pilot, lambda: [r.id for r in table.rows] == shown)
        _drop_connections(url, reader_url)
        catalog.url, kept = "postgresql://nobody@127.0.0.1:1/none", catalog.url  # the server still down
        app.screen.query_one("#filter").value = "status=failed"
        await until(pilot, lambda: any("cannot connect to the catalog" in n.message for n in app._notifications))
        assert app.is_running and [r.id for r in table.rows] == shown
        catalog.url = kept
        app.screen.query_one("#filter").value = "status=failed "
        await until(pilot, lambda: [r.id for r in table.rows] == failed)
    catalog.close()


def test_a_background_count_counts_on_the_one_connection_when_a_second_cannot_be_opened(pg_url: str, tmp_path: Path) -> None:
    """A server at its connection limit (or a URL that worked once) still gives the count, as before."""
    from runsift.core.pgcatalog import SharedCatalog

    url, root = _indexed(pg_url, tmp_path, "no_second")
    with Catalog.open(root, use_cache=False) as ref:
        failed = ref.ids(filters=[parse_filter("status=failed")])
    with SharedCatalog.open(_reader(url), root_name="team") as catalog:
        catalog.url = "postgresql://nobody@127.0.0.1:1/none"  # refused at once
        assert catalog.count(filters=[parse_filter("status=failed")], background=True) == len(failed)
        assert catalog.list(filters=[parse_filter("status=failed")], limit=2)


@pytest.mark.asyncio
async def test_a_count_that_fails_leaves_the_page_and_says_why(pg_url: str, tmp_path: Path) -> None:
    """The count after a page is the database's too: when it fails, the page stays with "+" (more match, how many
    unknown) and a notification says what went wrong, its text shown as text."""

    url, _ = _indexed(pg_url, tmp_path, "count_fails")
    catalog = _paged_reader(url, 3)
    real_count = catalog.count

    def count(**kwargs: Any) -> int:
        if kwargs.get("background"):
            raise CatalogError("the catalog failed: [b]server closed the connection[/b]")
        return int(real_count(**kwargs))

    catalog.count = count  # type: ignore[method-assign]
    app = _not_failed_by_auc(catalog, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        table, count_shown = await _counting(app, pilot)
        await until(pilot, lambda: bool(app._notifications))
        assert table.row_count == 3 and str(count_shown.render()).startswith("[3+/")
        said = [n for n in app._notifications if "Cannot count the matches" in n.message]
        assert said and "[b]server closed the connection[/b]" in said[0].message and said[0].markup is False
    catalog.close()


@pytest.mark.asyncio
async def test_a_filter_typed_while_the_list_before_is_counted_is_not_held_up(pg_url: str, tmp_path: Path) -> None:
    """A full page is counted after it shows; a key typed while the database counts (3 s here) shows its page at once,
    and the count of the list it replaced is stopped quietly (no notification), the new list's count following."""
    import time

    import psycopg


    url, root = _indexed(pg_url, tmp_path, "typed_counting")
    with Catalog.open(root, use_cache=False) as ref:
        failed = ref.ids(filters=[parse_filter("status=failed")], sort=parse_sort("-val_auc"))
        total = len(ref.ids())
    catalog = _paged_reader(url, 3)
    started = _slow_counts(catalog, 3)
    app = _not_failed_by_auc(catalog, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        table, count = await _counting(app, pilot)
        await until(pilot, lambda: bool(started))
        with psycopg.connect(url, autocommit=True) as admin:  # the first list's count is in the database
            sleeping = "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND usename <> current_user"
            await until(pilot, lambda: bool(admin.execute(sleeping).fetchall()))
        began = time.monotonic()
        app.screen.query_one("#filter").value = "status=failed"
        await until(pilot, lambda: [r.id for r in table.rows] == failed[:3])
        assert time.monotonic() - began < 1.0
        await until(pilot, lambda: str(count.render()) == f"[{len(failed)}/{total}]")
        assert str(count.render()) == f"[{len(failed)}/{total}]"
        assert time.monotonic() - began < 4.5, "the new count waited for the one it replaced"  # else about 5.7 s
        assert not app._notifications, [n.message for n in app._notifications]
    catalog.close()


@pytest.mark.asyncio
async def test_a_filter_typed_while_a_page_waits_for_its_count_is_not_held_up_by_it(pg_url: str, tmp_path: Path) -> None:
    """A page waits a moment on screen before it is counted: a key typed then means its count never runs (at 1M records
    0.35-0.6 s of the database's work for a list no longer shown). (A count taking 3 s here stands for the database's.)"""
    import time


    url, root = _indexed(pg_url, tmp_path, "stale_count")
    with Catalog.open(root, use_cache=False) as ref:
        failed = ref.ids(filters=[parse_filter("status=failed")], sort=parse_sort("-val_auc"))
    catalog = _paged_reader(url, 3)
    real = catalog._remembered
    counted: list[Any] = []

    def slow(key: Any, compute: Any, *lock: Any) -> Any:
        def slow_compute() -> Any:
            counted.append(key[2])
            time.sleep(3)
            return compute()

        return real(key, slow_compute if key[0] == "count" and key[2] else compute, *lock)

    catalog._remembered = slow  # type: ignore[method-assign]
    app = _not_failed_by_auc(catalog, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        table, _ = await _counting(app, pilot)
        started = time.monotonic()
        app.screen.query_one("#filter").value = "status=failed"  # typed at once
        await until(pilot, lambda: [r.id for r in table.rows] == failed[:3])
        assert time.monotonic() - started < 1.0
        assert not [f for f in counted if f[0].op == "!="], counted  # the first list's count never ran


@pytest.mark.asyncio
async def test_the_first_frame_comes_before_anything_that_reads_every_record(pg_url: str, tmp_path: Path) -> None:
    """At a million runs the metric names (an unnest of every run) take seconds: the first 200 rows are asked first."""
    from runsift.core.pgcatalog import SharedCatalog
    from runsift.tui.app import RunsiftApp
    from runsift.tui.widgets.run_table import RunTable

    url, root = _indexed(pg_url, tmp_path, "first")
    root.rename(tmp_path / "moved")  # the folder it was indexed from is not here (another host's, say)
    catalog = SharedCatalog.open(_reader(url), root_name="team")
    asked: list[str] = []

    def spying(name: str, real: Any) -> Any:
        def spy(*args: Any, **kwargs: Any) -> Any:
            asked.append(name)
            return real(*args, **kwargs)

        return spy

    for name in ("head", "metric_names", "projects", "list", "summaries"):
        setattr(catalog, name, spying(name, getattr(catalog, name)))
    app = RunsiftApp(catalog.root, catalog=catalog, state_dir=tmp_path / "state", watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(2):
            await workers_done(app)
            await pilot.pause()
        assert app.screen.query_one(RunTable).row_count == 25
        assert app.sub_title == "team:"  # where the runs are: this host cannot see them, so no local folder is named
    assert asked[0] == "head", asked
    assert "summaries" not in asked, asked


@pytest.mark.asyncio
async def test_the_palette_asks_a_shared_catalog_for_what_is_typed(pg_url: str, tmp_path: Path) -> None:
    """ctrl+p on a catalog read a page at a time: the newest records at once, then the database's records holding
    the words typed (never every summary), and the chosen one opens."""
    from textual.command import CommandList

    from runsift.core.pgcatalog import SharedCatalog
    from runsift.tui.app import RunsiftApp
    from runsift.tui.screens.record import RecordScreen

    url, _root = _indexed(pg_url, tmp_path, "palette")
    catalog = SharedCatalog.open(_reader(url), root_name="team")
    listed: list[dict[str, Any]] = []
    real_list = catalog.list

    def spy(**kwargs: Any) -> Any:
        listed.append(kwargs)
        return real_list(**kwargs)

    catalog.list = spy  # type: ignore[method-assign]
    app = RunsiftApp(catalog.root, catalog=catalog, state_dir=tmp_path / "state", watch=False)
    async with app.run_test(size=(120, 35)) as pilot:
        for _ in range(2):
            await workers_done(app)
            await pilot.pause()
        await pilot.press("ctrl+p", *"run-013")
        for _ in range(10):
            await pilot.pause(0.1)
            hits = app.screen.query_one(CommandList)
            if hits.option_count:
                break
        assert hits.option_count == 1
        assert any([str(f) for f in call.get("filters", ())] == ["run-013"] for call in listed)
        assert all(call.get("limit") is not None for call in listed), "a whole list was asked for"
        await pilot.press("down", "enter")
        for _ in range(3):
            await workers_done(app)
            await pilot.pause()
        assert isinstance(app.screen, RecordScreen)
        assert app.screen.record is not None and app.screen.record.id.endswith("run-013")


def test_a_reader_keeps_totals_and_names_until_it_refreshes(pg_url: str, tmp_path: Path) -> None:
    """The app asks for the total, the project and metric names on every keystroke, so a reader keeps them; its
    refresh (``r`` in the app) must show what an indexer added meanwhile, never the old answers."""
    from conftest import make_run

    from runsift.core.pgcatalog import SharedCatalog

    url, root = _indexed(pg_url, tmp_path, "memo")
    with SharedCatalog.open(_reader(url), root_name="team") as reader:
        before = (reader.count(), reader.projects(), reader.metric_names())
        make_run(root / "newproj" / "2025-02-01_10-00-00_run-new", metrics={"final": {"val_auc": 0.9, "brand_new": 1.0}})
        with SharedCatalog.open(url, root, root_name="team", refresh=True):
            pass
        assert (reader.count(), reader.projects(), reader.metric_names()) == before
        reader.refresh()
        assert reader.count() == before[0] + 1
        assert reader.projects() == sorted([*before[1], "newproj"])
        assert "brand_new" in reader.metric_names()
        assert reader.count(filters=[parse_filter("project=newproj")]) == 1



def test_records_read_by_another_runsift_are_read_again(pg_url: str, tmp_path: Path) -> None:
    """A new field (``status_source``) or a reader's fix changes what a record's rows hold. Each row's fingerprint
    carries the rows version that read it, so an indexer reads again exactly the rows another version wrote:
    those of an older indexer still running on another host too, and after an interrupted re-read, only the rest."""
    import psycopg

    from runsift.core.pgcatalog import SharedCatalog

    url, root = _indexed(pg_url, tmp_path, "versions")
    ids = sorted(Catalog.open(root, use_cache=False).ids())
    stale = "UPDATE runs SET detail = jsonb_set(detail::jsonb, '{name}', '\"stale\"')::text WHERE id = ANY(%s)"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(stale, (ids[:3],))  # rows as another version wrote them, but stamped with this one
        conn.execute("UPDATE runs SET fingerprint = regexp_replace(fingerprint, '^r[0-9]+:', '') WHERE id = %s", (ids[1],))
        conn.execute("UPDATE runs SET fingerprint = regexp_replace(fingerprint, '^r[0-9]+:', 'r999:') WHERE id = %s", (ids[2],))
    with SharedCatalog.open(url, root, root_name="team", refresh=True) as cat, Catalog.open(root, use_cache=False) as ref:
        assert cat.last_refresh.changed == 2, "the rows an older (unstamped) and a newer version wrote, and only those"
        assert cat.get(ids[0]).name == "stale", "rows this version wrote are trusted while their files are unchanged"
        assert [cat.get(i).name for i in ids[1:3]] == [ref.get(i).name for i in ids[1:3]]
    with SharedCatalog.open(url, root, root_name="team", refresh=True) as cat:
        assert cat.last_refresh.changed == 0


# -- security ---------------------------------------------------------------------------------------

SECRET = "Pw-s3cret-9%&x"


def _password_role(url: str) -> str:
    """A role that must give its password (scram), and the URL with it; the server's other roles keep trust."""
    import urllib.parse

    import psycopg

    sock = url.split("host=", 1)[1].split("&", 1)[0]
    hba = Path(sock).parent / "data" / "pg_hba.conf"
    if "secretive" not in hba.read_text():
        hba.write_text("local all secretive scram-sha-256\n" + hba.read_text())
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'secretive'").fetchone() is None:
            conn.execute("CREATE ROLE secretive LOGIN SUPERUSER")
        conn.execute(psycopg.sql.SQL("ALTER ROLE secretive PASSWORD {}").format(psycopg.sql.Literal(SECRET)))
        conn.execute("SELECT pg_reload_conf()")
    return url.replace("postgres@", f"secretive:{urllib.parse.quote(SECRET, safe='')}@", 1)


def test_credentials_never_appear_in_any_output(pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib.parse

    url, root = _indexed(pg_url, tmp_path, "secrets")
    good = _password_role(url)
    wrong = good.replace(urllib.parse.quote(SECRET, safe=""), "Wr0ng-Secret-77", 1)
    unreachable = f"postgresql://alice:{urllib.parse.quote(SECRET, safe='')}@127.0.0.1:1/nodb?connect_timeout=3"
    outputs: list[str] = []

    def run(*argv: str) -> int:
        code, out, err = _cli(capsys, *argv)
        outputs.append(out + err)
        return code

    assert run("index", str(root), "--catalog", good, "--root-name", "team") == 0
    assert run("ls", "--catalog", good, "--root-name", "team", "--sort", "-val_auc") == 0
    assert run("ls", "--catalog", good, "--root-name", "team", "-f", "val_acu>1") == 2  # a typo: an error naming the key
    assert run("show", "nothing-like-this", "--catalog", good, "--root-name", "team") == 2
    assert run("ls", "--catalog", good, "--root-name", "no-such-root") == 2
    assert run("ls", "--catalog", wrong, "--root-name", "team") == 2
    assert "password authentication failed" in outputs[-1]
    assert run("ls", "--catalog", unreachable, "--root-name", "team") == 2
    assert "cannot connect" in outputs[-1]
    # a URL libpq cannot parse: its message would quote the bad part, here the password
    assert run("ls", "--catalog", f"postgresql://alice:{SECRET}%ZZ@127.0.0.1:1/nodb", "--root-name", "team") == 2
    assert "not a PostgreSQL URL" in outputs[-1]
    monkeypatch.setenv("RUNSIFT_CATALOG", good)
    with pytest.raises(SystemExit):
        run("ls", "--help")
    outputs.append(capsys.readouterr().out)
    assert outputs[-1].strip()
    for text in outputs:
        for secret in (SECRET, urllib.parse.quote(SECRET, safe=""), "Wr0ng-Secret-77"):
            assert secret not in text


def test_hostile_root_names_and_maps_are_data(pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import psycopg

    url = _fresh_db(pg_url, "hostileroot")
    root = _tree(tmp_path / "r")
    name = "x'); DROP TABLE roots; --"
    assert _cli(capsys, "index", str(root), "--catalog", url, "--root-name", name, "-q")[0] == 0
    code, out, _ = _cli(capsys, "ls", "--catalog", url, "--root-name", name, "--root-map", f"{name}=/m'; --", "--format", "json", "-q")
    assert code == 0 and len(json.loads(out)) == 25
    assert all(row["path"].startswith("/m'; --/") for row in json.loads(out))
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT name FROM roots").fetchall() == [(name,)]


def test_an_old_schema_is_a_message_not_a_traceback(pg_url: str) -> None:
    """(A dropped connection: test_a_read_after_the_server_dropped_the_connection_runs_on_a_new_one.)"""
    import psycopg

    from runsift.core.pgcatalog import SharedCatalog

    old = _fresh_db(pg_url, "oldschema")
    with psycopg.connect(old, autocommit=True) as admin:
        admin.execute("CREATE TABLE vals (root TEXT, id TEXT, key TEXT)")
    with pytest.raises(CatalogError, match="earlier runsift"):
        SharedCatalog.open(old, root_name="team")


@pytest.mark.asyncio
async def test_an_indexing_app_follows_new_runs_without_reading_every_summary(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # runsift app ROOT --catalog URL --index watches the root: a change is a walk into the database, never a
    # read of every summary (a million of them, to map changed paths to records a shared catalog cannot re-read alone).
    import time

    from conftest import make_run

    from runsift.core.pgcatalog import SharedCatalog
    from runsift.tui.app import RunsiftApp
    from runsift.tui.widgets.run_table import RunTable

    url, root = _indexed(pg_url, tmp_path, "watched")
    catalog = SharedCatalog.open(url, root, root_name="team", index=True)

    def every_summary() -> list[Any]:
        raise AssertionError("read every summary")

    monkeypatch.setattr(catalog, "summaries", every_summary)
    app = RunsiftApp(catalog.root, catalog=catalog, state_dir=tmp_path / "state", watch_debounce_ms=50)
    async with app.run_test(size=(120, 35)) as pilot:
        deadline = time.monotonic() + 15
        while app.watcher is None or app.watcher.mode != "watch":
            assert time.monotonic() < deadline, app.watcher.why if app.watcher else "no watcher"
            await pilot.pause(0.05)
        table = app.screen.query_one(RunTable)
        while table.row_count != 25:  # the first list is read in a worker
            assert time.monotonic() < deadline, table.row_count
            await pilot.pause(0.05)
            await workers_done(app)
        make_run(root / "proj1" / "2025-03-01_10-00-00_run-new")
        while table.row_count != 26:
            assert time.monotonic() < deadline + 15, "the new run never showed"
            await pilot.pause(0.05)
            await workers_done(app)
        assert "proj1/2025-03-01_10-00-00_run-new" in [r.id for r in table.rows]
        assert catalog.count() == 26


def test_no_statement_is_prepared_on_the_server(pg_url: str, tmp_path: Path) -> None:
    """The app runs the same few statements on every key. Prepared (psycopg does so on a statement's sixth run), the
    server may plan one once for every value: a tie group's page went from 5-7 ms to 36-44 ms at 100k records."""
    from runsift.core.pgcatalog import SharedCatalog

    url, _root = _indexed(pg_url, tmp_path, "unprepared")
    with SharedCatalog.open(_reader(url), root_name="team") as reader:
        for value in ("finished", "failed", "running", "finished", "failed", "running", "finished", "failed"):
            reader.list(filters=[parse_filter(f"status={value}")], sort=parse_sort("config.lr"), limit=5)
            reader.count(filters=[parse_filter(f"status={value}")])
        for conn in (reader.conn, getattr(reader, "_side", None)):
            if conn is not None:
                assert conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0] == 0
                conn.rollback()

"""One set of catalog tests over both backends: the embedded SQLite cache and a shared PostgreSQL catalog.

The PostgreSQL server is started by these tests from the machine's binaries (``initdb`` + ``pg_ctl``
in a temporary folder, as the ``postgres`` user when run as root); without binaries or psycopg the
PostgreSQL cases are skipped with the reason (``.ci/run`` installs both, so CI always runs them).
"""

from __future__ import annotations

import glob
import itertools
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_run

from runsift.core.catalog import Catalog, CatalogError, RunNotFound
from runsift.core.query import Filter, parse_filter, parse_filters, parse_sort
from runsift.core.serialize import to_dict

HOSTILE = "'; DROP TABLE runs; --"


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL server for this test session; its URL (a Unix socket, trust auth)."""
    pytest.importorskip("psycopg", reason="psycopg not installed: pip install 'runsift[postgres]'")
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries (apt-get install -y postgresql)")
    base = Path(tempfile.mkdtemp(prefix="runsift-pg-"))  # not under pytest's root-only 0700 folders: the server user must enter it
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    user: str | None = None
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run the server as")
        user = "postgres"
        shutil.chown(base, user)
        shutil.chown(sock, user)
        os.chmod(base, 0o755)

    def run(*cmd: str) -> None:
        full = ["runuser", "-u", user, "--", *cmd] if user else list(cmd)
        done = subprocess.run(full, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode:
            raise RuntimeError(f"{cmd[0]} failed: {done.stderr.strip()[-2000:]}")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
    opts = f"-k {sock} -p {port} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l", str(base / "log"), "start")
    try:
        yield f"postgresql://postgres@/postgres?host={sock}&port={port}"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


def _fresh_db(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.replace("/postgres?", f"/{name}?")


_counter = iter(range(10_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def open_catalog(request: pytest.FixtureRequest) -> Any:
    """``open_catalog(root) -> catalog`` for each backend (a fresh database per test for PostgreSQL)."""
    if request.param == "sqlite":
        return lambda root, **kw: Catalog.open(root, **kw)
    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(request.getfixturevalue("pg_url"), f"t{os.getpid()}_{next(_counter)}")
    return lambda root, **kw: SharedCatalog.open(url, root, refresh=True, **kw)


def _tree(root: Path) -> Path:
    for i in range(24):
        make_run(
            root / f"proj{i % 3}" / f"2025-01-{1 + i % 28:02d}_10-00-00_run-{i:03d}",
            metrics={"final": {"val_auc": 0.5 + (i % 9) / 100, "loss": 1 / (i + 1)}, "status": "failed" if i % 5 == 0 else "finished"}
            if i != 7 else {"final": {"loss": float("nan")}},
            config=f"lr: {0.001 * (1 + i % 4)}\nopt: {'adam' if i % 2 else 'SGD'}\nlayers: {i % 3}\nnote: '{'nan' if i == 3 else 'x' + str(i)}'\n"
            + ("tag: hello\n" if i % 4 == 0 else ""),
        )
    make_run(root / "proj0" / HOSTILE, metrics={"final": {"val_auc": 0.77}})
    return root


QUERIES = [
    "", "val_auc>0.52", "val_auc<=0.5", "val_auc!=0.51", "loss<0.1", "status=failed", "status!=FAILED", "project=proj1",
    "name~run-01", "run-00", "config.lr=0.002", "config.lr>0.002", "config.opt=sgd", "config.opt~AD", "config.tag=",
    "config.tag!=hello", "config.layers>=1", "config.note=nan", "config.note>x1", "run_number<5", "problems=0",
    "sweep=", "config.lr=0.001 val_auc>0.5", "config.note!=3", "config.opt>=1", "config.lr!=0.002", "config.note<=nan", HOSTILE, f"name={HOSTILE}", f"config.opt={HOSTILE}", f"name~{HOSTILE}",
]
SORTS = [None, "val_auc", "-val_auc", "loss", "-loss", "name", "-name", "config.lr", "-config.lr", "config.note", "-config.note",
         "run_number", "-run_number", "status", "config.tag", "-config.tag", "started"]


def _filters(filters: str) -> list[Any]:
    return parse_filters(filters) if filters and filters != HOSTILE else ([parse_filter(filters)] if filters else [])


def _rows(cat: Any, filters: str, sort: str | None) -> list[tuple[Any, ...]]:
    flts = _filters(filters)
    return [(r.id, r.status, r.name, r.run_number, r.metrics.get("val_auc")) for r in cat.list(filters=flts, sort=parse_sort(sort) if sort else None)]


def test_both_backends_answer_every_query_as_the_in_memory_rules_do(open_catalog: Any, tmp_path: Path) -> None:
    root = _tree(tmp_path / "r")
    with Catalog.open(root, use_cache=False) as reference, open_catalog(root) as cat:
        assert cat.count() == reference.count() == 25
        for query in QUERIES:
            for sort in SORTS:
                assert _rows(cat, query, sort) == _rows(reference, query, sort), (query, sort)
            # a database's list by id also counts what it found: count() of the same filters must agree
            assert cat.count(filters=_filters(query)) == len(_rows(reference, query, None)), query
        assert cat.metric_names() == reference.metric_names()
        assert cat.facet_keys() == reference.facet_keys()  # what ls --columns and filter-key checks offer
        some = [*(r.id for r in reference.list()[3:9]), "no/such-run"]  # a page's detail values, or one record's
        for key in ("config.lr", "config.note", "started_source"):
            assert cat.facet(key) == reference.facet(key)
            assert cat.facet(key, some) == reference.facet(key, some) == {i: v for i, v in reference.facet(key).items() if i in some}
        import runsift.core.pgcatalog as pgcatalog

        saved, pgcatalog.FACET_IDS_MAX = pgcatalog.FACET_IDS_MAX, 3  # more ids than that: every value read, theirs kept
        try:
            assert cat.facet("config.lr", some) == reference.facet("config.lr", some)
        finally:
            pgcatalog.FACET_IDS_MAX = saved
        for rid in ("proj1/2025-01-02_10-00-00_run-001", f"proj0/{HOSTILE}"):
            assert to_dict(cat.get(rid)) == to_dict(reference.get(rid))
        # explain's peers, read in one go: those that exist, in the order asked, once each
        asked = [f"proj0/{HOSTILE}", "no/such-run", "proj1/2025-01-02_10-00-00_run-001", f"proj0/{HOSTILE}"]
        assert [to_dict(r) for r in cat.get_many(asked)] == [to_dict(reference.get(i)) for i in asked[::2]]
        saved_batch, pgcatalog.GET_MANY_BATCH = pgcatalog.GET_MANY_BATCH, 1  # a query a record: the same, in order
        try:
            assert [to_dict(r) for r in cat.get_many(asked)] == [to_dict(reference.get(i)) for i in asked[::2]]
        finally:
            pgcatalog.GET_MANY_BATCH = saved_batch
        assert cat.resolve("run-001") == "proj1/2025-01-02_10-00-00_run-001"
        with pytest.raises(RunNotFound):
            cat.get("nope")
        assert [r.path for r in cat.list()] == [r.path for r in reference.list()]


def test_a_search_matches_its_words_literally_on_both_backends(open_catalog: Any, tmp_path: Path) -> None:
    # A bare word is a LIKE pattern in PostgreSQL (so that the trigram index serves it) when it holds three letters or
    # digits in a row, else strpos: either way %, _ and backslashes in the word are plain characters.
    root = tmp_path / "r"
    for name in ("50%_off\\x", "500_off", "50aoff", "5%0_b", "ab\\c", "Run-ABC", "ΟΔΟΣ-Σοφία", "İzmir_RUN"):
        make_run(root / "p" / name, metrics={"final": {"val_auc": 0.5}})
    words = ("50%_off", "%_off", "50%", "0_o", "_", "%", "\\", "\\x", "b\\c", "run-abc", "off", "5", "zzz", "οδος", "δος-σ",
             "σοφία", "ΣΟΦΊΑ", "i̇zmir", "izmir", "zmir_run")
    with Catalog.open(root, use_cache=False) as reference, open_catalog(root) as cat:
        for word in words:  # a bare word (id, name, project), and name~ (read first through the search text in PostgreSQL)
            for flts in ([parse_filter(word)], [Filter("name", "~", word)]):
                expected = [r.id for r in reference.list(filters=flts)]
                assert [r.id for r in cat.list(filters=flts)] == expected, flts
                assert [r.id for r in cat.list(filters=flts, limit=1)] == expected[:1], flts
        assert [r.id for r in cat.list(filters=[parse_filter("%_off")])] == ["p/50%_off\\x"]


def test_postgres_reads_a_search_from_its_trigram_index(pg_url: str, tmp_path: Path) -> None:
    # run-00001 at 1M records: every record's search text read, 0.38-0.41 s; through the trigram index, 29 ms.
    from runsift.core.pgcatalog import SharedCatalog
    from runsift.core.sqlquery import filter_sql

    url = _fresh_db(pg_url, "search_index")
    root = _tree(tmp_path / "r")
    with SharedCatalog.open(url, root, refresh=True) as cat:
        clause, args = filter_sql(parse_filter("run-001"))  # at 25 records the planner rightly reads them all: asked alone
        assert any(clause in sql for sql, _ in cat.queries(filters=[parse_filter("run-001")]))
        cat.conn.execute("SET enable_seqscan = off")
        plan = "\n".join(row[0] for row in cat.conn.execute(f"EXPLAIN SELECT 1 FROM runs r WHERE {clause}", args).fetchall())
        cat.conn.rollback()
        assert "runs_search_trgm" in plan, plan  # strpos, which no index serves, fails this
        # name~ is read first through the same condition (then each record's name checked)
        named, named_args = filter_sql(Filter("name", "~", "run-001"))
        assert named.startswith(f"({clause} AND EXISTS") and named_args[0] == args[0], named


def test_an_indexer_finds_pg_trgm_in_a_schema_of_its_own(pg_url: str, tmp_path: Path) -> None:
    # Managed databases keep extensions in a schema of their own, off the search_path: the index is still built
    # (and were it not, an index that only speeds searches up would be no reason to refuse indexing).
    import psycopg

    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(pg_url, "trgm_schema")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute('CREATE SCHEMA "ext ""s"""')
        conn.execute('CREATE EXTENSION pg_trgm SCHEMA "ext ""s"""')
    root = _tree(tmp_path / "r")
    with SharedCatalog.open(url, root, refresh=True) as cat:
        assert [r.id for r in cat.list(filters=[parse_filter("run-001")])] == ["proj1/2025-01-02_10-00-00_run-001"]
        assert cat.conn.execute("SELECT to_regclass('runs_search_trgm')").fetchone()[0] is not None


def test_an_indexer_that_may_not_create_the_extension_still_indexes_and_searches(pg_url: str, tmp_path: Path) -> None:
    # pg_trgm is a trusted extension, but creating it takes the right to CREATE in the database: a team's indexer role
    # may own its tables without it. The catalog is made, and a search reads every record as before.
    import psycopg

    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(pg_url, "no_extension")
    role = f"noext{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT CREATE ON SCHEMA public TO {role}")
    root = _tree(tmp_path / "r")
    try:
        with SharedCatalog.open(url.replace("postgres@", f"{role}@", 1), root, refresh=True) as cat:
            assert [r.id for r in cat.list(filters=[parse_filter("run-001")])] == ["proj1/2025-01-02_10-00-00_run-001"]
            assert cat.conn.execute("SELECT to_regclass('runs_search_trgm')").fetchone()[0] is None
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "no_extension"')
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def test_a_refresh_sees_added_changed_and_removed_runs(open_catalog: Any, tmp_path: Path) -> None:
    root = _tree(tmp_path / "r")
    with open_catalog(root) as cat:
        assert cat.count() == 25
    shutil.rmtree(root / "proj1" / "2025-01-02_10-00-00_run-001")
    make_run(root / "proj9" / "run-new", metrics={"final": {"val_auc": 0.99}})
    with open_catalog(root) as cat:
        assert cat.count() == 25
        assert cat.list(sort=parse_sort("-val_auc"))[0].id == "proj9/run-new"


def test_postgres_tables_survive_hostile_names_and_values(pg_url: str, tmp_path: Path) -> None:
    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(pg_url, "hostile")
    root = _tree(tmp_path / "r")
    with SharedCatalog.open(url, root, refresh=True) as cat:
        for query in (HOSTILE, f"name={HOSTILE}", f"config.{HOSTILE}=1", f"{HOSTILE}>1".replace("'", "x")):
            cat.list(filters=[parse_filter(query)])
        cat.list(sort=parse_sort(HOSTILE))
        assert cat.count() == 25
        assert cat.get(f"proj0/{HOSTILE}").name == HOSTILE


def test_concurrent_indexers_lose_and_duplicate_nothing(pg_url: str, tmp_path: Path) -> None:
    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(pg_url, "concurrent")
    root = _tree(tmp_path / "r")
    errors: list[BaseException] = []

    def index() -> None:
        try:
            with SharedCatalog.open(url, root, refresh=True, workers=1):
                pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=index) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with SharedCatalog.open(url, root_name="r") as cat, Catalog.open(root, use_cache=False) as ref:
        assert cat.ids() == ref.ids()
        import psycopg

        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM runs").fetchone() == (25, 25)


def test_a_reader_elsewhere_maps_the_root_and_reads_without_the_files(pg_url: str, tmp_path: Path) -> None:
    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(pg_url, "mapped")
    root = _tree(tmp_path / "r")
    with SharedCatalog.open(url, root, root_name="team", refresh=True):
        pass
    with SharedCatalog.open(url, root_name="team", root_map={"team": "/mnt/elsewhere"}) as cat:
        assert not cat.reachable
        row = cat.list(filters=[parse_filter("name=2025-01-02_10-00-00_run-001")])[0]
        assert row.path == "/mnt/elsewhere/proj1/2025-01-02_10-00-00_run-001"
        assert cat.get(row.id).config["opt"] == "adam"  # recorded values need no files
        assert cat.refresh().unchanged == 25  # a reader's refresh re-reads the database, never the files
    with SharedCatalog.open(url, root_name="team", root_map={"team": "/mnt/elsewhere"}, index=True) as cat, \
            pytest.raises(CatalogError, match="not reachable"):
        cat.refresh()
    with pytest.raises(CatalogError, match="no root named"):
        SharedCatalog.open(url, root_name="other")


def test_credentials_never_appear_in_errors(pg_url: str) -> None:
    from runsift.core.pgcatalog import SharedCatalog, mask

    url = "postgresql://alice:s3cret-pw@127.0.0.1:1/nodb?connect_timeout=2"
    with pytest.raises(CatalogError) as info:
        SharedCatalog.open(url, root_name="x")
    assert "s3cret-pw" not in str(info.value)
    assert "***" in mask(url) and "s3cret-pw" not in mask(url)
    assert json.dumps(str(info.value))


def test_the_command_line_indexes_into_and_lists_from_a_shared_catalog(pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from runsift.tui.cli import main

    url = _fresh_db(pg_url, "cli")
    root = _tree(tmp_path / "r")
    assert main(["index", str(root), "--catalog", url, "-q"]) == 0
    assert "25 added" in capsys.readouterr().out
    assert main(["ls", str(root), "--catalog", url, "--filter", "status=failed", "--format", "json", "-q"]) == 0
    listed = json.loads(capsys.readouterr().out)
    with Catalog.open(root, use_cache=False) as ref:
        assert [r["id"] for r in listed] == ref.ids(filters=[parse_filter("status=failed")])


def test_pages_are_slices_of_the_whole_sorted_list(open_catalog: Any, tmp_path: Path) -> None:
    # A sorted PostgreSQL list is read slice by slice (numbers, texts, missing) and a page stops early:
    # every page, across slice boundaries too, must be the same rows as the in-memory list's slice.
    root = _tree(tmp_path / "r")
    with Catalog.open(root, use_cache=False) as reference, open_catalog(root) as cat:
        for query in ("", "val_auc>0.52", "config.tag!=hello", "run-0 config.opt=adam", "config.lr>0.001 status!=failed"):
            flts = parse_filters(query) if query else []
            assert cat.count(filters=flts) == len(reference.list(filters=flts))
            for sort in SORTS:
                order = parse_sort(sort) if sort else None
                whole = [r.id for r in reference.list(filters=flts, sort=order)]
                for limit, offset in ((1, 0), (5, 0), (7, 3), (10, 15), (4, 20), (100, 0), (3, 40)):
                    page = [r.id for r in cat.list(filters=flts, sort=order, limit=limit, offset=offset)]
                    assert page == whole[offset : offset + limit], (query, sort, limit, offset)
                    if 0 < offset <= len(whole):  # the app's next page: after the last row it holds (keyset)
                        page = [r.id for r in cat.list(filters=flts, sort=order, limit=limit, offset=offset, after=whole[offset - 1])]
                        assert page == whole[offset : offset + limit], (query, sort, limit, offset)
                assert [r.id for r in cat.list(filters=flts, sort=order, offset=6)] == whole[6:]
        head, total = cat.head(4)
        assert ([r.id for r in head], total) == (reference.ids()[:4], 25)


@pytest.mark.parametrize("sort", [None, "-val_auc", "name", "config.lr", "-status"])
def test_a_record_that_stays_is_listed_when_the_row_before_the_page_is_removed(pg_url: str, tmp_path: Path, sort: str | None) -> None:
    # The app and ls ask a page after the last row they hold; when another indexer removed that record meanwhile its
    # sort value is gone too, and passing over the page's offset skipped the record that moved up into its place.
    import psycopg

    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(pg_url, "gone_between_pages")
    root = _tree(tmp_path / "r")
    order = parse_sort(sort) if sort else None
    with Catalog.open(root, use_cache=False) as reference, SharedCatalog.open(url, root, refresh=True) as cat:
        whole = [r.id for r in reference.list(sort=order)]
        first = [r.id for r in cat.list(sort=order, limit=6)]
        assert first == whole[:6]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM vals WHERE rid IN (SELECT rid FROM runs WHERE id = %s)", (first[-1],))
            conn.execute("DELETE FROM runs WHERE id = %s", (first[-1],))
        assert [r.id for r in cat.list(sort=order, limit=6, offset=6, after=first[-1])] == whole[6:12]


def test_postgres_serves_a_sorted_first_page_from_an_index(pg_url: str, tmp_path: Path) -> None:
    # What makes a sorted first page fast at 1M records: each slice's SELECT can be read in an index's order
    # (a top-N sort of ties by id at most), not by sorting every record. With sequential scans and full sorts
    # priced out, the planner must still find an index scan and no plain Sort node for every slice.
    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(pg_url, "plans")
    root = _tree(tmp_path / "r")
    with SharedCatalog.open(url, root, refresh=True) as cat:
        for sort in ("-val_auc", "loss", "name", "-config.opt", "config.lr"):
            for plan in _plans(cat, cat.queries(sort=parse_sort(sort))[:2]):
                assert "Index" in plan and "vals_" in plan, (sort, plan)
                assert not _sorts_everything(plan), (sort, plan)


def _plans(cat: Any, queries: list[tuple[str, list[Any]]]) -> list[str]:
    """The plans of a page of each query with sequential scans, bitmap scans and full sorts priced out."""
    for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
        cat.conn.execute(f"SET {setting} = off")
    plans = ["\n".join(row[0] for row in cat.conn.execute(f"EXPLAIN {sql} LIMIT 100", args).fetchall()) for sql, args in queries]
    cat.conn.rollback()
    return plans


def _sorts_everything(plan: str) -> bool:
    """True when a plan has a plain Sort node (not a top-N or incremental sort of ties)."""
    return any(line.strip().lstrip("-> ").startswith("Sort  (") for line in plan.splitlines())


def test_postgres_summaries_are_kept_until_a_refresh(pg_url: str, tmp_path: Path) -> None:
    # The app asks for every summary on each filter keystroke: read once, re-read after a refresh
    # (a reader's re-reads the database), so a run another host indexed meanwhile then shows.
    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(pg_url, "kept")
    root = _tree(tmp_path / "r")
    with SharedCatalog.open(url, root, refresh=True), SharedCatalog.open(url, root_name="r") as reader:
        first = reader.summaries()
        assert reader.summaries() is first and len(first) == 25
        make_run(root / "proj9" / "run-new", metrics={"final": {"val_auc": 0.99}})
        with SharedCatalog.open(url, root, refresh=True):
            pass
        assert reader.summaries() is first  # until this reader refreshes
        assert reader.refresh().unchanged == 26
        assert [r.id for r in reader.summaries()] == sorted([*(r.id for r in first), "proj9/run-new"], key=lambda i: i.encode())


def _column_tree(root: Path) -> Path:
    """Projects and statuses that differ only in case, read as numbers, or as NaN (a missing value), and none."""
    projects = ["Proj1", "proj1", "2024", "1e3", "nan", "alpha", HOSTILE]
    statuses = ["finished", "Finished", "failed", "7", "7.0", "NaN", "running", None]
    for i in range(30):
        final = {"val_auc": 0.5 + (i % 7) / 100}
        metrics: dict[str, Any] = {"final": final} if statuses[i % 8] is None else {"final": final, "status": statuses[i % 8]}
        make_run(root / projects[i % 7] / f"2025-02-{1 + i % 28:02d}_09-00-00_run-{i:03d}", metrics=metrics)
    make_run(root / "loose-run", metrics={"final": {"val_auc": 0.6}})  # a run directly below the root: its own project
    return root


COLUMN_QUERIES = [
    "project=proj1", "project=PROJ1", "project!=proj1", "project~roj", "project=2024", "project=2024.0", "project>1000",
    "project<=2024", "project=nan", "project!=nan", "project=", "project!=", "project>=alpha", "status=finished",
    "status!=FINISHED", "status=7", "status>6", "status=nan", "status=", "status~n", "kind=run", "kind!=run",
    "project=proj1 status=finished", "project~roj val_auc>0.52", "project=no-such-project", f"project={HOSTILE}",
    "project~drop table", "project>'", "project=alpha status!=failed", "project=alpha kind=run",
]


def test_columns_filter_and_sort_as_the_in_memory_rules_do(open_catalog: Any, tmp_path: Path) -> None:
    # project, status and kind are filtered by their distinct values and sorted a value group at a time in
    # PostgreSQL (sqlquery.COLUMNS): case, numbers-as-text, NaN-like and missing values must come out as in memory,
    # every page of every sort too.
    root = _column_tree(tmp_path / "r")
    sorts = [None, "project", "-project", "status", "-status", "kind", "-val_auc"]
    with Catalog.open(root, use_cache=False) as reference, open_catalog(root) as cat:
        for query in COLUMN_QUERIES:
            flts = [parse_filter(query)] if HOSTILE in query else parse_filters(query)  # the whole name as one value
            for sort in sorts:
                order = parse_sort(sort) if sort else None
                whole = [r.id for r in reference.list(filters=flts, sort=order)]
                assert [r.id for r in cat.list(filters=flts, sort=order)] == whole, (query, sort)
                for limit, offset in ((1, 0), (4, 3), (5, 9), (3, 25)):
                    assert [r.id for r in cat.list(filters=flts, sort=order, limit=limit, offset=offset)] == whole[offset : offset + limit], (query, sort, limit, offset)
                    if 0 < offset <= len(whole):
                        page = cat.list(filters=flts, sort=order, limit=limit, offset=offset, after=whole[offset - 1])
                        assert [r.id for r in page] == whole[offset : offset + limit], (query, sort, limit, offset)
            assert cat.count(filters=flts) == len(reference.list(filters=flts)), query
        assert cat.projects() == reference.projects()


def test_postgres_lists_a_project_from_its_index_in_id_order(pg_url: str, tmp_path: Path) -> None:
    # The project picker at 1M records: a project's first page is an index range of runs (root, project, id),
    # not every match found and sorted; a status sort reads each value's records the same way.
    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(pg_url, "column_plans")
    root = _column_tree(tmp_path / "r")
    with SharedCatalog.open(url, root, refresh=True) as cat:
        for query, sort, index in (("project=alpha", None, "runs_project"), ("", "-status", "runs_status"), ("kind=run", None, "runs_kind"),
                                   ("project=alpha", "status", "runs_project_status")):
            first = cat.queries(filters=parse_filters(query) if query else [], sort=parse_sort(sort) if sort else None)[0]
            assert "WITH m AS" not in first[0], (query, sort, first)  # walked in order, not found first
            [plan] = _plans(cat, [first])
            assert index in plan, (query, sort, plan)
            assert not _sorts_everything(plan), (query, sort, plan)


def test_postgres_sorts_a_project_within_the_project(pg_url: str, tmp_path: Path) -> None:
    # The project picker, then a sort (s steps through the columns), at 1M records: the project's values of the key
    # are walked in order (vals_project_num, vals_project_text), not the project's records found first and joined
    # with every record's value of the key.
    import psycopg

    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(pg_url, "project_sort")
    root = _column_tree(tmp_path / "r")
    with SharedCatalog.open(url, root, refresh=True) as cat:
        for sort, index, key in (("-val_auc", "vals_project_num", "s.num"), ("val_auc", "vals_project_num", "s.num"),
                                 ("-run_number", "vals_project_num", "s.num"), ("name", "vals_project_text", "s.ltext"),
                                 ("-started", "vals_project_text", "s.ltext")):
            queries = cat.queries(filters=parse_filters("project=alpha"), sort=parse_sort(sort))
            [walked] = [q for q in queries if f"ORDER BY {key}" in q[0]]
            assert "OFFSET 0" not in walked[0], (sort, walked)  # walked in order, not found first
            [plan] = _plans(cat, [walked])
            assert index in plan, (sort, plan)
            assert not _sorts_everything(plan), (sort, plan)
        # with other filters on columns passing most of the project (by the planner's estimate), the same walk checks
        # them on the way; a sparse one, or one through vals, has the project's matches found first
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE runs")
        with Catalog.open(root, use_cache=False) as reference:
            for query, walked in (("project=alpha kind=run", True), ("project=alpha status!=failed", True),
                                  ("project=alpha status=failed", False), ("project=alpha val_auc>0.5", False)):
                flts, order = parse_filters(query), parse_sort("-val_auc")
                assert any("s.project" in q[0] for q in cat.queries(filters=flts, sort=order)) == walked, query
                whole = [r.id for r in reference.list(filters=flts, sort=order)]
                assert [r.id for r in cat.list(filters=flts, sort=order)] == whole, query
                assert [r.id for r in cat.list(filters=flts, sort=order, limit=2, offset=1, after=whole[0])] == whole[1:3], query
        # two projects pass, or the key's values carry no project: the plan before
        assert all("s.project" not in q[0] for q in cat.queries(filters=parse_filters("project=proj1"), sort=parse_sort("-val_auc")))
        assert all("s.project" not in q[0] for q in cat.queries(filters=parse_filters("project=alpha"), sort=parse_sort("config.lr")))


def test_postgres_walks_a_metric_under_a_broad_filter_without_counting(pg_url: str, tmp_path: Path) -> None:
    # A filter on a column under a metric sort: walked in the metric's order when it passes a large share of the
    # records (a page fills at once), its matches found first when it passes few. The share is the planner's
    # estimate: counting a status passing 937k of 1M records, and then all of them, took 0.2-0.45 s before a
    # page of 40 ms. Which is which is checked here; that both plans list alike, by the in-memory rules above.
    import psycopg

    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(pg_url, "share_plans")
    root = _column_tree(tmp_path / "r")
    with SharedCatalog.open(url, root, refresh=True) as cat:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE runs")  # what autovacuum does after a bulk index
        counted: list[Any] = []
        real_count = cat.count
        cat.count = lambda **kw: counted.append(kw) or real_count(**kw)  # type: ignore[method-assign]
        for query, walked in (("kind=run", True), ("status!=failed", True), ("status=failed", False), ("project=alpha status=failed", False)):
            [numbers] = [q for q in cat.queries(filters=parse_filters(query), sort=parse_sort("-val_auc")) if "s.num IS NOT NULL" in q[0]]
            assert ("OFFSET 0" not in numbers[0]) == walked, (query, numbers)
        assert counted == []


def test_postgres_reads_a_page_of_a_broad_detail_filter_by_walking_the_list(pg_url: str, tmp_path: Path) -> None:
    # A filter through vals (a config key, a metric range, a search) has no statistic to say its share: the first page
    # is looked for among a few pages of records in the list's order, a record at a time (config.optimizer.lr>0.001
    # on half of 1M records: 0.9 s found first, 30-50 ms walked); too few there, its matches are found first.
    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(pg_url, "walk_plans")
    root = _tree(tmp_path / "r")
    with Catalog.open(root, use_cache=False) as reference, SharedCatalog.open(url, root, refresh=True) as cat:
        ran: list[str] = []
        real_execute = cat.conn.execute
        cat.conn.execute = lambda sql, *a, **kw: ran.append(sql) or real_execute(sql, *a, **kw)  # type: ignore[method-assign]
        for query, sort, limit, walked in (("config.lr>0.001", None, 5, True), ("config.lr>0.001", "-val_auc", 5, True),
                                           ("config.opt=adam", "name", 3, True), ("config.note=nan", None, 2, False),
                                           ("config.note=nan", "-val_auc", 2, False)):
            ran.clear()
            flts, order = parse_filters(query), parse_sort(sort) if sort else None
            assert [r.id for r in cat.list(filters=flts, sort=order, limit=limit)] == [r.id for r in reference.list(filters=flts, sort=order)][:limit]
            found_first = [sql for sql in ran if "WITH m AS" in sql or "OFFSET 0) m" in sql]
            assert any(") b JOIN runs r" in sql for sql in ran), (query, sort)  # the walk is always tried first
            assert (not found_first) == walked, (query, sort, found_first)
        flts = parse_filters("config.lr>0.001")
        assert [r.id for r in cat.list(kind="run", filters=flts, limit=4)] == [r.id for r in reference.list(kind="run", filters=flts)][:4]
        import runsift.core.pgcatalog as pgcatalog

        saved, pgcatalog.WALK_MAX = pgcatalog.WALK_MAX, 3  # a page bigger than the walk's most: found first at once
        try:
            ran.clear()
            assert [r.id for r in cat.list(filters=flts, limit=5)] == [r.id for r in reference.list(filters=flts)][:5]
            assert not any(") b JOIN runs r" in sql for sql in ran)
        finally:
            pgcatalog.WALK_MAX = saved


TIE_BS = ["0", "-0.0", "'0'", "0", "128", "true", "Adam", None, ".nan", "'1e3'", "adam", "1", "1.0", "64", "64.0", "'1'", "True", "0.0"]
"""``config.bs`` of the tie tree's runs, in turn: few values, large ties, and what makes one sort value: ``0``, ``-0.0``,
``0.0`` and ``'0'`` one number (the first, a third of the runs), ``1``, ``1.0`` and ``'1'`` another, ``true`` a text
(``True`` too), ``Adam`` and ``adam`` one text, NaN and a missing key last."""


def _ties_tree(root: Path) -> Path:
    """60 runs in three projects (ids begin with the project, so a value's records cluster in id order) whose ``config.bs``
    and ``config.opt`` take few values with large ties, as a config key like ``batch_size`` does. The first project holds
    no 128 and no ``sgd`` (half the runs): a list in id order reaches those past its records."""
    for i in range(60):
        project = i // 20
        bs = TIE_BS[(i * 7) % len(TIE_BS)]
        if project == 0 and bs == "128":
            bs = "64.0"
        opt = ["sgd", "SGD", "sgd", "lion"][(i // 2) % 4] if project else ["Adam", "adam", "ADAM"][i % 3]
        config = f"opt: {opt}\nlr: {0.001 * (1 + i % 2)}\n" + (f"bs: {bs}\n" if bs is not None else "")
        final = {"val_auc": 0.5 + (i * 37 % 60) / 1000}  # more values than a sort splits into groups
        make_run(root / f"p{project}" / f"2025-03-{1 + i % 28:02d}_08-00-00_run-{i:03d}",
                 metrics={"final": final, "status": "failed" if i % 6 == 0 else "finished"}, config=config)
    return root


TIE_QUERIES = ["", "project=p1", "project=p0", "kind=run", "status!=failed", "status=failed", "project~p", "config.opt=adam", "config.bs>=64"]
TIE_SORTS = ["config.bs", "-config.bs", "config.opt", "-config.opt", "problems", "-val_auc"]
TIE_PAGES = ((1, 0), (2, 0), (3, 1), (4, 0), (2, 5), (5, 22), (7, 20), (4, 38), (20, 0), (60, 0), (2, 55), (10, 45), (3, 14))


@pytest.mark.parametrize("walk_max", [None, 30, 8])
def test_few_valued_sorts_page_as_the_in_memory_rules_do(
    open_catalog: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, walk_max: int | None,
) -> None:
    # A sort by a key with few values (a config key like batch_size) has large tie groups, ordered by id, and its values
    # mix numbers, texts, NaN and missing ones. Every page, by offset and after the row before it, across tie groups and
    # slices, must be the in-memory list's, under column, kind, search and vals filters. A shared catalog reads such a
    # page a tie group at a time: walked (the list's records by id, each probed for the group), found first, or found
    # first after a walk that did not fill the page (walk_max: how many records a walk may look at; None, as shipped,
    # walks no list this small).
    import runsift.core.pgcatalog as pgcatalog

    root = _ties_tree(tmp_path / "r")
    with Catalog.open(root, use_cache=False) as reference, open_catalog(root) as cat:
        if walk_max is not None and isinstance(cat, Catalog):
            pytest.skip("the embedded catalog sorts in memory: nothing to walk")
        ran: list[str] = []
        if not isinstance(cat, Catalog):
            import psycopg

            with psycopg.connect(cat.url, autocommit=True) as conn:
                conn.execute("ANALYZE runs, vals")  # the estimates a walk is chosen by
            if walk_max is not None:
                monkeypatch.setattr(pgcatalog, "WALK_MAX", walk_max)
                real_execute = cat.conn.execute
                cat.conn.execute = lambda sql, *a, **kw: ran.append(sql) or real_execute(sql, *a, **kw)  # type: ignore[method-assign]
        for query in TIE_QUERIES:
            flts = parse_filters(query) if query else []
            for sort in TIE_SORTS:
                order = parse_sort(sort)
                whole = [r.id for r in reference.list(filters=flts, sort=order)]
                assert [r.id for r in cat.list(filters=flts, sort=order)] == whole, (query, sort)
                for limit, offset in TIE_PAGES:
                    page = [r.id for r in cat.list(filters=flts, sort=order, limit=limit, offset=offset)]
                    assert page == whole[offset : offset + limit], (query, sort, limit, offset)
                    if 0 < offset <= len(whole):
                        page = [r.id for r in cat.list(filters=flts, sort=order, limit=limit, offset=offset, after=whole[offset - 1])]
                        assert page == whole[offset : offset + limit], (query, sort, limit, offset, "after")
        if ran:  # each way of reading a group was taken: walked, found first, and (looking at 8 records) found after a walk
            found = ("JOIN vals s ON s.rid = r.rid AND s.key = %s AND s.num = %s", "JOIN vals s ON s.rid = r.rid AND s.key = %s AND s.sortclass = 1")
            kinds = ["walk" if "s.rid = b.rid OFFSET 0) ORDER BY b.sid" in sql else "found" if any(f in sql for f in found) else "" for sql in ran]
            assert "walk" in kinds and "found" in kinds
            assert walk_max != 8 or ("walk", "found") in itertools.pairwise(kinds)  # a walk that did not fill its page


def test_postgres_pages_a_few_valued_sort_a_tie_group_at_a_time(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A sort by a key with few values (config.batch_size at 1M: a first tie group of 265k records) read its slice in
    # vals_num's order, and every tie of the first value was read and sorted by id before the first row could be (0.43-0.71 s
    # for the app's page). Its first page is now the first group's records walked by id, a probe of the group's index
    # each, with no sort at all; a metric, whose values are many, is read in the index's order as before.
    import psycopg

    import runsift.core.pgcatalog as pgcatalog
    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(pg_url, "tie_plans")
    root = _ties_tree(tmp_path / "r")
    with Catalog.open(root, use_cache=False) as reference, SharedCatalog.open(url, root, refresh=True) as cat:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE runs, vals")
        monkeypatch.setattr(pgcatalog, "WALK_MAX", 30)  # the list (60 records) is larger than a walk looks at
        ran: list[tuple[str, Any]] = []
        real_execute = cat.conn.execute
        cat.conn.execute = lambda sql, *a, **kw: ran.append((sql, a[0] if a else ())) or real_execute(sql, *a, **kw)  # type: ignore[method-assign]
        for sort, index in (("config.bs", "vals_num"), ("config.opt", "vals_class_text"), ("-config.opt", "vals_class_text")):
            ran.clear()
            order = parse_sort(sort)
            assert [r.id for r in cat.list(sort=order, limit=2)] == [r.id for r in reference.list(sort=order)][:2]
            assert not any("ORDER BY s." in sql for sql, _ in ran), sort  # nothing read in the order of the sort value
            [(walk, args)] = [(sql, args) for sql, args in ran if "s.rid = b.rid OFFSET 0" in sql]
            for setting in ("enable_seqscan", "enable_bitmapscan"):
                real_execute(f"SET {setting} = off")
            plan = "\n".join(row[0] for row in real_execute(f"EXPLAIN {walk}", args).fetchall())
            cat.conn.rollback()
            assert "runs_by_id" in plan and index in plan, (sort, plan)
            assert "Sort" not in plan, (sort, plan)
        ran.clear()
        assert [r.id for r in cat.list(sort=parse_sort("-val_auc"), limit=2)] == [r.id for r in reference.list(sort=parse_sort("-val_auc"))][:2]
        assert any("ORDER BY s.num DESC" in sql for sql, _ in ran)


def _older_catalog(pg_url: str, name: str, tmp_path: Path) -> tuple[str, Path]:
    """A catalog of :func:`_project_tree` as an earlier runsift left it (no ``vals.project``, no trigger, no indexes
    by project), and its root."""
    import psycopg

    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(pg_url, name)
    root = _project_tree(tmp_path / "r")
    with SharedCatalog.open(url, root, refresh=True):
        pass
    with psycopg.connect(url) as conn:
        conn.execute("DROP INDEX vals_project_num, vals_project_text; DROP TRIGGER vals_project ON vals; "
                     "ALTER TABLE vals DROP COLUMN project")
    return url, root


def _vacuumed(url: str) -> bool:
    """Whether ``vals`` was vacuumed by hand (an upgrade's vacuum; autovacuum counts apart)."""
    import psycopg

    with psycopg.connect(url) as conn:
        return bool(conn.execute("SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'vals'").fetchone()[0])


def _project_tree(root: Path) -> Path:
    """Two projects whose runs' metric runs in neither id order nor its reverse; one run logs no ``val_auc``."""
    for i in range(12):
        final = {"val_auc": 0.5 + (i * 5 % 12) / 100} if i != 4 else {"loss": 0.3}
        make_run(root / ("alpha" if i % 2 else "beta") / f"2025-02-{1 + i:02d}_09-00-00_run-{i:03d}", metrics={"final": final})
    return root


def _same_project_lists(cat: Any, root: Path) -> None:
    """A project's lists sorted by a metric and by name, whole and by page, are the in-memory catalog's."""
    flts = parse_filters("project=alpha")
    for order in (parse_sort("-val_auc"), parse_sort("name")):
        with Catalog.open(root, use_cache=False) as reference:
            whole = [r.id for r in reference.list(filters=flts, sort=order)]
        assert len(whole) > 3
        if order.key == "val_auc":  # by name (a run container's folder), a project's list is in id order
            assert whole != sorted(whole) and whole != sorted(whole, reverse=True), whole
        assert [r.id for r in cat.list(filters=flts, sort=order)] == whole, order
        assert [r.id for r in cat.list(filters=flts, sort=order, limit=2, offset=1, after=whole[0])] == whole[1:3], order


def test_an_older_catalog_and_an_older_indexer_still_sort_a_project_right(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A catalog filled before the values carried their project: a reader lists it as before, an indexer of this
    # version fills in every value's project and builds the indexes, and values an older indexer still writes
    # without a project get theirs from the trigger. Missed, a run would silently drop out of its project's list.

    import runsift.core.pgcatalog as pgcatalog
    from runsift.core.pgcatalog import SharedCatalog

    url, root = _older_catalog(pg_url, "old_catalog", tmp_path)
    with SharedCatalog.open(url, root_name="r") as reader:
        assert not reader._by_project()
        _same_project_lists(reader, root)
        with SharedCatalog.open(url, root, index=True):  # an indexer of this version upgrades the catalog
            pass
        assert _vacuumed(url)  # and clears away the values it rewrote, not leaving them to autovacuum
        reader.refresh()
        assert reader._by_project()
        _same_project_lists(reader, root)
    make_run(root / "alpha" / "2025-03-01_09-00-00_run-late", metrics={"final": {"val_auc": 0.99}})
    with monkeypatch.context() as patched:
        patched.setattr(pgcatalog, "project_values", lambda key: None)  # an indexer writing no project
        with SharedCatalog.open(url, root, refresh=True):
            pass
    with SharedCatalog.open(url, root_name="r") as reader:
        assert reader.list(filters=parse_filters("project=alpha"), sort=parse_sort("-val_auc"), limit=1)[0].id.endswith("run-late")
        _same_project_lists(reader, root)


def test_runsift_index_says_when_it_upgrades_a_catalog(pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Minutes of silence at 1M records would look like a hang: the indexer says it is upgrading, once.
    from runsift.tui.cli import main

    url, root = _older_catalog(pg_url, "upgrade_notice", tmp_path)
    assert main(["index", str(root), "--catalog", url]) == 0
    assert "upgrading the catalog's tables" in capsys.readouterr().err
    assert main(["index", str(root), "--catalog", url]) == 0
    assert "upgrading" not in capsys.readouterr().err


def test_an_upgrade_stopped_before_its_vacuum_is_done_again_whole(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:

    import runsift.core.pgschema as pgschema
    from runsift.core.pgcatalog import SharedCatalog

    url, root = _older_catalog(pg_url, "stopped_upgrade", tmp_path)

    def stopped(conn: Any) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(pgschema, "vacuum", stopped)
        with pytest.raises(KeyboardInterrupt):
            SharedCatalog.open(url, root, index=True)
    with SharedCatalog.open(url, root_name="r") as reader:
        assert not reader._by_project()  # no indexes yet: the plan before
        _same_project_lists(reader, root)
    with SharedCatalog.open(url, root, index=True) as cat:
        assert cat._by_project()
    assert _vacuumed(url)


def test_a_list_started_before_an_upgrade_ends_keeps_the_plan_its_snapshot_allows(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A list reads in one snapshot; an upgrade committing while it runs must not switch it to indexes whose
    # values it cannot see filled in (it listed the project's records in id order, not by the metric).
    from runsift.core.pgcatalog import SharedCatalog

    url, root = _older_catalog(pg_url, "snapshot_upgrade", tmp_path)
    reader = SharedCatalog.open(url, root_name="r")
    checked = SharedCatalog._by_project

    def upgraded_meanwhile(self: Any) -> bool:
        if self is reader and self._project_index is None:  # the list's snapshot is taken: the upgrade commits now
            upgrade = threading.Thread(target=lambda: SharedCatalog.open(url, root, index=True).close())
            upgrade.start()
            upgrade.join(60)
        return checked(self)

    monkeypatch.setattr(SharedCatalog, "_by_project", upgraded_meanwhile)
    with reader:
        _same_project_lists(reader, root)


@pytest.mark.parametrize("batch", ["upsert", "removal"])
def test_an_upgrade_waits_for_an_indexers_batch_without_a_deadlock(pg_url: str, tmp_path: Path, batch: str) -> None:
    # A batch of records writes runs, then vals; a batch of removals vals, then runs. An upgrade holding one of the
    # two while waiting for the other deadlocked with one kind or the other: one of them was aborted (the batch's
    # records, or a minutes-long upgrade, lost).
    import psycopg

    from runsift.core.pgcatalog import SharedCatalog

    url, root = _older_catalog(pg_url, f"upgrade_deadlock_{batch}", tmp_path)
    failed: list[BaseException] = []

    def upgrade() -> None:
        try:
            SharedCatalog.open(url, root, index=True).close()
        except BaseException as exc:  # reported by the test below
            failed.append(exc)

    statements = ["UPDATE runs SET fingerprint = fingerprint WHERE rid = %s", "DELETE FROM vals WHERE rid = %s"]
    with psycopg.connect(url) as conn:
        rid = conn.execute("SELECT rid FROM runs LIMIT 1").fetchone()[0]
        first, second = statements if batch == "upsert" else [statements[1], "DELETE FROM runs WHERE rid = %s"]
        conn.execute(first, (rid,))  # an indexer's batch, half done
        thread = threading.Thread(target=upgrade)
        thread.start()
        threading.Event().wait(1.0)  # the upgrade asks for its locks meanwhile
        conn.execute(second, (rid,))  # the batch goes on to the other table
        conn.commit()
        thread.join(60)
    assert not failed, failed
    with SharedCatalog.open(url, root_name="r") as reader:
        assert reader._by_project()


def test_an_earlier_versions_trigger_or_index_is_not_trusted_and_is_replaced(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An indexer of an earlier version (whose trigger and index covered metrics alone) may put its own back while an
    # upgrade runs. Its trigger then leaves a name's or a start's project empty: a list by the indexes would drop
    # such runs to the end. Readers keep the plan before until an indexer of this version puts both right.
    import psycopg

    import runsift.core.pgcatalog as pgcatalog
    from runsift.core.pgcatalog import SharedCatalog

    url = _fresh_db(pg_url, "stale_trigger")
    root = _project_tree(tmp_path / "r")
    with SharedCatalog.open(url, root, refresh=True):
        pass
    with psycopg.connect(url) as conn:
        conn.execute("DROP INDEX vals_project_num; DROP TRIGGER vals_project ON vals; "
                     "CREATE TRIGGER vals_project BEFORE INSERT ON vals FOR EACH ROW WHEN (NEW.project IS NULL AND NEW.key >= 'm:' "
                     "AND NEW.key < 'm;') EXECUTE FUNCTION runsift_vals_project(); "
                     "CREATE INDEX vals_project_num ON vals (key, project, num, rid) WHERE key >= 'm:' AND key < 'm;'")
    make_run(root / "alpha" / "2025-01-01_09-00-00_run-early", metrics={"final": {"val_auc": 0.5}})
    with monkeypatch.context() as patched:  # written by the earlier indexer: only its metrics get a project
        patched.setattr(pgcatalog, "project_values", lambda key: "m" if key.startswith("m:") else None)
        patched.setattr(pgcatalog, "SCHEMA_CURRENT", "SELECT true")
        with SharedCatalog.open(url, root, refresh=True):
            pass
    with SharedCatalog.open(url, root_name="r") as reader:
        assert not reader._by_project()
        _same_project_lists(reader, root)
    with SharedCatalog.open(url, root, index=True):  # an indexer of this version
        pass
    with SharedCatalog.open(url, root_name="r") as reader:
        assert reader._by_project()
        _same_project_lists(reader, root)
        assert reader.list(filters=parse_filters("project=alpha"), sort=parse_sort("name"), limit=1)[0].id.endswith("run-early")


def test_readers_read_on_while_an_upgrade_fills_in_the_projects(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # At 1M records the fill takes minutes: readers must not wait for it (adding the column, which locks vals
    # against them, commits first), and see the plan before until the indexes are there.
    import psycopg

    import runsift.core.pgschema as pgschema
    from runsift.core.pgcatalog import SharedCatalog

    url, root = _older_catalog(pg_url, "upgrade_reads", tmp_path)
    with psycopg.connect(url, autocommit=True) as gate:
        gate.execute("SELECT pg_advisory_lock(99)")  # the fill waits for it, inside its transaction
        monkeypatch.setattr(pgschema, "FILL_PROJECTS", pgschema.FILL_PROJECTS + "; SELECT pg_advisory_xact_lock(99)")
        upgrade = threading.Thread(target=lambda: SharedCatalog.open(url, root, index=True).close())
        upgrade.start()
        try:
            waiting = "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 99 AND NOT granted)"
            for _ in range(200):
                if gate.execute(waiting).fetchone()[0]:
                    break
                threading.Event().wait(0.05)
            else:
                raise AssertionError("the upgrade never reached its fill")
            with SharedCatalog.open(url, root_name="r") as reader:
                reader.conn.execute("SET statement_timeout = '3s'")  # blocked by a lock, the list fails instead of hanging
                reader.conn.commit()
                assert not reader._by_project()
                _same_project_lists(reader, root)
        finally:
            gate.execute("SELECT pg_advisory_unlock(99)")
            upgrade.join(30)
    with SharedCatalog.open(url, root_name="r") as reader:
        assert reader._by_project()
        _same_project_lists(reader, root)


def test_postgres_probes_each_detail_key_rather_than_joining_every_value(pg_url: str, tmp_path: Path) -> None:
    # ls's table asks which detail keys a root has. As an EXISTS, the planner made it one join of every value
    # with the root's records (32 s at 1M records); a subquery with a LIMIT is run key by key, one probe each.
    from runsift.core.pgcatalog import SharedCatalog
    from runsift.core.pgschema import FACET_KEYS

    url = _fresh_db(pg_url, "facet_key_plans")
    root = _tree(tmp_path / "r")
    with SharedCatalog.open(url, root, refresh=True) as cat:
        plan = "\n".join(row[0] for row in cat.conn.execute(f"EXPLAIN {FACET_KEYS}", ("r",)).fetchall())
        cat.conn.rollback()
        # the probe stays a subplan filtering each key found (pulled up into a join, it would filter nothing)
        assert re.search(r"Filter: .*\(SubPlan \d+\) IS NOT NULL", plan), plan
        assert cat.facet_keys() and "config.lr" in cat.facet_keys()


def test_metric_names_come_most_recorded_first(open_catalog: Any, tmp_path: Path) -> None:
    # The app's default columns start with the most recorded metric: five runs log only x, two log y (one with z
    # too). Counted per run, not per distinct list of names (how PostgreSQL groups them), x comes first.
    root = tmp_path / "r"
    finals = [{"x": 0.1}] * 5 + [{"y": 0.2}, {"y": 0.3, "z": 0.4}]
    for i, final in enumerate(finals):
        make_run(root / "p" / f"2025-04-01_10-00-00_run-{i:03d}", metrics={"final": final})
    with Catalog.open(root, use_cache=False) as reference, open_catalog(root) as cat:
        assert reference.metric_names() == ["x", "y", "z"]
        assert cat.metric_names() == ["x", "y", "z"]


def test_a_list_and_its_column_values_see_one_catalog(pg_url: str, tmp_path: Path) -> None:
    # A column filter is two statements (its values, then its rows). Another host's indexer committing between
    # them must not give a list no moment of the catalog had: both of its new runs, or neither.
    from runsift.core.pgcatalog import SharedCatalog

    root = tmp_path / "r"
    for i in range(4):
        make_run(root / "alpha" / f"2025-01-0{i + 1}_10-00-00_run-{i}")
    url = _fresh_db(pg_url, "one_snapshot")
    with SharedCatalog.open(url, root, refresh=True):
        pass
    reader = SharedCatalog.open(url, root_name="r")
    scan = reader._column_values
    fired: list[bool] = []

    def then_another_host_indexes(column: str) -> list[str] | None:
        values = scan(column)
        if not fired:
            fired.append(True)
            new = f"2025-01-{9 + len(asks):02d}_10-00-00_run-new"
            make_run(root / "alpha" / new)
            make_run(root / f"beta{len(asks)}" / new)  # a project the skip scan did not see
            with SharedCatalog.open(url, root, refresh=True):
                pass
        return values

    reader._column_values = then_another_host_indexes  # type: ignore[method-assign]
    asks = [lambda: len(reader.list(filters=[parse_filter("project!=zzz")])), lambda: reader.count(filters=[parse_filter("project!=zzz")])]
    held = 4
    while asks:
        fired.clear()
        reader._forget()
        got = asks.pop(0)()
        assert got in (held, held + 2), (got, held)  # before both new runs, or after both
        held += 2
    reader._column_values = scan  # type: ignore[method-assign]
    reader._forget()
    assert reader.count(filters=[parse_filter("project!=zzz")]) == 8  # the next read sees them all
    reader.close()


@pytest.mark.parametrize("args", [
    ["--format", "json"], ["--format", "json", "--sort", "-val_auc"], ["--format", "json", "--filter", "config.lr>0.001", "--sort", "name"],
    ["--format", "json", "--filter", "project=none"], ["--format", "csv", "--sort", "-status"],
    ["--format", "csv", "--columns", "name,config.lr,val_auc,path", "--sort", "config.lr"],
])
def test_ls_of_a_shared_catalog_is_written_a_page_at_a_time_and_is_the_same_list(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str],
) -> None:
    # A million-record ls --format json or csv is written a page at a time (keyset), never held whole: byte for byte
    # what the embedded catalog prints, however the pages fall (4 rows here, so every list spans several).
    import runsift.tui.cli as cli

    url = _fresh_db(pg_url, f"lspages{abs(hash(tuple(args))) % 10_000}")
    root = _tree(tmp_path / "r")
    assert cli.main(["index", str(root), "--catalog", url, "-q"]) == 0
    capsys.readouterr()
    asked: list[int] = []
    pages = cli.pages

    def counted(*a: Any, **kw: Any) -> Any:
        for page in pages(*a, **kw):
            asked.append(len(page))
            yield page

    monkeypatch.setattr(cli, "LS_PAGE_ROWS", 4)
    monkeypatch.setattr(cli, "LS_WHOLE_MAX", 3)
    monkeypatch.setattr(cli, "pages", counted)
    assert cli.main(["ls", str(root), "--catalog", url, "-q", *args]) == 0
    shared = capsys.readouterr().out
    assert cli.main(["ls", str(root), "--no-cache", "-q", *args]) == 0
    assert shared == capsys.readouterr().out
    listed = len(json.loads(shared)) if "json" in args else len(shared.splitlines()) - 1
    assert all(n <= 4 for n in asked) and sum(asked) == listed
    assert len(asked) > 1 or not listed


def test_references_resolve_alike_on_both_backends(open_catalog: Any, tmp_path: Path) -> None:
    # show/diff/explain name runs by id, path, the end of an id or part of its last name: the database answers each
    # of these by a query (listing every id took 13 s at 1M records), and must answer them as the in-memory rules do.
    from runsift.core.catalog import AmbiguousRun

    root = _tree(tmp_path / "r")
    make_run(root / "proj2" / "100%_done_run")  # LIKE's own characters, matched literally
    make_run(root / "proj2" / "100x_done_run")
    refs = ["proj1/2025-01-02_10-00-00_run-001", str(root / "proj1" / "2025-01-02_10-00-00_run-001"), "run-001",
            "10-00-00_run-001", "run-00", "2025-01-02_10-00-00_run-001/", "100%_done_run", "100_", "%_done", "%_done_run", "run-0011",
            "zzz", "proj9/run-001", HOSTILE, "", "run-1"]
    with Catalog.open(root, use_cache=False) as reference, open_catalog(root) as cat:
        for ref in refs:
            for kind in (None, "run", "sweep"):
                want: Any
                try:
                    want = reference.resolve(ref, kind=kind)
                except (AmbiguousRun, RunNotFound) as exc:
                    want = (type(exc), str(exc) if isinstance(exc, AmbiguousRun) else None)
                try:
                    got = cat.resolve(ref, kind=kind)
                except (AmbiguousRun, RunNotFound) as exc:
                    got = (type(exc), str(exc) if isinstance(exc, AmbiguousRun) else None)
                assert got == want, (ref, kind)
        with pytest.raises(RunNotFound) as typo:
            cat.resolve("2025-01-02_10-00-00_run-0001")
        assert "proj1/2025-01-02_10-00-00_run-001" in typo.value.candidates  # "did you mean" still finds a near name

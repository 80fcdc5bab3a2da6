"""The shared catalog's tables and indexes in PostgreSQL, and the statements that keep them fit for its queries.

:mod:`runsift.core.pgcatalog` reads and writes them; the SQL of lists and filters is :mod:`runsift.core.sqlquery`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .sqlquery import PROJECT_FIELDS, field_values, metric_values

DDL = f"""
CREATE TABLE IF NOT EXISTS roots (name TEXT PRIMARY KEY, host TEXT NOT NULL, path TEXT NOT NULL, indexed_at DOUBLE PRECISION);
CREATE TABLE IF NOT EXISTS runs (
    rid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE, root TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, project TEXT, name TEXT, rel TEXT NOT NULL,
    status TEXT, started TEXT, run_number BIGINT, sweep TEXT, n_problems INTEGER NOT NULL, problems TEXT NOT NULL,
    metrics TEXT NOT NULL, fingerprint TEXT NOT NULL, deleted BOOLEAN NOT NULL, search TEXT NOT NULL,
    detail TEXT NOT NULL, host TEXT NOT NULL, path TEXT NOT NULL, metric_names TEXT[] NOT NULL,
    PRIMARY KEY (root, id)
);
CREATE TABLE IF NOT EXISTS vals (
    rid BIGINT NOT NULL, key TEXT COLLATE "C" NOT NULL, ctext TEXT COLLATE "C", ltext TEXT COLLATE "C",
    num DOUBLE PRECISION, sortclass SMALLINT NOT NULL,
    PRIMARY KEY (rid, key)
);
ALTER TABLE vals ADD COLUMN IF NOT EXISTS project TEXT COLLATE "C";
CREATE OR REPLACE FUNCTION runsift_vals_project() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT project INTO NEW.project FROM runs WHERE rid = NEW.rid;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS vals_project ON vals;
CREATE TRIGGER vals_project BEFORE INSERT ON vals FOR EACH ROW
    WHEN (NEW.project IS NULL AND (({metric_values("NEW.key")}) OR {field_values("NEW.key")}))
    EXECUTE FUNCTION runsift_vals_project();
CREATE INDEX IF NOT EXISTS vals_num ON vals (key, num, rid);
DROP INDEX IF EXISTS vals_text;
CREATE INDEX IF NOT EXISTS vals_class_text ON vals (key, sortclass, ltext, rid);
CREATE INDEX IF NOT EXISTS runs_by_id ON runs (root, id COLLATE "C");
CREATE INDEX IF NOT EXISTS runs_rid_cover ON runs (rid) INCLUDE (root, deleted, id);
CREATE INDEX IF NOT EXISTS runs_project ON runs (root, project, id COLLATE "C") INCLUDE (deleted, rid);
CREATE INDEX IF NOT EXISTS runs_status ON runs (root, status, id COLLATE "C") INCLUDE (deleted, rid);
CREATE INDEX IF NOT EXISTS runs_kind ON runs (root, kind, id COLLATE "C") INCLUDE (deleted, rid);
CREATE INDEX IF NOT EXISTS runs_project_status ON runs (root, project, status, id COLLATE "C") INCLUDE (deleted, rid);
CREATE INDEX IF NOT EXISTS runs_metrics ON runs (root, kind) INCLUDE (deleted, metric_names);
CREATE STATISTICS IF NOT EXISTS vals_key_text (mcv) ON key, ltext FROM vals;
ALTER STATISTICS vals_key_text SET STATISTICS 1000;
"""
# vals holds ~70 rows a record, so it names its record by runs.rid (8 bytes) rather than (root, id): its
# three indexes were two thirds of the catalog's size. No foreign key from vals to runs: its check costs an
# eighth of bulk indexing, and a record's vals are deleted and written in the same transaction as its row.
# vals_num serves metric and numeric filters and sorts (val_auc>0.9, -val_auc: the numbers slice of a sort);
# vals_project_num (metric values only, each with its record's project): a project's records sorted by a metric,
# walked in the metric's order within the project rather than found first and joined with every value of the
# metric (project=fraud-model sorted -val_auc at 1M: a hash join with 547k values, 234-395 ms). The project is
# written with each metric value; the trigger fills it when an older runsift's indexer writes the values without
# it, and FILL_PROJECTS the values stored before the column was added (once, when an indexer upgrades the
# catalog, before the indexes, so a reader that sees the indexes sees every value's project). vals_project_text:
# the same for the texts of a name or a start (a project sorted by name: 0.5-3 s at 1M, a join with every name).
# vals_class_text equality filters (project=fraud-model, one probe a sort class) and the texts slice of a sort
# (sort by name; and a metric's texts slice, empty, is one probe rather than a walk of its every number);
# (rid, key) the per-record lookups of EXISTS. It replaces (key, ltext, rid), dropped when an indexer opens.
# runs_by_id: lists by id (the first frame, a filtered page, the missing-values slice of a sort) in an index's
# order; the primary key's id has the database's collation, not the byte order ids sort in everywhere else.
# runs_rid_cover: a filtered list finds its matches in vals first, then their root, deleted flag and id by rid; from
# this narrow index alone, not the runs rows (at 1M records a filtered page 0.6 -> 0.4 s; 85 MB).
# runs_project, runs_status, runs_kind: a filter or sort on these few-valued fields is the column's values
# (sqlquery.COLUMNS), so its records come from one of these in id order, and their distinct values from a skip scan;
# with rid, a sparse project's records are found first from the index alone (to be sorted by a metric).
# runs_project_status: a project sorted by status (one slice a status, each by id), or filtered by both: walking
# runs_status for one status and dropping the other projects' records took 187-222 ms at 1M (1.4 s cold), 18-22 ms so.
# runs_metrics: the metric names of a root's records, counted from an index (109 MB at 1M) and not the runs rows
# with their record JSON (6.5 GB): what a fresh process's first keystroke waits for, 0.48-0.51 -> 0.27-0.32 s.
# vals_key_text: how many records have project=fraud-model is not how common 'F:project' times how common
# 'fraud-model' is; estimated so (1 in 200 at 100k records), a filtered sort walked 15k records one by one
# (170 ms) instead of reading the sort's index in order (17 ms). ANALYZE then takes ~3 s, not ~1 s.

HELD = f"({metric_values('key')}) OR {field_values('key')}"
"""The ``vals`` rows that carry their record's project: a metric's, and the fields a project's list is sorted by
(``sqlquery.METRIC_VALUES``, ``sqlquery.FIELD_VALUES``; the trigger in :data:`DDL` names them too)."""
FILL_PROJECTS = f"""
UPDATE vals v SET project = r.project FROM runs r
WHERE v.rid = r.rid AND ({HELD}) AND v.project IS NULL AND r.project IS NOT NULL
"""
"""Gives the values stored before ``vals.project`` was added their record's project (run after :data:`DDL`)."""
PROJECT_INDEXES = (
    f"CREATE INDEX IF NOT EXISTS vals_project_num ON vals (key, project, num, rid) WHERE {HELD}",
    f"CREATE INDEX IF NOT EXISTS vals_project_text ON vals (key, project, sortclass, ltext, rid) WHERE {field_values('key')}",
)
"""Made last, together: a reader that sees them sees every value's project (:data:`FILL_PROJECTS` ran, the trigger
fills the rest)."""
LOCK = 7418
"""The advisory lock indexers take to create or upgrade the tables one at a time."""
SEARCH_INDEX = "CREATE INDEX IF NOT EXISTS runs_search_trgm ON runs USING gin (search {schema}.gin_trgm_ops)"
"""A bare word typed in the filter is ``search LIKE '%word%'`` (id, name and project): read through this trigram index
rather than scanning every record (``run-00001`` at 1M records: 0.38-0.41 s). PostgreSQL's own ``pg_trgm``, a
trusted extension, in whatever schema it was created in; a catalog whose role may not create it searches by
scanning, as before."""
TRGM_SCHEMA = "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
SEARCH_INDEX_MISSING = """
SELECT to_regclass('runs_search_trgm') IS NULL AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')
"""


def _covers(definition: str) -> str:
    """SQL true when ``definition`` (an index's or the trigger's, as PostgreSQL prints it) names every one of
    :data:`~runsift.core.sqlquery.PROJECT_FIELDS` (earlier ones covered metrics alone, or fewer fields)."""
    return " AND ".join(f"{definition} LIKE '%{field}%'" for field in PROJECT_FIELDS)


PROJECT_PLAN = f"""
(SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname IN ('vals_project_num', 'vals_project_text')
        AND {_covers('indexdef')}) = 2
AND EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'vals_project' AND tgrelid = to_regclass('vals')
            AND {_covers('pg_get_triggerdef(oid)')})
"""
"""True when a list may walk the indexes by project: both are there as this version makes them (built once every
value held its project), and so is the trigger that fills in the project of values written without one. Read in
``pg_indexes``, within the list's snapshot. An index or a trigger an earlier version made counts as missing: an
indexer of that version, opening during an upgrade, may have put back its own (of metrics alone)."""

SCHEMA_CURRENT = f"""
SELECT (SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema()
        AND indexname IN ('vals_num', 'vals_class_text', 'runs_by_id', 'runs_rid_cover', 'runs_project', 'runs_status',
                          'runs_kind', 'runs_metrics', 'vals_project_num', 'vals_project_text', 'runs_project_status')) = 11
   AND NOT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'vals_text')
   AND EXISTS (SELECT 1 FROM pg_statistic_ext WHERE stxname = 'vals_key_text' AND stxstattarget = 1000)
   AND ({PROJECT_PLAN})
"""
"""True when every table, index and statistics object of :data:`DDL` is there as it makes them (nothing to do)."""

FACET_KEYS = """
WITH RECURSIVE k(key) AS (
    SELECT min(key) FROM vals WHERE key > 'f:' AND key < 'f;'
    UNION ALL
    SELECT (SELECT min(v.key) FROM vals v WHERE v.key > k.key AND v.key < 'f;') FROM k WHERE k.key IS NOT NULL
)
SELECT substr(k.key, 3) FROM k
WHERE k.key IS NOT NULL AND (SELECT 1 FROM vals v JOIN runs r ON r.rid = v.rid WHERE v.key = k.key AND r.root = %s LIMIT 1) IS NOT NULL
ORDER BY 1
"""
"""Distinct detail keys of one root: a skip scan of the ``vals_num`` index (one probe a key, not one a value),
each key kept if some record of the root has it. That test is a subquery with a LIMIT, which the planner runs
key by key: as an EXISTS it was made one semi-join of every value (70M at 1M records) with the root's records,
32 s, and ``ls``'s table asks for the keys (1 ms now)."""


STALE_INDEXES = f"""
SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname IN ('vals_project_num', 'vals_project_text')
AND NOT ({_covers('indexdef')})
"""


def lock_out_writers(conn: Any, tables: str, retry: float = 0.1) -> None:
    """Lock ``tables`` against writers (readers read on), all at once or none, retrying until they are free.

    Batches take ``runs`` and ``vals`` in either order (an upsert writes runs first, a removal vals first), so
    holding one while waiting for the other would deadlock with one kind of batch or the other."""
    while True:
        try:
            with conn.transaction():  # a savepoint: a lock refused lets go of the ones taken before it
                conn.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE NOWAIT")
            return
        except Exception as exc:
            if getattr(exc, "sqlstate", None) != "55P03":  # lock_not_available
                raise
        time.sleep(retry)


def upgrade_projects(conn: Any) -> None:
    """After :data:`DDL` added ``vals.project`` and its trigger: fill it in, vacuum, then build the indexes by project.

    Each step is its own transaction, so readers read on meanwhile (with the plan before, until the indexes are
    there): adding the column locked ``vals`` against them, and the fill takes minutes at 1M records. Writers wait
    for the fill and the indexes (``vals`` locked against them first, so that an older indexer's batch cannot
    deadlock with them), and other indexers for the whole upgrade (the advisory lock, held by the session). The
    vacuum comes before the indexes: a run stopped before they exist is done again whole by the next indexer,
    vacuum included (left to autovacuum, the values the fill rewrote stay, below its 20% threshold: 3.7M at 1M
    records, and a first page sorted by a metric went from 4 ms to 8.4 s). A role that does not own the table gets
    a warning from the vacuum, not an error."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK,))
    try:
        with conn.transaction():
            conn.execute("LOCK TABLE vals IN SHARE ROW EXCLUSIVE MODE")
            conn.execute(FILL_PROJECTS)
        vacuum(conn)
        with conn.transaction():
            conn.execute("LOCK TABLE vals IN SHARE ROW EXCLUSIVE MODE")
            for (stale,) in conn.execute(STALE_INDEXES).fetchall():  # an earlier version's, of metrics alone
                conn.execute(f'DROP INDEX "{stale}"')
            for sql in PROJECT_INDEXES:
                conn.execute(sql)
    finally:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK,))


def add_search_index(conn: Any, notice: Callable[[str], None] | None = None) -> None:
    """Build :data:`SEARCH_INDEX` when it is missing and ``pg_trgm`` can be had (once, by an indexer; 14 s at 1M
    records, writers waiting, readers reading on). Without the right to create the extension, nothing."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
        if not conn.execute(SEARCH_INDEX_MISSING).fetchone()[0]:
            return
        if notice is not None:
            notice("building the catalog's search index: once, about 15 s at 1M records")
        try:
            with conn.transaction():  # a savepoint: whatever goes wrong leaves the rest as it was
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                schema = conn.execute(TRGM_SCHEMA).fetchone()[0]  # maybe not on the search_path
                conn.execute(SEARCH_INDEX.format(schema='"' + schema.replace('"', '""') + '"'))
        except Exception as exc:  # the index only speeds searches up: never a reason not to index
            if getattr(exc, "sqlstate", None) not in ("42501", "0A000", "58P01") and notice is not None:  # not allowed, not there
                notice(f"no search index (searches read every record): {type(exc).__name__}: {exc}")


def vacuum(conn: Any) -> None:
    """``VACUUM (ANALYZE) vals``, outside any transaction."""
    conn.autocommit = True
    try:
        conn.execute("VACUUM (ANALYZE) vals")
    finally:
        conn.autocommit = False


def analyze(conn: Any) -> None:
    """Refresh the planner's statistics after a bulk change (autovacuum would, later): a fresh catalog's
    sorts otherwise run on a plan made for empty tables. A role that may not analyze gets a warning, not an error."""
    conn.execute("ANALYZE runs, vals")
    conn.commit()

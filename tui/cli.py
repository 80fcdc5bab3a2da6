"""The ``runsift`` command line: ls, show, diff, explain, regress, audit, sweep, ab.

Human output is drawn with Rich (see :mod:`runsift.tui.report`); ``--format json``
prints the documented contract (README, "JSON output"). Exit codes: 0 success
(for diff: no differences), 1 differences found (diff) or a regression (regress),
2 trouble, 3 a metric regress cannot decide.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from runsift import __version__
from runsift.core.backend import Backend, pages
from runsift.core.catalog import Catalog, CatalogError
from runsift.core.diff import SECTIONS, diff_runs
from runsift.core.query import (
    SOURCE_FACETS,
    QueryError,
    check_keys,
    close_matches,
    parse_filter,
    parse_sort,
)
from runsift.core.records import Run

EXIT_OK, EXIT_DIFFERENT, EXIT_TROUBLE = 0, 1, 2
EXIT_UNDECIDED = 3
"""regress: a metric could not be decided (incomparable, noise unmeasured, direction unknown); CI must not pass."""
GATE_EXIT = {"pass": EXIT_OK, "fail": EXIT_DIFFERENT, "undecided": EXIT_UNDECIDED}


class UsageError(Exception):
    """Something the user typed that cannot work; the message says what to do instead."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with help that says what each command is for."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("catalog")
    group.add_argument("--cache-dir", metavar="DIR", help="where the index cache lives (default: $XDG_CACHE_HOME/runsift)")
    group.add_argument("--no-cache", action="store_true", help="index in memory only; write nothing anywhere")
    group.add_argument(
        "--rescan",
        action="store_true",
        help="check every file of every run, not just folder times and live files (metrics, status)",
    )
    group.add_argument("-q", "--quiet", action="store_true", help="no progress output on stderr")
    group.add_argument("--catalog", metavar="URL", default=os.environ.get("RUNSIFT_CATALOG"),
                       help="a shared PostgreSQL catalog (postgresql://...; default: $RUNSIFT_CATALOG) instead of the local cache")
    group.add_argument("--root-name", metavar="NAME", help="the root's name in a shared catalog (default: the folder's name)")
    group.add_argument("--root-map", metavar="NAME=PATH", action="append", default=[],
                       help="where a shared catalog's root NAME is on this host")
    rooted = argparse.ArgumentParser(add_help=False)  # commands that name records: where to find them
    rooted.add_argument("--root", help="catalog root (default: $RUNSIFT_ROOT or the current folder)")

    parser = argparse.ArgumentParser(
        prog="runsift",
        description="Index, compare and explain experiment runs kept as folders on disk.",
        epilog="Examples:\n  runsift experiments/            open the app on a folder\n  runsift ls experiments/ --filter project=fraud-model --sort -val_auc\n"
        "  runsift show run-023\n  runsift diff run-021 run-023 --format markdown\n\n"
        "RUN is a run folder path, its id (path below the root) or a unique end of it.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"runsift {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    index = sub.add_parser("index", parents=[common], help="index a folder into the catalog (a shared one with --catalog URL)",
                           description="Walk ROOT and bring the catalog up to date: new, changed and removed runs.")
    index.add_argument("root", metavar="ROOT", help="folder to index")

    app = sub.add_parser(
        "app",
        parents=[common],
        help="open the terminal app (the default: `runsift [ROOT]`)",
        description="Browse, open and diff runs in the terminal. Press ? inside for keys.",
    )
    app.add_argument("root", nargs="?", metavar="ROOT", help="folder to browse (default: $RUNSIFT_ROOT or the current folder)")
    app.add_argument("--no-watch", action="store_true", help="do not watch the folder for new and changing runs (r re-reads it)")
    app.add_argument("--index", action="store_true",
                     help="with --catalog: index ROOT into the shared catalog from the app (default: only read it)")

    ls = sub.add_parser(
        "ls",
        parents=[common],
        help="list runs, sweeps and A/B records below a folder",
        description="List every run, sweep and A/B record below ROOT.",
        epilog="Filters: KEY OP VALUE with OP one of = != > >= < <= ~ (contains); a bare word matches id, name "
        "and project.\nKeys: a field (project, name, status, started, kind, sweep, problems), a metric "
        "(val_auc or metrics.val_auc),\nwhat a tracker recorded (source, user, host, exit_code, ended, duration, "
        "error, tags.NAME),\nor a path into config., data., seeds., env. (python, os), code. "
        "(commit, dirty).\nSort by any key; prefix - for descending: --sort -val_auc.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ls.add_argument("root", nargs="?", metavar="ROOT", help="folder to index (default: $RUNSIFT_ROOT or the current folder)")
    ls.add_argument("--root", dest="root_opt", metavar="ROOT", help=argparse.SUPPRESS)
    ls.add_argument("--sort", metavar="KEY", help="sort key, e.g. started, -val_auc, config.optimizer.lr")
    ls.add_argument("--filter", "-f", action="append", default=[], metavar="EXPR", help="keep matching records (repeatable: all must match)")
    ls.add_argument("--kind", choices=("run", "sweep", "abtest", "all"), default="all", help="which records to list (default: all)")
    ls.add_argument("--limit", type=_positive_int, metavar="N",
                    help="list only the first N records in the sort's order (a shared catalog reads just those)")
    ls.add_argument("--deleted", action="store_true", help="list runs a tracker marks deleted too (MLflow's deleted runs are left out by default)")
    ls.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format (default: table)")
    ls.add_argument(
        "--columns",
        metavar="KEY,KEY",
        help="table and CSV columns, any filter key: val_auc,config.optimizer.lr,error,source (default: each project's primary metric, then others; CSV: every field and metric)",
    )

    show = sub.add_parser("show", parents=[common, rooted], help="everything recorded about one run", description="Show one run (or sweep, or A/B record) in full.")
    show.add_argument("run", metavar="RUN")
    show.add_argument("--format", choices=("text", "json"), default="text")

    diff = sub.add_parser(
        "diff",
        parents=[common, rooted],
        help="what differs between two runs",
        description="Compare two runs section by section. Exit status: 0 no differences, 1 differences, 2 trouble.",
    )
    diff.add_argument("run_a", metavar="RUN_A")
    diff.add_argument("run_b", metavar="RUN_B")
    diff.add_argument("--section", action="append", choices=SECTIONS, metavar="NAME", help=f"only these sections (repeatable): {', '.join(SECTIONS)}")
    diff.add_argument("--all", action="store_true", help="show unchanged values too, not only the changes")
    diff.add_argument("--format", choices=("text", "json", "markdown"), default="text")

    explain = sub.add_parser(
        "explain",
        parents=[common, rooted],
        help="why a metric changed between two runs: comparable? real or noise? which difference?",
        description="Explain how a metric moved from RUN_A to RUN_B with evidence from every run in the catalog: "
        "comparability (definitions, thresholds, eval split, data), noise (seed replicates, or a paired test on "
        "shared predictions) and the differences that runs isolating them support.",
    )
    explain.add_argument("run_a", metavar="RUN_A")
    explain.add_argument("run_b", metavar="RUN_B")
    explain.add_argument("--metric", metavar="NAME", help="metric to explain (default: the sweep's or defined primary metric, else the first shared)")
    explain.add_argument("--format", choices=("text", "json", "markdown"), default="text")

    regress = sub.add_parser(
        "regress",
        parents=[common, rooted],
        help="for CI: exit 1 when a metric got worse beyond noise, 3 when it cannot tell; prints Markdown",
        description="Gate CANDIDATE against BASELINE on one or more metrics. Each metric is explained as by "
        "`runsift explain`; a metric regresses when it got worse by its goal, the change is real, and its p-value "
        "stays below 0.05 after Holm's correction over the metrics checked. The first line is PASS, FAIL or "
        "UNDECIDED with the reason; then the report as Markdown, ready for a pull request.",
        epilog="Exit status:\n"
        "  0  pass: no metric regressed beyond noise\n"
        "  1  fail: a metric regressed beyond noise (Holm-corrected across --metric)\n"
        "  2  trouble: unknown run, unreadable root, a metric not recorded in both runs ...\n"
        "  3  undecided: a metric cannot be decided (values not comparable, noise not measurable,\n"
        "     direction unknown); CI must not treat this as a pass",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    regress.add_argument("baseline", metavar="BASELINE")
    regress.add_argument("candidate", metavar="CANDIDATE")
    regress.add_argument("--metric", action="append", metavar="NAME", help="metric(s) to check (repeatable; default: the primary metric)")
    regress.add_argument("--format", choices=("markdown", "json"), default="markdown", help="output format (default: markdown)")

    audit = sub.add_parser(
        "audit",
        parents=[common],
        help="which Minimum Run Record items each run is missing",
        description="Check every run against the tutorial's Minimum Run Record: what a teammate would have to guess "
        "(no commit, dirty tree without a file list, no split ids nor split seed, no threshold for a thresholded "
        "metric, env without versions ...). A score per run and a summary per project.",
    )
    audit.add_argument("root", nargs="?", metavar="ROOT", help="folder to audit (default: $RUNSIFT_ROOT or the current folder)")
    audit.add_argument("--filter", "-f", action="append", default=[], metavar="EXPR", help="audit only matching runs (as in ls)")
    audit.add_argument("--format", choices=("table", "json"), default="table")

    sweep = sub.add_parser(
        "sweep",
        parents=[common, rooted],
        help="a sweep's leaderboard recomputed from its runs, verified against leaderboard.csv",
        description="Recompute a sweep's leaderboard from its runs' own metrics (only the parameters that vary), "
        "pool seed replicates (mean ± std, is the top two's gap bigger than noise?) and verify the saved "
        "leaderboard.csv. Exit status: 0 verified, 1 any mismatch, 2 trouble.",
    )
    sweep.add_argument("sweep", metavar="SWEEP", help="the sweep folder, its id or a unique end of it")
    sweep.add_argument("--verify", action="store_true", help="(always on) exit 1 when the saved leaderboard disagrees")
    sweep.add_argument("--format", choices=("text", "json", "markdown"), default="text")

    ab = sub.add_parser(
        "ab",
        parents=[common, rooted],
        help="replay an A/B test from its logs and compare with the saved result",
        description="Recompute the primary metric of an A/B repro kit from the assignment log and the events, "
        "following the recorded metric definition (exposure window, schema versions, each unit once): lift with "
        "confidence intervals (95%, or 1 - the plan's alpha) that agree with the p-value, a warning when counts "
        "are small, a sample-ratio-mismatch check, diagnostics, and saved vs recomputed figures. "
        "Exit status: 0 reproduced and no SRM, 1 a mismatch or an SRM, 2 trouble.",
    )
    ab.add_argument("experiment", metavar="EXPERIMENT", help="the A/B record folder, its id or a unique end of it")
    ab.add_argument("--metric", metavar="NAME", help="metric to replay (default: the analysis plan's primary metric)")
    ab.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and _mistyped_command(args_list[0]):
        from runsift.tui import report

        close = close_matches(args_list[0], HANDLERS)
        report.error(f"unknown command {args_list[0]}; did you mean {' or '.join(close)}? (runsift --help lists them)")
        return EXIT_TROUBLE
    if not args_list or (args_list[0] not in HANDLERS and args_list[0] not in ("-h", "--help", "--version")):
        # `runsift [ROOT]` opens the app; when output is not a terminal it lists instead
        args_list.insert(0, "app" if sys.stdout.isatty() and sys.stdin.isatty() else "ls")
    args_list = _join_negative_values(args_list)
    parser = build_parser()
    args = parser.parse_args(args_list)
    from runsift.tui import report

    try:
        handler = HANDLERS.get(args.command)
        if handler is None:
            parser.print_help()
            return EXIT_TROUBLE
        from runsift.tui.remote_args import remote_report, use_remote_roots

        args = use_remote_roots(args)
        return handler(args, remote_report(report, args))
    except (UsageError, CatalogError, QueryError, ValueError) as exc:  # ExplainError is a ValueError
        report.error(str(exc))
        return EXIT_TROUBLE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `runsift ls | head`
        with contextlib.suppress(OSError):
            sys.stdout.close()
        return EXIT_OK


def _mistyped_command(word: str) -> bool:
    """True when ``word`` is no command, no option and no folder, but looks like a command (``expalin``)."""
    if word in HANDLERS or word.startswith("-") or "://" in word or os.path.exists(word):
        return False
    return bool(close_matches(word, HANDLERS))


def _join_negative_values(args: list[str]) -> list[str]:
    """Let ``--sort -val_auc`` mean ``--sort=-val_auc`` (argparse would take -val_auc for an option)."""
    out: list[str] = []
    i = 0
    while i < len(args):
        if args[i] in ("--sort", "--filter", "-f") and i + 1 < len(args) and args[i + 1].startswith("-") and len(args[i + 1]) > 1:
            out.append(f"{args[i]}={args[i + 1]}" if args[i] != "-f" else f"--filter={args[i + 1]}")
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out


def _root(explicit: str | None, args: argparse.Namespace | None = None) -> Path:
    root = explicit or os.environ.get("RUNSIFT_ROOT") or os.getcwd()
    path = Path(root).expanduser()
    if args is not None and _by_name(args) and not path.is_dir():
        return path  # a shared catalog's root need not be on this host: records come from the database
    if not path.exists():
        raise UsageError(f"{root}: no such folder")
    if not path.is_dir():
        raise UsageError(f"{root}: not a folder")
    return path


def _by_name(args: argparse.Namespace) -> bool:
    """True when a shared catalog's root is named (``--catalog URL --root-name NAME``): no folder is needed."""
    return bool(getattr(args, "catalog", None) and getattr(args, "root_name", None))


def _explicit_root(args: argparse.Namespace) -> bool:
    """True when the user named a root folder (argument, ``--root`` or ``$RUNSIFT_ROOT``), not the current folder."""
    return bool(getattr(args, "root", None) or getattr(args, "root_opt", None) or os.environ.get("RUNSIFT_ROOT"))


def _root_map(args: argparse.Namespace) -> dict[str, str]:
    out = {}
    for item in getattr(args, "root_map", []) or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise UsageError(f"--root-map {item!r}: write NAME=PATH")
        out[name] = path
    return out


def _root_for(args: argparse.Namespace, *refs: str) -> Path:
    """The root for a command naming records: ``--root``/``$RUNSIFT_ROOT`` as given; else the current folder,
    lifted out of a run or sweep folder (``runsift show .``), or the folder above the paths typed."""
    from runsift.core.refs import root_for_refs

    explicit = bool(args.root or os.environ.get("RUNSIFT_ROOT"))
    default = _root(args.root, args)
    if _by_name(args):
        return default  # RUN names records in the database; the current folder says nothing about the root
    return root_for_refs(default, list(refs), Path.cwd(), explicit)


def _resolve(catalog: Backend, ref: str, kind: str | None = None) -> str:
    """The id ``ref`` names, a path read from the current folder (``.``, ``../run-2``)."""
    return catalog.resolve(ref, kind=kind, cwd=os.getcwd())


NEEDS_FILES = frozenset({"show", "diff", "explain", "regress", "audit", "sweep", "ab"})
"""Commands that read some things from the run files (split ids, predictions, logs) besides the catalog."""


def _open(args: argparse.Namespace, root: Path, report: Any, *, index: bool = False) -> Backend:
    """The catalog the options name: a shared PostgreSQL one with ``--catalog``, else the local cache of ``root``."""
    if getattr(args, "catalog", None):
        return _open_shared(args, root, report, index=index)
    progress = None if args.quiet else report.progress_printer()
    try:
        return Catalog.open(
            root,
            cache_dir=args.cache_dir,
            use_cache=not args.no_cache,
            full=args.rescan,
            progress=progress,
            show_deleted=getattr(args, "deleted", False),
        )
    finally:
        if progress is not None:
            progress.close()


def _open_shared(args: argparse.Namespace, root: Path, report: Any, *, index: bool, writer: bool = False) -> Backend:
    """The shared catalog at ``--catalog``: the root by name (``--root-name``) and/or folder; reading needs no files."""
    from runsift.core.pgcatalog import SharedCatalog

    local = root if root.is_dir() and (_explicit_root(args) or not args.root_name) else None
    catalog = SharedCatalog.open(args.catalog, local, root_name=args.root_name, root_map=_root_map(args),
                                 refresh=index, index=writer, show_deleted=getattr(args, "deleted", False),
                                 notice=None if args.quiet else report.note)
    if not catalog.reachable and args.command in NEEDS_FILES and not args.quiet:
        where = f"looked in {catalog.root}" if args.root_map else \
            f"indexed on {catalog.indexed[0]} at {catalog.indexed[1]}" if catalog.indexed else "never indexed"
        report.note(f"the files of root {catalog.root_name!r} are not reachable from this host ({where}): "
                    "recorded values come from the catalog; split overlaps, predictions and file details need the files. "
                    f"Map the root with --root-map {catalog.root_name}=PATH")
    return catalog


def _app(args: argparse.Namespace, report: Any) -> int:
    from runsift.tui.app import RunsiftApp

    root = _root(args.root, args)
    if getattr(args, "catalog", None):  # the app on a shared catalog: read-only unless --index, no folder watch
        catalog = _open_shared(args, root, report, index=False, writer=args.index)
        RunsiftApp(catalog.root, catalog=catalog, rescan=args.rescan, watch=args.index and catalog.reachable and not args.no_watch).run()
        return EXIT_OK
    RunsiftApp(root, cache_dir=Path(args.cache_dir) if args.cache_dir else None, use_cache=not args.no_cache, rescan=args.rescan,
               shown_root=getattr(args, "remote_url", None), watch=not args.no_watch and getattr(args, "remote_sync", None) is None,
               sync=getattr(args, "remote_sync", None)).run()  # a mirror changes when it syncs, which the app runs itself
    return EXIT_OK


def _index(args: argparse.Namespace, report: Any) -> int:
    root = _root(args.root)
    with _open(args, root, report, index=True) as catalog:
        stats = catalog.last_refresh
        print(f"{stats.listed} records listed: {stats.added} added, {stats.changed} changed, {stats.removed} removed "
              f"in {stats.seconds:.1f} s")
    return EXIT_OK


LS_WHOLE_MAX = 50_000
"""A database's list longer than this is written by ``ls --format json`` or ``csv`` a page at a time (shorter ones are read whole:
each page asks again for its rows' details, so a filtered 10k took 2.5-3.0 s in pages, 1.8-2.3 s whole)."""
LS_PAGE_ROWS = 5000
"""Rows ``ls --format json`` or ``csv`` asks a database for at a time (its memory is a page, not the list)."""


def _positive_int(text: str) -> int:
    """A whole number of at least 1 (``--limit``), or an error argparse shows with the usage."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _ls(args: argparse.Namespace, report: Any) -> int:
    root = _root(args.root or args.root_opt, args)
    filters = [parse_filter(f) for f in args.filter]
    sort = parse_sort(args.sort) if args.sort else None
    with _open(args, root, report) as catalog:
        metric_names = catalog.metric_names()
        check_keys(filters, sort, metric_names, catalog.facet_keys)
        kind = None if args.kind == "all" else args.kind
        if (args.format in ("json", "csv") and catalog.page_rows is not None and args.limit is None
                and catalog.count(kind=kind, filters=filters) > LS_WHOLE_MAX):
            # a database's big list, a page at a time: a million records took 3.5 GB held whole (39 s), 83 MB so (76 s)
            listed = pages(catalog, kind=kind, filters=filters, sort=sort, size=LS_PAGE_ROWS)
            if args.format == "json":
                report.print_json_stream(doc for page in listed for doc in _json_docs(catalog, page, report))
            else:
                _print_ls_csv(args, catalog, listed, metric_names, report)
            return _ls_notes(args, catalog, root, report)
        rows = catalog.list(kind=kind, filters=filters, sort=sort, limit=args.limit)
        if args.limit is not None and len(rows) == args.limit:
            matched = catalog.count(kind=kind, filters=filters)
            if matched > len(rows):
                report.note(f"the first {len(rows):,} of {matched:,} matching records (--limit {args.limit})")
        if args.format == "json":
            report.print_json(_json_docs(catalog, rows, report))
        elif args.format == "csv":
            _print_ls_csv(args, catalog, [rows], metric_names, report)
        else:
            _print_ls_table(args, catalog, rows, metric_names, report)
        return _ls_notes(args, catalog, root, report)


def _json_docs(catalog: Backend, rows: list[Any], report: Any) -> list[dict[str, Any]]:
    """The JSON of listed rows, each with its ``started_source`` and ``status_source`` (asked for these rows only)."""
    ids = [r.id for r in rows]
    sources = {key: catalog.facet(key, ids) for key in SOURCE_FACETS}
    return [_with_sources(report.summary_json(r), {key: values.get(r.id) for key, values in sources.items()}) for r in rows]


def _ls_notes(args: argparse.Namespace, catalog: Backend, root: Path, report: Any) -> int:
    """What ``ls`` says on stderr after its list: runs left out as deleted, or what an empty folder holds."""
    hidden = 0 if args.deleted else catalog.deleted_count()
    if hidden:
        report.note(f"{hidden:,} run{'s' if hidden != 1 else ''} marked deleted by their tracker not listed (--deleted lists them)")
    if catalog.count() == 0 and not hidden and catalog.reachable:
        from runsift.core.survey import survey

        report.note(survey(root).message())
    return EXIT_OK


def _print_ls_table(args: argparse.Namespace, catalog: Backend, rows: list[Any], metric_names: list[str], report: Any) -> None:
    """The table: ``--columns`` as asked, else the shown rows' own columns, fitted to a terminal (a pipe gets every one)."""
    from rich.console import Console

    from runsift.core.columns import offered_columns, parse_columns
    from runsift.core.query import is_facet

    from .ls_table import PIPE_WIDTH, choose_columns, print_table

    terminal = sys.stdout.isatty()
    console = Console(highlight=False, soft_wrap=False, width=None if terminal else PIPE_WIDTH)
    if args.columns:
        keys = parse_columns(args.columns, offered_columns(metric_names, catalog.facet_keys(), ()))
        hidden = 0
    else:
        keys, hidden = choose_columns(rows, console.width if terminal else None, _sweep_metric(catalog))
    ids = [r.id for r in rows]  # the rows listed only: a filtered 10k of a million-run catalog, not the million
    facets = {k: catalog.facet(k, ids) for k in (*keys, *SOURCE_FACETS) if is_facet(k)}
    width = console.width if terminal else None
    print_table(rows, keys, facets, catalog.problems, catalog.count(), hidden, console, report.print_problems, width)


def _print_ls_csv(args: argparse.Namespace, catalog: Backend, pages: Iterable[list[Any]], metric_names: list[str], report: Any) -> None:
    """CSV, a page of rows at a time: the ``--columns`` keys when given (as the table), else every field and metric."""
    from runsift.core.columns import offered_columns, parse_columns
    from runsift.core.query import is_facet

    if not args.columns:
        report.print_csv(((rows, {}) for rows in pages), metric_names)
        return
    keys = parse_columns(args.columns, offered_columns(metric_names, catalog.facet_keys(), ()))
    detail = [k for k in keys if is_facet(k)]
    report.print_csv(((rows, {k: catalog.facet(k, [r.id for r in rows]) for k in detail}) for rows in pages), metric_names, keys)


def _with_sources(doc: dict[str, Any], sources: Mapping[str, tuple[str | None, float | None] | None]) -> dict[str, Any]:
    """``doc`` with ``started_source`` and ``status_source``: ``recorded``, ``guessed`` (from file times, logs or how the
    run's files end) or null (no start time; a sweep's status; a record a shared catalog stored before runsift said)."""
    for key in SOURCE_FACETS:
        source = sources.get(key)
        doc[key] = source[0] if source is not None else None
    return doc


def _sweep_metric(catalog: Backend) -> Callable[[str], str | None]:
    """``sweep id -> metric its spec declares`` (None when it declares none or cannot be read)."""

    def metric(sweep_id: str) -> str | None:
        try:
            record = catalog.get(sweep_id)
        except Exception:
            return None
        return getattr(record, "metric", None)

    return metric


def _show(args: argparse.Namespace, report: Any) -> int:
    root = _root_for(args, args.run)
    with _open(args, root, report) as catalog:
        record = catalog.get(_resolve(catalog, args.run))
        if args.format == "json":
            sources = {key: catalog.facet(key, [record.id]).get(record.id) for key in SOURCE_FACETS}
            report.print_json(_with_sources(report.record_json(record), sources))
        else:
            report.print_record(record)
    return EXIT_OK


def _diff(args: argparse.Namespace, report: Any) -> int:
    root = _root_for(args, args.run_a, args.run_b)
    with _open(args, root, report) as catalog:
        a = catalog.get(_resolve(catalog, args.run_a))
        b = catalog.get(_resolve(catalog, args.run_b))
        for rec, ref in ((a, args.run_a), (b, args.run_b)):
            if not isinstance(rec, Run):
                raise UsageError(f"{ref} is a {rec.kind}, not a run; diff compares two runs")
        assert isinstance(a, Run) and isinstance(b, Run)  # said above, for the type checker
        result = diff_runs(a, b, sections=args.section or SECTIONS, include_same=args.all, root=catalog.root)
        if args.format == "json":
            report.print_json(report.diff_json(result))
        elif args.format == "markdown":
            report.print_markdown(report.diff_markdown(result, a, b))
        else:
            report.print_diff(result, a, b)
    return EXIT_DIFFERENT if result.has_differences else EXIT_OK


def _explain(args: argparse.Namespace, report: Any) -> int:
    from runsift.core.contract import explanation_json
    from runsift.core.explain import explain

    root = _root_for(args, args.run_a, args.run_b)
    with _open(args, root, report) as catalog:
        result = explain(catalog, _resolve(catalog, args.run_a), _resolve(catalog, args.run_b), args.metric)
    if args.format == "json":
        report.print_json(explanation_json(result))
    elif args.format == "markdown":
        from runsift.tui.explain_view import explanation_markdown

        report.print_markdown(explanation_markdown(result))
    else:
        from runsift.tui.explain_view import explanation_renderable

        report.print_renderable(explanation_renderable(result))
    return EXIT_OK


def _regress(args: argparse.Namespace, report: Any) -> int:
    from runsift.core.explain import explain
    from runsift.core.gate import decide, gate_json

    root = _root_for(args, args.baseline, args.candidate)
    with _open(args, root, report) as catalog:
        base, cand = _resolve(catalog, args.baseline), _resolve(catalog, args.candidate)
        metrics = list(dict.fromkeys(args.metric)) if args.metric else [None]  # a repeated name is one test, not two
        explanations = [explain(catalog, base, cand, metric) for metric in metrics]  # any error: exit 2, nothing printed
    result = decide(explanations)
    if args.format == "json":
        report.print_json(gate_json(result, explanations, base, cand))
    else:
        from runsift.tui.regress_view import regress_markdown

        report.print_markdown(regress_markdown(result, explanations, base, cand))
    return GATE_EXIT[result.outcome]


def _audit(args: argparse.Namespace, report: Any) -> int:
    from runsift.core.audit import audit_all
    from runsift.core.contract import audit_json

    root = _root(args.root, args)
    filters = [parse_filter(f) for f in args.filter]
    with _open(args, root, report) as catalog:
        check_keys(filters, None, catalog.metric_names(), catalog.facet_keys)
        runs = [r for r in catalog.get_many(catalog.ids(kind="run", filters=filters)) if isinstance(r, Run)]
    audits, projects = audit_all(runs)
    if args.format == "json":
        report.print_json(audit_json(audits, projects))
    else:
        report.print_audit(audits, projects)
    return EXIT_OK


def _sweep(args: argparse.Namespace, report: Any) -> int:
    from runsift.core.leaderboard import build_leaderboard, leaderboard_json, verify
    from runsift.core.records import Sweep
    from runsift.tui.experiments_view import sweep_markdown, sweep_renderable

    root = _root_for(args, args.sweep)
    with _open(args, root, report) as catalog:
        record = catalog.get(_resolve(catalog, args.sweep, kind="sweep"))
        assert isinstance(record, Sweep)
        doc = leaderboard_json(build_leaderboard(catalog, record), verify(catalog, record))
    _print_doc(doc, args.format, report, sweep_renderable, sweep_markdown)
    return EXIT_DIFFERENT if doc["mismatches"] else EXIT_OK


def _ab(args: argparse.Namespace, report: Any) -> int:
    from runsift.core.abreplay import check_saved, replay, replay_json, saved_notes
    from runsift.core.records import ABTest
    from runsift.tui.experiments_view import ab_markdown, ab_renderable

    root = _root_for(args, args.experiment)
    with _open(args, root, report) as catalog:
        record = catalog.get(_resolve(catalog, args.experiment, kind="abtest"))
        assert isinstance(record, ABTest)
        result = replay(catalog.root, record, args.metric)
    check = check_saved(result, record.saved_result) if record.saved_result else None
    doc = replay_json(result, check.reproduced if check else None, check.mismatches if check else (), notes=saved_notes(check))
    _print_doc(doc, args.format, report, ab_renderable, ab_markdown)
    return EXIT_DIFFERENT if doc["srm"]["flagged"] or doc["mismatches"] else EXIT_OK


def _print_doc(doc: Any, fmt: str, report: Any, renderable: Any, markdown: Any) -> None:
    if fmt == "json":
        report.print_json(doc)
    elif fmt == "markdown":
        report.print_markdown(markdown(doc))
    else:
        report.print_renderable(renderable(doc))


HANDLERS: dict[str, Callable[[argparse.Namespace, Any], int]] = {
    "app": _app,
    "ls": _ls,
    "index": _index,
    "show": _show,
    "diff": _diff,
    "explain": _explain,
    "regress": _regress,
    "audit": _audit,
    "sweep": _sweep,
    "ab": _ab,
}
"""One function a command; each returns the exit status."""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

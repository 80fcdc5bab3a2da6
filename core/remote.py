"""A root on object storage or over SSH (``s3://bucket/prefix``, ``sftp://host/path``), mirrored for the readers.

The readers work on local paths, so a remote root is brought to a private mirror under runsift's
cache folder (never written to the remote) and the usual catalog indexes the mirror. One recursive
listing (:mod:`.remotelist`) gives each object's size and ETag (or mtime): that is the change check, and only objects
whose key changed are fetched again. Each object gets only what a record needs: run files in full,
the head and tail of a big log (what the log readers read, by ranged reads), and for artifacts and
files over the readers' limits a placeholder of the same size and time (a sparse file) that costs
no transfer. Every file is written under a temporary name and renamed only when complete, and the
mirror's state is saved as it goes, so a dropped connection leaves nothing half-written in the
tree and the next run resumes where this one stopped.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .catalog import CatalogError, default_cache_dir
from .formats._inferred import LOG_PEEK_BYTES
from .formats._wandb_records import HEAD_BYTES as WANDB_HEAD_BYTES
from .formats._wandb_records import MAX_LOG_BYTES as WANDB_MAX_LOG_BYTES
from .readers.predictions import NAME_WORD, SUFFIXES
from .remotelist import list_tree, s3_session
from .remotepaths import register
from .safeio import MAX_STREAM_BYTES

SCHEMES: Mapping[str, str] = {"s3": "s3", "s3a": "s3", "sftp": "sftp", "ssh": "sftp"}
"""URL schemes runsift opens, and the optional extra (``pip install 'runsift[EXTRA]'``) each needs."""
BATCH_FILES = 64
"""Objects fetched concurrently in one batch."""
BATCH_BYTES = 32 * 1024 * 1024
"""Most bytes fetched in one batch (held in memory until written)."""
CHECKPOINT_SECONDS = 1.0
"""The mirror's state is saved at least this often while fetching (and always when stopping)."""
_RANGED_CAT = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "az", "http", "https"})
"""Protocols whose ``cat_file(start, end)`` is a ranged request (sshfs's reads the whole file)."""
_BAD_NAME = frozenset({errno.ENAMETOOLONG, errno.EINVAL, errno.EILSEQ})
"""Errors writing a mirror file that mean its name cannot be a local file (the object is left out)."""
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_STATE_VERSION = 1
SYNCED = "synced"
"""A file in a mirror's folder naming its tree, written when a sync ends whole and removed when the next one starts
to change the tree (:func:`last_synced`)."""


class RemoteError(CatalogError):
    """A remote root could not be listed or fetched; the message is one line, without credentials."""


@dataclass(frozen=True, slots=True)
class SyncStats:
    """What one sync did: objects listed, fetched (and bytes), kept unchanged, removed, skipped."""

    listed: int
    fetched: int
    bytes_fetched: int
    placeholders: int
    kept: int
    removed: int
    skipped: tuple[str, ...]
    """Object names that cannot be a local file (``..``, empty parts, a file where a folder is)."""
    seconds: float


@dataclass(frozen=True, slots=True)
class Mirror:
    """A remote root and the local folder the catalog indexes in its place."""

    url: str
    """The root as typed, without any password."""
    path: Path
    stats: SyncStats


@dataclass(frozen=True, slots=True)
class _Object:
    rel: str
    size: int
    mtime: float
    key: str
    ranges: tuple[tuple[int, int], ...] | None
    """None: the whole object; else the byte ranges fetched (empty: a placeholder, nothing fetched)."""


def is_remote(text: str | os.PathLike[str] | None) -> bool:
    """True when ``text`` is a URL with a scheme runsift opens remotely (s3://, sftp://, ssh://)."""
    if text is None:
        return False
    match = _SCHEME.match(os.fspath(text))
    return match is not None and match.group(1).lower() in SCHEMES


def shown_url(url: str) -> str:
    """``url`` without a password (``sftp://me:secret@host/p`` → ``sftp://me@host/p``): safe to print and key on."""
    parts = urlsplit(url)
    if parts.password is None:
        return url.rstrip("/") or url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)).rstrip("/")


def mirror_folder(url: str, cache_dir: Path | None = None) -> Path:
    """Where the mirror of ``url`` lives: ``<cache>/remote/<hash of the URL>/`` (its tree is named as the prefix)."""
    shown = shown_url(url)
    digest = hashlib.sha256(shown.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return Path(cache_dir or default_cache_dir()) / "remote" / digest


def mirror(
    url: str,
    cache_dir: Path | None = None,
    *,
    fs: Any = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> Mirror:
    """Bring the local mirror of ``url`` up to date with one listing and the fetches it calls for.

    ``fs`` is an fsspec filesystem to use instead of the one the URL names (tests); ``on_batch``
    is told (objects done, objects to fetch) after each batch. Raises :class:`RemoteError`.
    """
    base = mirror_folder(url, cache_dir)
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _explain(exc, shown_url(url)) from None
    with _one_sync_at_a_time(base):
        return _sync(url, base, fs, on_batch)


@contextlib.contextmanager
def _one_sync_at_a_time(base: Path) -> Iterator[None]:
    """Hold an exclusive lock on the mirror (a file in runsift's cache) while it syncs: the app syncs in the background
    while ``runsift ls URL`` may sync the same mirror, and two syncs at once would vouch for each other's half-done
    tree and remove each other's temporary files. The second waits."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not a POSIX system
        yield
        return
    with open(base / "lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _sync(url: str, base: Path, fs: Any, on_batch: Callable[[int, int], None] | None) -> Mirror:
    """:func:`mirror`'s work, with the mirror locked."""
    started = time.monotonic()
    shown = shown_url(url)
    try:
        if fs is None:
            fs, path = _filesystem(url)
        else:
            path = fs._strip_protocol(url)
        path = path.rstrip("/")
    except Exception as exc:
        raise _explain(exc, shown) from None
    scheme = url.split("://", 1)[0].lower()
    if not path and SCHEMES.get(scheme) == "s3":  # s3:// alone would list every bucket of the account
        raise RemoteError(f"{scheme}:// needs a bucket, and a folder in it if you like: {scheme}://BUCKET/PREFIX")
    try:
        listing = list_tree(fs, path)
    except Exception as exc:
        raise _explain(exc, shown) from None
    tree = base / (path.rsplit("/", 1)[-1] or "root")
    objects, skipped = _objects(listing, path)
    if not objects and not _exists(fs, path):
        raise RemoteError(f"{shown}: no such bucket or folder (or nothing readable in it)")
    tmp = base / "partial"
    for folder in (tree, tmp):
        folder.mkdir(parents=True, exist_ok=True)
    state_file = base / "state.json"
    state = _load_state(state_file, shown)
    saved = dict(state)
    on_disk, empty = _mirrored(tree)
    _mark(base, None)  # from here the tree changes: whole again only when this sync ends
    removed = _remove_gone(tree, state, {o.rel for o in objects}, on_disk, empty)
    # fetched again: a changed key, or a mirrored file deleted or truncated since (its size differs)
    todo = [o for o in objects if state.get(o.rel) != o.key or on_disk.get(o.rel) != o.size]
    kept = len(objects) - len(todo)
    fetched = bytes_fetched = placeholders = 0
    conflicts: list[str] = []
    last_save = time.monotonic()
    try:
        for batch in _batches(todo):
            datas = _fetch(fs, path, batch)
            for obj in batch:
                data = datas.get(obj.rel)
                if isinstance(data, FileNotFoundError):
                    state.pop(obj.rel, None)  # gone since the listing: the next sync drops it
                    continue
                if isinstance(data, BaseException):
                    raise data
                if not _place(tree, tmp, obj, data or []):
                    conflicts.append(obj.rel)
                    continue
                state[obj.rel] = obj.key
                fetched += 1
                placeholders += obj.ranges == ()
                bytes_fetched += sum(len(chunk) for _, chunk in data or [])
            if on_batch is not None:
                on_batch(fetched, len(todo))
            if time.monotonic() - last_save >= CHECKPOINT_SECONDS:
                _save_state(state_file, shown, state)
                saved, last_save = dict(state), time.monotonic()
    except RemoteError:
        raise
    except Exception as exc:
        raise _explain(exc, shown) from None
    finally:
        if state != saved:  # a warm sync changes nothing: no rewrite of a state file of every object
            _save_state(state_file, shown, state)
        shutil.rmtree(tmp, ignore_errors=True)
    _mark(base, tree.name)
    register(os.path.realpath(tree), shown)
    stats = SyncStats(len(objects), fetched, bytes_fetched, placeholders, kept, removed, (*skipped, *conflicts), time.monotonic() - started)
    return Mirror(shown, tree, stats)


def _mark(base: Path, tree: str | None) -> None:
    """Mark the mirror whole, naming its tree, or (``None``) not; a cache that cannot be written is a RemoteError."""
    try:
        if tree is None:
            (base / SYNCED).unlink(missing_ok=True)
        else:
            (base / SYNCED).write_text(tree, "utf-8")
    except OSError as exc:
        raise RemoteError(f"cannot write the mirror in {base}: {exc.strerror or exc}") from None


def last_synced(url: str, cache_dir: Path | None = None) -> Path | None:
    """The mirror of ``url`` as its last whole sync left it (paths below it shown as the URL from now on), without
    asking the server anything; None when no sync of it ended whole. The app opens it at once and syncs after."""
    base = mirror_folder(url, cache_dir)
    try:
        name = (base / SYNCED).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    tree = base / name
    if not name or "/" in name or name in (".", "..") or not tree.is_dir():
        return None
    register(os.path.realpath(tree), shown_url(url))
    return tree


def plan(rel: str, size: int) -> tuple[tuple[int, int], ...] | None:
    """What of an object a record needs: None for all of it, else byte ranges (none: a placeholder).

    Artifacts are listed, not read, except prediction tables; a text log over twice the peek size
    is read by its head and tail; a W&B log over its reader's limit likewise; anything the readers
    refuse by size (over MAX_STREAM_BYTES) is a placeholder of the same size, refused the same way.
    """
    parts = rel.lower().split("/")
    name = parts[-1]
    suffix = os.path.splitext(name)[1]
    if "artifacts" in parts[:-1]:
        folder = parts[-2]
        stem = os.path.splitext(name)[0]
        wanted = suffix in SUFFIXES and (NAME_WORD.search(stem) is not None or NAME_WORD.search(folder) is not None)
        if not wanted or size > MAX_STREAM_BYTES:
            return ()
        return None
    if suffix == ".log" and size > 2 * LOG_PEEK_BYTES:
        return ((0, LOG_PEEK_BYTES), (size - LOG_PEEK_BYTES, size))
    if suffix == ".wandb" and size > WANDB_MAX_LOG_BYTES:
        return ((0, WANDB_HEAD_BYTES), (size - (WANDB_MAX_LOG_BYTES - WANDB_HEAD_BYTES), size))
    if size > MAX_STREAM_BYTES:
        return ()
    return None


def _filesystem(url: str) -> tuple[Any, str]:
    scheme = url.split("://", 1)[0].lower()
    try:
        import fsspec
    except ImportError:
        raise RemoteError(f"{scheme}:// roots need fsspec: pip install 'runsift[{SCHEMES[scheme]}]'") from None
    options: dict[str, Any] = {"skip_instance_cache": True}
    try:
        if SCHEMES[scheme] == "s3":
            options.update(
                use_listings_cache=False,
                session=s3_session(),
                config_kwargs={"connect_timeout": 10, "read_timeout": 60, "retries": {"max_attempts": 3}},
            )
        else:  # sshfs turns host key checking off by default; asyncssh's own default checks ~/.ssh/known_hosts
            options.update(known_hosts=(), connect_timeout=10)
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError:
        raise RemoteError(f"{scheme}:// roots need an optional part: pip install 'runsift[{SCHEMES[scheme]}]'") from None
    return fs, str(path)


def _objects(listing: Mapping[str, Mapping[str, Any]], top: str) -> tuple[list[_Object], list[str]]:
    """The listed files below ``top`` as objects (sorted), and names that cannot be local files."""
    out: list[_Object] = []
    skipped: list[str] = []
    cut = len(top) + 1
    names = set()
    for full, info in listing.items():
        if info.get("type", "file") != "file" or not full.startswith(top + "/"):
            continue
        rel = full[cut:]
        parts = set(rel.split("/"))
        if "" in parts or "." in parts or ".." in parts or "\0" in rel:
            skipped.append(rel)
            continue
        size = int(info.get("size") or 0)
        mtime = _mtime(info)
        etag = info.get("ETag") or info.get("etag")
        key = f"{etag}:{size}" if etag else f"{size}:{mtime}"
        ranges = plan(rel, size)
        out.append(_Object(rel, size, mtime, f"{key}:{ranges!r}", ranges))
        names.add(rel)
    # a name that is also a folder's (S3 allows "a" and "a/b"): the folder wins
    folders = {rel.rsplit("/", 1)[0] for rel in names if "/" in rel}
    folders |= {f.rsplit("/", i)[0] for f in folders for i in range(1, f.count("/") + 1)}
    clash = [o for o in out if o.rel in folders]
    skipped += [o.rel for o in clash]
    out = sorted((o for o in out if o.rel not in folders), key=lambda o: o.rel)
    return out, skipped


def _mtime(info: Mapping[str, Any]) -> float:
    value = info.get("LastModified") or info.get("mtime") or info.get("last_modified")
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def _exists(fs: Any, path: str) -> bool:
    try:
        return bool(fs.exists(path))
    except Exception:
        return False


def _mirrored(tree: Path) -> tuple[dict[str, int], bool]:
    """Every file of the mirror as its name under ``tree`` ("a/b/c") and size, and whether an empty folder was seen.

    One ``scandir`` pass without path objects: at 10k runs a warm sync looks at ~90k files.
    """
    out: dict[str, int] = {}
    empty = False
    stack = [("", os.fspath(tree))]
    while stack:
        prefix, folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        empty = empty or (not entries and bool(prefix))
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((f"{prefix}{entry.name}/", entry.path))
                else:
                    out[prefix + entry.name] = entry.stat(follow_symlinks=False).st_size
            except OSError:  # gone meanwhile: not mirrored
                continue
    return out, empty


def _batches(todo: list[_Object]) -> Iterable[list[_Object]]:
    batch: list[_Object] = []
    weight = 0
    for obj in todo:
        cost = obj.size if obj.ranges is None else sum(end - start for start, end in obj.ranges)
        if batch and (len(batch) >= BATCH_FILES or weight + cost > BATCH_BYTES):
            yield batch
            batch, weight = [], 0
        batch.append(obj)
        weight += cost
    if batch:
        yield batch


def _fetch(fs: Any, top: str, batch: list[_Object]) -> dict[str, list[tuple[int, bytes]] | BaseException | None]:
    """Each object's chunks as (offset, bytes), an exception, or None for a placeholder."""
    out: dict[str, list[tuple[int, bytes]] | BaseException | None] = {}
    whole = [o for o in batch if o.ranges is None]
    if whole:
        paths = [f"{top}/{o.rel}" for o in whole]
        got = fs.cat(paths, on_error="return") if len(paths) > 1 else {paths[0]: fs.cat_file(paths[0])}
        for obj, remote in zip(whole, paths):
            data = got.get(remote, FileNotFoundError(remote))
            out[obj.rel] = data if isinstance(data, BaseException) else [(0, bytes(data))]
    for obj in batch:
        if obj.ranges == ():
            out[obj.rel] = None
        elif obj.ranges is not None:
            try:
                out[obj.rel] = [(start, _read_range(fs, f"{top}/{obj.rel}", start, end)) for start, end in obj.ranges]
            except FileNotFoundError as exc:
                out[obj.rel] = exc
    return out


def _read_range(fs: Any, path: str, start: int, end: int) -> bytes:
    protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
    if _RANGED_CAT.intersection(protocols):
        return bytes(fs.cat_file(path, start=start, end=end))
    with fs.open(path, "rb", block_size=0, cache_type="none") as fh:
        fh.seek(start)
        return bytes(fh.read(end - start))


def _place(tree: Path, tmp: Path, obj: _Object, chunks: list[tuple[int, bytes]]) -> bool:
    """Write one object under a temporary name, give it its size and time, then rename it into the tree.

    False when its name cannot be a file here (a file where a folder is, a name too long for this file
    system): the object is left out. Any other local failure (disk full) is a :class:`RemoteError`.
    """
    dest = tree.joinpath(*obj.rel.split("/"))
    name: str | None = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_dir():
            return False
        fd, name = tempfile.mkstemp(dir=tmp)
        with os.fdopen(fd, "wb") as fh:
            for offset, data in chunks:
                fh.seek(offset)
                fh.write(data)
            if obj.ranges is not None:
                fh.truncate(obj.size)  # a placeholder or a head-and-tail: the object's size, holes unfetched
        os.utime(name, (obj.mtime, obj.mtime))
        os.replace(name, dest)
        name = None
    except (FileExistsError, NotADirectoryError, IsADirectoryError):
        return False
    except OSError as exc:
        if exc.errno in _BAD_NAME:
            return False
        raise RemoteError(f"cannot write the mirror in {tree.parent}: {exc.strerror or exc}") from None
    finally:
        if name is not None:
            Path(name).unlink(missing_ok=True)
    return True


def _remove_gone(tree: Path, state: dict[str, str], present: set[str], on_disk: dict[str, int], empty: bool) -> int:
    """Delete mirrored files whose objects are gone (from the mirror only, and from ``on_disk``), and folders left empty."""
    removed = 0
    for rel in [r for r in on_disk if r not in present]:
        os.unlink(tree.joinpath(*rel.split("/")))
        del on_disk[rel]
        state.pop(rel, None)
        removed += 1
    if removed or empty:
        for folder, _dirs, _files in os.walk(tree, topdown=False):
            if folder != os.fspath(tree) and not os.listdir(folder):
                os.rmdir(folder)
    for rel in [r for r in state if r not in present]:
        del state[rel]
    return removed


def _load_state(state_file: Path, url: str) -> dict[str, str]:
    try:
        doc = json.loads(state_file.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("version") != _STATE_VERSION or doc.get("url") != url:
        return {}
    objects = doc.get("objects")
    return {str(k): str(v) for k, v in objects.items()} if isinstance(objects, dict) else {}


def _save_state(state_file: Path, url: str, state: Mapping[str, str]) -> None:
    fd, name = tempfile.mkstemp(dir=state_file.parent, prefix=".state-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"version": _STATE_VERSION, "url": url, "objects": dict(state)}, fh)
        os.replace(name, state_file)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


_CREDENTIALS = ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError", "InvalidAccessKeyId", "SignatureDoesNotMatch")


def _explain(exc: BaseException, url: str) -> RemoteError:
    """One line saying what went wrong with ``url``, never the exception's own text (it may hold secrets)."""
    names: set[str] = set()
    cause: BaseException | None = exc
    for _ in range(8):  # sshfs turns asyncssh's errors into OSErrors: look at the causes too
        if cause is None:
            break
        names |= {cls.__name__ for cls in type(cause).__mro__}
        cause = cause.__cause__ or cause.__context__
    text = str(exc)
    if names & set(_CREDENTIALS) or any(word in text for word in _CREDENTIALS[3:]):
        return RemoteError(f"{url}: no valid credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)")
    if "PermissionDenied" in names or "HostKeyNotVerifiable" in names or "KeyImportError" in names:
        why = "host key not known (add it to ~/.ssh/known_hosts)" if "HostKeyNotVerifiable" in names else "login refused (check the user and key)"
        return RemoteError(f"{url}: {why}")
    if isinstance(exc, PermissionError) or "AccessDenied" in text:
        return RemoteError(f"{url}: access denied (the credentials may not list or read here)")
    if isinstance(exc, FileNotFoundError) or "NoSuchBucket" in text:
        return RemoteError(f"{url}: no such bucket or folder")
    if isinstance(exc, ImportError):
        return RemoteError(f"{url}: an optional part is missing: pip install 'runsift[{SCHEMES.get(url.split(':', 1)[0].lower(), 's3')}]'")
    kind = type(exc).__name__
    return RemoteError(f"{url}: connection failed or dropped ({kind}); run again to resume where it stopped")

"""Every on-disk format runsift reads a run from, registered in one place.

A format is a cheap :attr:`Format.detect` over a folder's entry names (no I/O: the walk calls
it for every folder) and a :attr:`Format.read` that turns the folder into a :class:`Run`,
never raising for bad input (every unreadable file becomes a problem on the run). The walk
asks the formats in :data:`FORMATS` order and the first that claims a folder reads it, so a
tracker's layout is recognised before the hand-written run container's looser rule. A format
whose runs share one store file (MLflow's ``mlflow.db``) claims no folder: its :attr:`Format.stores`
names the store files among a folder's entries and :attr:`Format.expand` lists the store's runs.
The next format is one new module here and one line in :data:`FORMATS`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Set
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import (
    _hydra_sweep,
    container,
    dvclive,
    hydra,
    lightning,
    mlflow,
    mlflow_sqlite,
    sacred,
    tensorboard,
    wandb,
)

if TYPE_CHECKING:
    from ..discover import Found, Held
    from ..records import Problem, Run, Sweep


def _never(name: str) -> bool:
    return False


def _no_names(names: Set[str]) -> bool:
    return False


def _nothing(names: Set[str]) -> Set[str]:
    return frozenset()


def _no_stores(names: Set[str]) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True, slots=True)
class Format:
    """One way runs are kept on disk."""

    name: str
    """``container``, ``mlflow``, ``wandb`` ...: the run's ``source.format``."""
    detect: Callable[[Set[str]], bool]
    """Is a folder with these entry names a run of this format? Names only, no I/O."""
    read: Callable[[Found, Path], Run]
    """The run in the folder ``found`` describes (``root`` confines reading); never raises for bad input."""
    is_live: Callable[[str], bool] = _never
    """Files (names in the run folder) a run that finished may still rewrite in place: the quick walk watches
    them, until the run has been settled (finished or failed) and untouched for a day (``catalog.SETTLED_NS``)."""
    member: Callable[[Set[str]], bool] = _no_names
    """Inside a sweep's ``runs/`` folder, a looser test: any file of this format makes a run."""
    describe: str = ""
    """What a run of this format looks like on disk, for "no runs here" messages."""
    markers: tuple[str, ...] = ()
    """Entry names that show the tracker was used here (``mlruns``, ``wandb``), even where no run was found."""
    skip: Callable[[Set[str]], Set[str]] = _nothing
    """Sub-folders of a folder with these entry names that hold the format's bookkeeping, never runs
    (MLflow's logged models look just like runs): the walk does not enter them. Names only, no I/O."""
    stores: Callable[[Set[str]], tuple[str, ...]] = _no_stores
    """Entries of a folder that are store files of this format, each holding many runs (``mlflow.db``). Names only, no I/O."""
    is_sweep: Callable[[Set[str]], bool] = _no_names
    """Is a folder with these entry names a sweep of this format (a Hydra multirun)? Its sub-folders' runs are its members. Names only."""
    read_sweep: Callable[[Found, Path], Sweep] | None = None
    """The sweep in a folder :attr:`is_sweep` claims (members from the walk); never raises for bad input."""
    sweep_names: tuple[str, ...] = ()
    """Entry names without which :attr:`is_sweep` is never true (the walk asks only folders holding one)."""
    expand: Callable[[Path, str, str], tuple[list[Found] | Held, list[Problem]]] | None = None
    """The runs of the store file at a path (given the folder's id below the root and the walk's project),
    and catalog-level problems for what could not be listed; never raises for bad input. A store that
    cannot be listed just now (a writer's lock) gives a :class:`~runsift.core.discover.Held` instead of
    its runs: keep what the catalog had, not "no runs"."""
    live_when_settled: Callable[[str], bool] = _never
    """Live files that change in place even after a run has been settled for a day (MLflow's ``meta.yaml``,
    rewritten when a run is deleted or restored): the quick walk watches them however old the run is."""


FORMATS: tuple[Format, ...] = (
    Format(
        "mlflow",
        mlflow.detect,
        mlflow.read,
        mlflow.is_live,
        live_when_settled=mlflow.is_live,
        skip=mlflow.skip,
        describe="MLflow file stores (mlruns/<experiment>/<run>/meta.yaml with params/, metrics/, tags/)",
        markers=("mlruns",),
    ),
    Format(
        mlflow_sqlite.FORMAT,
        mlflow_sqlite.detect,
        mlflow_sqlite.read,
        stores=mlflow_sqlite.stores,
        expand=mlflow_sqlite.expand,
        describe="MLflow SQLite stores (mlflow.db)",
        markers=("mlflow.db",),
    ),
    Format(
        "wandb",
        wandb.detect,
        wandb.read,
        wandb.is_live,
        live_when_settled=wandb.is_live,
        skip=wandb.skip,
        describe="W&B runs (wandb/offline-run-*/ or run-*/ with run-<id>.wandb, or a synced run's files/)",
        markers=("wandb",),
    ),
    Format(
        "hydra",
        hydra.detect,
        hydra.read,
        hydra.is_live,
        is_sweep=_hydra_sweep.is_sweep,
        read_sweep=_hydra_sweep.read_sweep,
        sweep_names=_hydra_sweep.SWEEP_NAMES,
        describe="Hydra job folders (outputs/<date>/<time>/ or multirun/<date>/<time>/<job>/ with .hydra/config.yaml)",
        markers=("outputs", "multirun"),
    ),
    Format(
        "sacred",
        sacred.detect,
        sacred.read,
        sacred.is_live,
        describe="Sacred FileStorageObserver runs (<dir>/<id>/run.json with config.json)",
        markers=("_sources",),
    ),
    Format(
        "dvclive",
        dvclive.detect,
        dvclive.read,
        dvclive.is_live,
        describe="DVCLive runs (the folder holding dvclive/)",
        markers=("dvc.yaml", ".dvc"),
    ),
    Format(
        "lightning",
        lightning.detect,
        lightning.read,
        lightning.is_live,
        describe="Lightning CSVLogger logs (lightning_logs/version_N/ with hparams.yaml and metrics.csv)",
        markers=("lightning_logs",),
    ),
    Format(
        "tensorboard",
        tensorboard.detect,
        tensorboard.read,
        tensorboard.is_live,
        describe="TensorBoard event files (events.out.tfevents.*, with the hparams plugin's session)",
        markers=("tensorboard", "tb_logs"),
    ),
    Format(
        "container",
        container.detect,
        container.read,
        container.is_live,
        container.member,
        describe="run containers (a folder with config.yaml or metrics.json and another run file: seeds.txt, env.txt ...)",
    ),
)
"""Asked in order; the run container comes last, as it claims any folder with a config and one more run file."""

_BY_NAME = {f.name: f for f in FORMATS}
_STORE_FORMATS = tuple(f for f in FORMATS if f.expand is not None)
SWEEP_NAMES: frozenset[str] = frozenset(n for f in FORMATS for n in f.sweep_names)
"""Entry names that can make a folder a format's sweep (``multirun.yaml`` ...)."""


def detect(names: Set[str], in_sweep: bool = False) -> Format | None:
    """The first format that claims a folder with these entry names."""
    for fmt in FORMATS:
        if fmt.detect(names) or (in_sweep and fmt.member(names)):
            return fmt
    return None


def sweep_format(names: Set[str]) -> Format | None:
    """The format whose sweep a folder with these entry names is (a Hydra multirun), if any."""
    return next((f for f in FORMATS if f.read_sweep is not None and f.is_sweep(names)), None)


@functools.cache
def live_when_settled(name: str) -> bool:
    """True when some format keeps watching a live file of this name in a run settled long ago.

    By name, as the walk's memo holds names, not formats: a name only one format calls live is
    decided by that format, and a name several do is watched when any of them asks."""
    return any(fmt.live_when_settled(name) for fmt in FORMATS)


def store_formats() -> tuple[Format, ...]:
    """The formats whose runs live in store files (many runs to a file) rather than run folders."""
    return _STORE_FORMATS


def bookkeeping(names: Set[str]) -> Set[str]:
    """Sub-folders of a folder with these entry names that no format lets the walk enter."""
    out: set[str] = set()
    for fmt in FORMATS:
        out |= fmt.skip(names)
    return out


def get(name: str) -> Format:
    """The format called ``name`` (the run container for a name no longer registered)."""
    return _BY_NAME.get(name, FORMATS[-1])

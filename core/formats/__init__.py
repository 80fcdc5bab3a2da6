"""Every on-disk format runsift reads a run from, registered in one place.

A format is a cheap :attr:`Format.detect` over a folder's entry names (no I/O: the walk calls
it for every folder) and a :attr:`Format.read` that turns the folder into a :class:`Run`,
never raising for bad input (every unreadable file becomes a problem on the run). The walk
asks the formats in :data:`FORMATS` order and the first that claims a folder reads it, so a
tracker's layout is recognised before the hand-written run container's looser rule. The
next format is one new module here and one line in :data:`FORMATS`.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import container, wandb

if TYPE_CHECKING:
    from ..discover import Found
    from ..records import Run


def _never(name: str) -> bool:
    return False


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
    """Files (names in the run folder) a run that finished may still rewrite in place: the quick walk watches them."""
    member: Callable[[Set[str]], bool] = _never
    """Inside a sweep's ``runs/`` folder, a looser test: any file of this format makes a run."""


FORMATS: tuple[Format, ...] = (
    Format("wandb", wandb.detect, wandb.read, wandb.is_live),
    Format("container", container.detect, container.read, container.is_live, container.member),
)
"""Asked in order; the run container comes last, as it claims any folder with a config and one more run file."""

_BY_NAME = {f.name: f for f in FORMATS}


def detect(names: Set[str], in_sweep: bool = False) -> Format | None:
    """The first format that claims a folder with these entry names."""
    for fmt in FORMATS:
        if fmt.detect(names) or (in_sweep and fmt.member(names)):
            return fmt
    return None


def get(name: str) -> Format:
    """The format called ``name`` (the run container for a name no longer registered)."""
    return _BY_NAME.get(name, FORMATS[-1])

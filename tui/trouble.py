"""Trouble in a worker is told or let go, never fatal: a database connection lost, a record removed meanwhile, a
screen closed before its worker came back.

A worker's uncaught exception ends a Textual app with a traceback. A shared catalog's server can restart
under an open app (the catalog opens its connection again on the next query, :mod:`runsift.core.pgcatalog`);
what is on screen stays, and a notification says what failed.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from textual.app import App
from textual.dom import DOMNode
from textual.worker import get_current_worker

from runsift.core.catalog import CatalogError

from .safe import visible

_P = ParamSpec("_P")
_N = TypeVar("_N", bound=DOMNode)


def show_trouble(app: App[object], exc: BaseException, timeout: float | None = 10) -> None:
    """Notify ``exc`` (on the app's thread), its text shown as text (``timeout`` None: Textual's own)."""
    app.notify(visible(str(exc), one_line=True), severity="error", timeout=timeout, markup=False)


def tell_catalog_trouble(node: DOMNode, exc: CatalogError) -> None:
    """:func:`show_trouble` from a worker's thread; not for a worker a newer one replaced (a key typed since), nor once
    the app has stopped (quitting closes the catalog under its workers)."""
    if get_current_worker().is_cancelled:
        return
    with contextlib.suppress(RuntimeError):  # the app is no longer running
        node.app.call_from_thread(show_trouble, node.app, exc)


def catalog_work(body: Callable[Concatenate[_N, _P], None]) -> Callable[Concatenate[_N, _P], None]:
    """A worker body run in a thread, whose :class:`CatalogError` is told (:func:`tell_catalog_trouble`). It goes
    below ``@work``, which then runs the wrapped body."""

    @functools.wraps(body)
    def run(node: _N, /, *args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            body(node, *args, **kwargs)
        except CatalogError as exc:
            tell_catalog_trouble(node, exc)

    return run


def while_open(method: Callable[Concatenate[_N, _P], None]) -> Callable[Concatenate[_N, _P], None]:
    """For a screen's method that a worker hands its result to (``call_from_thread``): the result is dropped once the
    screen has closed. Escape pressed while a record, a diff or an explanation was read ended the app with "No nodes
    match" when the result came back."""

    @functools.wraps(method)
    def shown(node: _N, /, *args: _P.args, **kwargs: _P.kwargs) -> None:
        if node.is_attached:
            method(node, *args, **kwargs)

    return shown

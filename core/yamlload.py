"""YAML through PyYAML's safe loader, with a lean path for the plain documents configs almost always are.

PyYAML parses in C but resolves tags and builds Python objects in Python, through a general
constructor (generators, recursion bookkeeping) that costs about as much as the parse. For a
document made only of mappings, lists and the plain scalar types (string, int, float, bool, null)
:func:`load_yaml` builds the objects directly with the same scalar constructors, and remembers how
each plain scalar resolves and what each scalar text builds (config keys and values repeat from run
to run). Anything else (anchors and aliases,
merge keys, timestamps, sets, any other tag) goes to PyYAML's own constructor, so results and errors
are PyYAML's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .bignum import big_int_message, fits_float

if TYPE_CHECKING:  # both loaders have the same interface; the checker sees the pure-Python one
    _Base = yaml.SafeLoader
else:
    try:  # PyYAML's C parser is several times faster; fall back to pure Python.
        _Base = yaml.CSafeLoader
    except AttributeError:  # pragma: no cover - depends on how PyYAML was built
        _Base = yaml.SafeLoader

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_INT = "tag:yaml.org,2002:int"
_BASE_INT = _Base.yaml_constructors[_INT]
_SHORT_INT = 100
"""Int scalars up to this many characters always fit a float (hex needs 257 digits to pass ±1.8e308)."""
COUNTED_COMPOSE_CHARS = 64 * 1024
"""Documents longer than this are composed with a node count (see :func:`load_yaml`)."""


class TooBig(Exception):
    """A document has more nodes or deeper nesting than allowed; ``line`` is where composing stopped."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def _construct_int(loader: Any, node: ScalarNode) -> int | str:
    """PyYAML's int, except that one too large to be a number is kept as its text (and noted on the loader).

    A 4,000-digit hex literal would otherwise reach float conversions, and over 4,300 decimal
    digits PyYAML's own int() raises ValueError, which is no YAML error.
    """
    if len(node.value) <= _SHORT_INT:
        short: int = _BASE_INT(loader, node)
        return short
    try:
        value: int = _BASE_INT(loader, node)
        if fits_float(value):
            return value
    except ValueError:
        pass
    notes = getattr(loader, "notes", None)
    if notes is not None:
        notes.append((big_int_message(node.value), node.start_mark.line + 1))
    return str(node.value)


_SCALARS = {
    tag: _Base.yaml_constructors[tag]
    for tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:float")
}
_SCALARS[_INT] = _construct_int
_RESOLVED_MAX = 50_000
"""Plain scalars whose tag is remembered, and scalars of each tag whose value is, per process (cleared when full)."""
_BUILT: dict[str, dict[str, Any]] = {tag: {} for tag in _SCALARS}
"""Per tag (null, bool, int, float): the object each text constructs to. They are immutable, so shared."""
_MISSING = object()
_RESOLVED_LENGTH = 64
"""Longest plain scalar remembered: keys and values of configs, not text."""


class SafeLoader(_Base):
    """The safe loader, remembering the implicit tag of each plain scalar it has resolved."""

    _resolved: ClassVar[dict[str, str]] = {}  # shared on purpose: one memo for every load
    notes: list[tuple[str, int | None]] | None = None
    """Where integers kept as text are said (message, line), when the caller wants to know."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        """As PyYAML resolves, from a memo for short plain scalars.

        For a plain scalar (``implicit[0]``) PyYAML's answer depends on its text alone: the implicit
        resolvers match the text, else it is a string. Quoted and long scalars (prompts, commands)
        are not remembered: they resolve to str at once, and keeping them would hold memory for nothing.
        """
        if kind is not ScalarNode or not implicit[0] or len(value) > _RESOLVED_LENGTH:
            resolved: str = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]  # unannotated in types-PyYAML
            return resolved
        tag = self._resolved.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]  # unannotated in types-PyYAML
            if len(self._resolved) >= _RESOLVED_MAX:
                self._resolved.clear()
            self._resolved[value] = tag
        return tag


SafeLoader.add_constructor(_INT, _construct_int)


class CountingLoader(SafeLoader):
    """The safe loader composing in Python with a node count and depth bound, so a huge document stops early.

    PyYAML's C composer builds the whole node tree before anything can count it: a 16 MiB flow
    sequence costs a minute and gigabytes before a bound on the result refuses it. This one
    composes from the C parser's events with PyYAML's own composer steps, counting as it goes.
    """

    get_single_node = Composer.get_single_node
    compose_document = Composer.compose_document
    compose_scalar_node = Composer.compose_scalar_node
    compose_sequence_node = Composer.compose_sequence_node
    compose_mapping_node = Composer.compose_mapping_node

    def __init__(self, text: str, max_nodes: int, max_depth: int) -> None:
        super().__init__(text)
        self.anchors: dict[str, Node] = {}
        self._left, self._max_depth, self._depth = max_nodes, max_depth, 0
        self._max_nodes = max_nodes

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """PyYAML's step, after counting the node and its depth."""
        self._left -= 1
        if self._left < 0:
            raise TooBig(f"document has more than {self._max_nodes:,} values", self._line())
        if self._depth >= self._max_depth + 1:
            raise TooBig(f"nested deeper than {self._max_depth} levels", self._line())
        self._depth += 1
        try:
            return Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1

    def _line(self) -> int | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # unannotated in types-PyYAML
        mark = getattr(event, "start_mark", None)
        return mark.line + 1 if mark is not None else None


class _NotPlain(Exception):
    """The document needs PyYAML's general constructor."""


def load_yaml(
    text: str,
    notes: list[tuple[str, int | None]] | None = None,
    max_nodes: int | None = None,
    max_depth: int | None = None,
) -> Any:
    """One YAML document as Python objects, as ``yaml.load(text, CSafeLoader)`` gives it.

    Two differences: an integer too large to be a number is kept as its text (said in
    ``notes`` when given); and with ``max_nodes`` and ``max_depth`` a document longer than
    COUNTED_COMPOSE_CHARS is composed with a count, raising :class:`TooBig` as soon as it
    passes either bound (shorter ones are cheap enough to compose in C and check after).
    """
    if max_nodes is not None and max_depth is not None and len(text) > COUNTED_COMPOSE_CHARS:
        loader: SafeLoader = CountingLoader(text, max_nodes, max_depth)
    else:
        loader = SafeLoader(text)
    loader.notes = notes
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            # Without an anchor ("&") there can be no alias, so nodes need no tracking.
            return _build(loader, node, set() if "&" in text else None)
        except _NotPlain:
            return loader.construct_document(node)
    finally:
        loader.dispose()


def _build(loader: SafeLoader, node: Node, seen: set[int] | None) -> Any:
    """Objects for a plain node tree; raises _NotPlain at the first node that is not.

    ``seen`` holds the nodes built so far when the document may have aliases (None when it cannot).
    """
    if seen is not None:
        if id(node) in seen:  # an alias: PyYAML shares the object, and check_bounds counts it
            raise _NotPlain
        seen.add(id(node))
    cls, tag = node.__class__, node.tag
    if cls is ScalarNode:
        if tag == _STR:
            return node.value
        built = _BUILT.get(tag)
        if built is None:
            raise _NotPlain
        value = node.value
        obj = built.get(value, _MISSING)
        if obj is _MISSING:
            obj = _SCALARS[tag](loader, node)  # errors (!!int "x") propagate, and are not remembered
            if len(value) <= _RESOLVED_LENGTH:
                if len(built) >= _RESOLVED_MAX:
                    built.clear()
                built[value] = obj
        return obj
    if cls is SequenceNode and tag == _SEQ:
        return [_build(loader, item, seen) for item in node.value]
    if cls is MappingNode and tag == _MAP:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is not ScalarNode:
                raise _NotPlain  # a list or mapping as a key: PyYAML says what is wrong with it
            out[_build(loader, key_node, seen)] = _build(loader, value_node, seen)  # merge keys (<<) raise
        return out
    raise _NotPlain

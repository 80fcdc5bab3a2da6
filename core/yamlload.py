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

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:  # PyYAML's C parser is several times faster; fall back to pure Python.
    _Base: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeLoader

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_SCALARS = {
    tag: _Base.yaml_constructors[tag]
    for tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
}
_RESOLVED_MAX = 50_000
"""Plain scalars whose tag is remembered, and scalars of each tag whose value is, per process (cleared when full)."""
_BUILT: dict[str, dict[str, Any]] = {tag: {} for tag in _SCALARS}
"""Per tag (null, bool, int, float): the object each text constructs to. They are immutable, so shared."""
_MISSING = object()
_RESOLVED_LENGTH = 64
"""Longest plain scalar remembered: keys and values of configs, not text."""


class SafeLoader(_Base):  # type: ignore[misc, valid-type]
    """The safe loader, remembering the implicit tag of each plain scalar it has resolved."""

    _resolved: dict[str, str] = {}

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        """As PyYAML resolves, from a memo for short plain scalars.

        For a plain scalar (``implicit[0]``) PyYAML's answer depends on its text alone: the implicit
        resolvers match the text, else it is a string. Quoted and long scalars (prompts, commands)
        are not remembered: they resolve to str at once, and keeping them would hold memory for nothing.
        """
        if kind is not ScalarNode or not implicit[0] or len(value) > _RESOLVED_LENGTH:
            return super().resolve(kind, value, implicit)
        tag = self._resolved.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._resolved) >= _RESOLVED_MAX:
                self._resolved.clear()
            self._resolved[value] = tag
        return tag


class _NotPlain(Exception):
    """The document needs PyYAML's general constructor."""


def load_yaml(text: str) -> Any:
    """One YAML document as Python objects, exactly as ``yaml.load(text, CSafeLoader)`` gives it."""
    loader = SafeLoader(text)
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

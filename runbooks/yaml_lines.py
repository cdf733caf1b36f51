"""Fast YAML reading: libyaml parses, and the result is built as ruamel's line-numbered round-trip containers.

ruamel.yaml's round-trip loader is pure Python and takes about 25 seconds for a providers.yaml of
1,000 providers. libyaml (PyYAML's C parser) reads the same file in well under a second and reports the
same positions, so `fast_tree` builds the very CommentedMap / CommentedSeq tree, with the same `.lc`
line and column data, that `YAML(typ="rt").load` returns. Scalars are resolved by ruamel's own YAML 1.2
resolver. Whatever this reader does not reproduce exactly (syntax errors, duplicate keys, anchors and
aliases, merge keys, explicit tags, complex keys, omitted values, several documents) makes it return None, and
the caller parses with ruamel instead, so error messages and every unusual document stay ruamel's.
Floats and zeros are made by ruamel's own round-trip constructor, so they keep the format ruamel records.

Both readers are bounded: a document nested deeper than MAX_DEPTH, or whose aliases stand for more than
MAX_ALIASED_NODES nodes (an alias bomb: ten lines that expand to billions of nodes), raises ShapeError.
The fast reader checks the depth as it builds; `check_shape` scans the events of a document before ruamel
composes it (ruamel shares an aliased node, but everything that walks the tree afterwards expands it, and
ruamel's composer recurses once per level of nesting).
"""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections.abc import Iterable, Iterator
from contextlib import closing
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FLOAT = "tag:yaml.org,2002:float"
_CONSTRUCTOR = YAML(typ="rt").constructor  # a YAML 1.2 round-trip constructor, for floats and zeros only

MAX_DEPTH = 100
"""The deepest nesting of mappings and sequences either reader accepts; the data needs about 8 levels."""
MAX_ALIASED_NODES = 100_000
"""How many nodes the aliases of one document may stand for in all; a real config's anchors stand for hundreds."""


class ShapeError(Exception):
    """The document nests too deeply, or its aliases expand too far or into themselves, at 1-based `line`, `column`."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


class _Unsupported(Exception):
    """The document uses something only ruamel reproduces faithfully."""


try:
    from yaml.cyaml import CParser as _CParser
except ImportError:  # PyYAML built without libyaml: ruamel reads everything
    _CParser = None


# ruamel's YAML 1.2 implicit resolvers, by first character (None: any), as its resolver applies them.
_IMPLICIT: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {
    first: [(str(tag), regexp) for tag, regexp in rules]
    for first, rules in VersionedResolver(version=(1, 2)).versioned_resolver.items()
}


def _resolve(value: str) -> str:
    """The tag ruamel gives the plain scalar `value` in a YAML 1.2 document."""
    for tag, regexp in _IMPLICIT.get(value[0], []) + _IMPLICIT.get(None, []):
        if regexp.match(value):
            return tag
    return _STR


def fast_tree(text: str) -> Any | None:
    """The document in `text` as ruamel's round-trip load would return it, or None to ask ruamel itself."""
    return _read(text, lines=True)


def fast_data(text: str) -> Any | None:
    """The same document as plain dicts, lists and scalars, without line numbers; None to ask ruamel.

    It is what `fast_tree` gives with every container made a dict or a list, which is all validation
    needs; the line numbers are only wanted once there is a problem to report, and building them takes
    most of the reading time.
    """
    return _read(text, lines=False)


def _read(text: str, *, lines: bool) -> Any | None:
    if _CParser is None or "%YAML" in text:  # a version directive changes how ruamel resolves scalars
        return None
    parser = _CParser(text)
    collecting = gc.isenabled()
    gc.disable()  # hundreds of thousands of new containers would trigger collections that find nothing
    try:
        return _build(parser, lines)
    except (yaml.YAMLError, _Unsupported, ValueError):  # ShapeError is not one of them: the caller reports it
        return None
    finally:
        if collecting:
            gc.enable()
        parser.dispose()


def _build(parser: Any, lines: bool) -> Any:
    """Build the tree from libyaml's events, without holding libyaml's node graph in memory as well."""
    mapping, sequence = (CommentedMap, CommentedSeq) if lines else (dict, list)
    root: Any = None
    # Open containers: [container, is_mapping, pending key (or _NO_KEY), the key's start mark].
    stack: list[list[Any]] = []
    documents = 0
    while True:
        event = parser.get_event()
        kind = type(event)
        if kind is yaml.ScalarEvent or kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            mark = event.start_mark
            if kind is yaml.ScalarEvent:
                node: Any = _scalar(event)
            elif kind is yaml.MappingStartEvent:
                if event.tag not in (None, "!", _MAP):
                    raise _Unsupported
                node = mapping()
            else:
                if event.tag not in (None, "!", _SEQ):
                    raise _Unsupported
                node = sequence()
            if kind is not yaml.ScalarEvent and len(stack) >= MAX_DEPTH:
                raise _too_deep(mark)
            if lines and kind is not yaml.ScalarEvent:
                node.lc.line, node.lc.col = mark.line, mark.column
            if not stack:
                root = node
            else:
                top = stack[-1]
                if not top[1]:
                    seq = top[0]
                    if lines:
                        seq.lc.add_idx_line_col(len(seq), [mark.line, mark.column])
                    seq.append(node)
                elif top[2] is _NO_KEY:
                    # A key: only plain hashable scalars, no merge key, no duplicates (ruamel reports those).
                    if kind is not yaml.ScalarEvent or node in top[0] or (node == "<<" and event.implicit[0]):
                        raise _Unsupported
                    top[2], top[3] = node, mark
                else:
                    key, key_mark = top[2], top[3]
                    if lines:
                        top[0].lc.add_kv_line_col(key, [key_mark.line, key_mark.column, mark.line, mark.column])
                    top[0][key] = node
                    top[2] = _NO_KEY
            if kind is not yaml.ScalarEvent:
                stack.append([node, kind is yaml.MappingStartEvent, _NO_KEY, None])
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            stack.pop()
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Unsupported
        elif kind is yaml.StreamEndEvent:
            return root
        elif kind is yaml.AliasEvent:  # ruamel shares the anchored node; leave that to it
            raise _Unsupported


_NO_KEY = object()


def _scalar(event: yaml.ScalarEvent) -> Any:
    value = event.value
    if event.tag in (None, "!") and not event.implicit[0]:  # quoted or block: always a string
        return value
    if event.tag is not None:  # an explicit tag; only !!str is simple
        if event.tag != _STR:
            raise _Unsupported
        return value
    if not value:  # an omitted value: libyaml and ruamel place it differently
        raise _Unsupported
    tag = _resolve(value)
    if tag == _STR:
        return value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return value.lower() == "true"
    if tag == "tag:yaml.org,2002:int" and _DECIMAL.fullmatch(value):
        if value.lstrip("+-") == "0":  # ruamel keeps a zero's written width (ScalarInt): its own constructor makes it
            return _CONSTRUCTOR.construct_yaml_int(ScalarNode(tag, value))
        return int(value)
    if tag == "tag:yaml.org,2002:timestamp" and _DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:  # shaped like a date but no day of the calendar (2026-13-45): text, as for ruamel here
            return value
    if tag == _FLOAT:
        return _CONSTRUCTOR.construct_yaml_float(ScalarNode(tag, value))
    raise _Unsupported


# -------------------------------------------------------------------------------------------------
# Bounds, for the documents ruamel reads
# -------------------------------------------------------------------------------------------------


def check_shape(text: str) -> None:
    """Raise ShapeError if the document in `text` nests deeper than MAX_DEPTH or its aliases expand too far.

    It reads only the parser's events, in constant memory: libyaml's when it parses the text, else ruamel's
    own (whose syntax errors then propagate as ruamel reports them).
    """
    if _CParser is not None:
        try:
            with closing(_libyaml_events(text)) as events:
                _check_events(events)
            return
        except yaml.YAMLError:
            pass  # libyaml cannot read it; ruamel's parser says why, or reads what libyaml does not
    _check_events(YAML(typ="rt").parse(text))


def _libyaml_events(text: str) -> Iterator[Any]:
    parser = _CParser(text)
    try:
        while True:
            event = parser.get_event()
            yield event
            if type(event) is yaml.StreamEndEvent:
                return
    finally:
        parser.dispose()


class _Open:
    """A mapping or sequence being read: its anchor, its height in levels, and the nodes it stands for."""

    __slots__ = ("anchor", "height", "nodes")

    def __init__(self, anchor: str | None) -> None:
        self.anchor, self.height, self.nodes = anchor, 1, 1


def _check_events(events: Iterable[Any]) -> None:
    """Follow the nesting and the anchors of a stream of libyaml or ruamel events (both name them alike)."""
    stack: list[_Open] = []
    # Each anchor's latest definition: still open (an alias to it would be inside itself), or (height, nodes).
    anchors: dict[str, _Open | tuple[int, int]] = {}
    aliased = 0
    for event in events:
        kind = type(event).__name__
        if kind in ("MappingStartEvent", "SequenceStartEvent"):
            if len(stack) >= MAX_DEPTH:
                raise _too_deep(event.start_mark)
            stack.append(_Open(event.anchor))
            if event.anchor is not None:
                anchors[event.anchor] = stack[-1]
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            done = stack.pop()
            if done.anchor is not None and anchors.get(done.anchor) is done:
                anchors[done.anchor] = (done.height, done.nodes)
            _count(stack, done.height, done.nodes)
        elif kind == "ScalarEvent":
            if event.anchor is not None:
                anchors[event.anchor] = (0, 1)
            _count(stack, 0, 1)
        elif kind == "AliasEvent":
            target = anchors.get(event.anchor)
            if target is None:
                continue  # an undefined alias: the composer reports it
            mark = event.start_mark
            if isinstance(target, _Open):
                raise ShapeError(
                    f"the alias *{event.anchor} is used inside the node it names, so its value would never end",
                    mark.line + 1,
                    mark.column + 1,
                )
            height, nodes = target
            aliased += nodes
            if aliased > MAX_ALIASED_NODES:
                raise ShapeError(
                    f"with *{event.anchor} here the aliases stand for more than {MAX_ALIASED_NODES:,} nodes "
                    f"(*{event.anchor} alone for {nodes:,}): nested aliases like these are an alias bomb",
                    mark.line + 1,
                    mark.column + 1,
                )
            if len(stack) + height > MAX_DEPTH:
                raise _too_deep(mark, f" through the alias *{event.anchor}")
            _count(stack, height, nodes)


def _count(stack: list[_Open], height: int, nodes: int) -> None:
    """Add a finished node of `height` levels standing for `nodes` nodes to the container it is in."""
    if stack:
        parent = stack[-1]
        parent.height = max(parent.height, height + 1)
        parent.nodes += nodes


def _too_deep(mark: Any, how: str = "") -> ShapeError:
    return ShapeError(
        f"mappings and sequences nested more than {MAX_DEPTH} levels deep{how}; no runbook data needs a tenth as many",
        mark.line + 1,
        mark.column + 1,
    )

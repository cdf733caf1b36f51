"""Fast YAML reading: libyaml parses, and the result is built as ruamel's line-numbered round-trip containers.

ruamel.yaml's round-trip loader is pure Python and takes about 25 seconds for a providers.yaml of
1,000 providers. libyaml (PyYAML's C parser) reads the same file in well under a second and reports the
same positions, so `fast_tree` builds the very CommentedMap / CommentedSeq tree, with the same `.lc`
line and column data, that `YAML(typ="rt").load` returns. Scalars are resolved by ruamel's own YAML 1.2
resolver. Whatever this reader does not reproduce exactly (syntax errors, duplicate keys, anchors and
aliases, merge keys, explicit tags, complex keys, omitted values, several documents) makes it return None, and
the caller parses with ruamel instead, so error messages and every unusual document stay ruamel's.
Floats are made by ruamel's own round-trip constructor, so they keep the format ruamel records.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
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
_CONSTRUCTOR = YAML(typ="rt").constructor  # a YAML 1.2 round-trip constructor, used for floats only


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
    except (yaml.YAMLError, _Unsupported, ValueError):
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
        return int(value)
    if tag == "tag:yaml.org,2002:timestamp" and _DATE.fullmatch(value):
        return dt.date.fromisoformat(value)
    if tag == _FLOAT:
        return _CONSTRUCTOR.construct_yaml_float(ScalarNode(tag, value))
    raise _Unsupported

"""Read a LiteLLM proxy config exactly as the pinned proxy loads it, keeping each part's file and line.

LiteLLM 1.106.2 reads its config with PyYAML's `yaml.safe_load` and then applies `include:`
(`ProxyConfig._get_config_from_file` and `_process_includes` in litellm/proxy/proxy_server.py, the merge in
litellm/proxy/common_utils/config_includes.py). This module does the same with the same loader, so a config
it reads is the config the proxy starts with, and one it refuses is one the proxy refuses:

- YAML 1.1 as PyYAML reads it; a duplicate key keeps its last value (and is reported as a warning); a tag the
  safe loader has no constructor for (`!!python/object/apply:…`, `!Ref`) makes the file unreadable;
- the main config must be a non-empty mapping; an included file may be empty, else it must be a mapping with
  text keys;
- each `include:` entry is resolved next to the file that declares it; when it is not there but exists next to
  the main config, that file is read (with a warning), and when both exist the declaring file's neighbour wins;
- a file already read is skipped, so a cycle of includes is not an error; entries are read breadth first;
- lists are concatenated and every other top-level value is replaced by the file read later.

Hostile input ends in a finding, never a hang or a traceback: nesting deeper than `MAX_DEPTH`, aliases that
would expand to more than `MAX_EXPANDED_NODES` nodes, an alias to the node that contains it, and more than
`MAX_FILES` files are refused. Nothing here recurses over the document.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode
from yaml.reader import ReaderError

from runbooks.findings import Finding, Unreadable, display_path
from runbooks.loader import read_text, yaml_character_problem

MAX_DEPTH = 100
"""Deepest nesting of mappings and sequences read; no LiteLLM setting nests a tenth as deep."""
MAX_EXPANDED_NODES = 1_000_000
"""Most nodes a file may hold once every alias and merge is expanded (an alias bomb holds billions)."""
MAX_FILES = 1_000
"""Most files one config may read through `include:`."""

INCLUDE = "include"


@dataclass(frozen=True)
class Placed:
    """A node of the config, with the file it was written in, its line there and its YAML path."""

    file: str
    node: Any
    line: int
    path: str


@dataclass(frozen=True)
class ProxyConfig:
    """The config after `include:` is applied, keeping where each part came from."""

    sections: dict[str, Placed | list[Placed]]
    """Top-level keys; a list's items are kept one by one because includes extend lists."""
    trees: list[Placed]
    """Every file read, main config first."""
    main: Placed
    warnings: list[Finding] = field(default_factory=list)
    """What LiteLLM reads differently from what the file seems to say: duplicate keys, includes found elsewhere."""

    def items(self, key: str) -> list[Placed]:
        """The items of a top-level list such as `model_list`, from every file."""
        value = self.sections.get(key)
        return value if isinstance(value, list) else []

    def mapping(self, key: str) -> Placed | None:
        """A top-level mapping such as `router_settings`, from the file that set it last."""
        value = self.sections.get(key)
        return value if isinstance(value, Placed) and isinstance(value.node, CommentedMap) else None


# --- Reading the files --------------------------------------------------------------------------------


def read_proxy_config(config: Path, *, display_root: Path | None = None) -> ProxyConfig:
    """Read a LiteLLM proxy config and its includes as LiteLLM does; raise Unreadable where LiteLLM would fail."""
    root = os.path.abspath(config)
    main_name = _name(Path(config), display_root)
    if not os.path.exists(root):
        raise Unreadable([Finding("parse_error", "file not found", main_name)])
    if not os.path.isdir(root) and not stat.S_ISREG(os.stat(root).st_mode):
        raise Unreadable([Finding("parse_error", "cannot be read: it is not a regular file", main_name)])
    warnings: list[Finding] = []
    main_tree = _load(Path(root), main_name, warnings, via=())
    if main_tree is None:
        raise Unreadable(
            [Finding("parse_error", "the config is empty; LiteLLM refuses to start without one", main_name)]
        )
    if not isinstance(main_tree, CommentedMap):
        raise Unreadable([Finding("parse_error", "the file must hold a mapping at its top level", main_name, 1)])
    main = Placed(main_name, main_tree, 1, "")
    sections: dict[str, Placed | list[Placed]] = {}
    _merge(sections, main, warnings)
    trees = [main]
    # _resolve in config_includes.py: one queue of (entry, declaring file), every file read at most once.
    loaded = {root}
    pending: deque[tuple[Placed, str, tuple[Placed, ...]]] = deque(
        (entry, root, (entry,)) for entry in _includes(main, ())
    )
    while pending:
        entry, declared_in, via = pending.popleft()
        location = _resolve_include(entry, declared_in, root, display_root, warnings)
        if location in loaded:
            continue
        if len(loaded) >= MAX_FILES:
            message = f"more than {MAX_FILES} files are included; check-config stops here"
            raise Unreadable([_at(entry, message, via[:-1])])
        _check_readable(entry, location, declared_in, root, display_root, via[:-1])
        name = _name(Path(location), display_root)
        tree = _load(Path(location), name, warnings, via=via)
        loaded.add(location)
        if tree is None or (not isinstance(tree, CommentedMap) and not tree):
            continue  # `yaml.safe_load(file) or {}`: an empty included file adds nothing
        if not isinstance(tree, CommentedMap):
            message = "an included file must hold a mapping at its top level (LiteLLM refuses it)"
            raise Unreadable([_with_via(Finding("parse_error", message, name, 1), via)])
        for key in tree:
            if not isinstance(key, str):
                message = f"top-level key {key!r} is not text; LiteLLM refuses an included file whose keys are not"
                raise Unreadable([_with_via(Finding("parse_error", message, name, key_line(tree, key)), via)])
        placed = Placed(name, tree, 1, "")
        _merge(sections, placed, warnings)
        trees.append(placed)
        pending += [(item, location, (*via, item)) for item in _includes(placed, via)]
    return ProxyConfig(sections, trees, main, warnings)


def _name(file: Path, display_root: Path | None) -> str:
    """How messages name `file`; a path that cannot be resolved (a symlink loop) is named as written."""
    try:
        return display_path(file, display_root)
    except (OSError, RuntimeError):
        if display_root is not None:
            relative = os.path.relpath(os.path.abspath(file), os.path.abspath(display_root))
            if not relative.startswith(".."):
                return Path(relative).as_posix()
        return str(file)


def _includes(tree: Placed, via: tuple[Placed, ...]) -> list[Placed]:
    """The `include:` entries of one file, as include_entries in config_includes.py accepts them."""
    node: CommentedMap = tree.node
    if INCLUDE not in node:
        return []
    value, line = node[INCLUDE], key_line(node, INCLUDE)
    if not isinstance(value, CommentedSeq):
        message = "'include' must be a list of file paths (LiteLLM refuses anything else, even an empty value)"
        raise Unreadable([_with_via(parse_error(tree, line, message, INCLUDE), via)])
    out = []
    for i, item in enumerate(value):
        here = item_line(value, i, line)
        if not isinstance(item, str):
            message = f"each 'include' entry must be a file path, not {_kind(item)}"
            raise Unreadable([_with_via(parse_error(tree, here, message, f"include[{i}]"), via)])
        out.append(Placed(tree.file, item, here, f"include[{i}]"))
    return out


def _resolve_include(
    entry: Placed, declared_in: str, root: str, display_root: Path | None, warnings: list[Finding]
) -> str:
    """resolve_include_file_path in config_includes.py: next to the declaring file, else next to the main config."""
    declared = os.path.abspath(os.path.join(os.path.dirname(declared_in), entry.node))
    beside_root = os.path.abspath(os.path.join(os.path.dirname(root), entry.node))
    if beside_root == declared or not os.path.exists(beside_root):
        return declared
    here, there = _name(Path(declared), display_root), _name(Path(beside_root), display_root)
    if not os.path.exists(declared):
        message = (
            f"include '{entry.node}' is not next to {entry.file} ({here} does not exist), so LiteLLM reads {there} "
            "next to the main config instead, with a warning; move the file next to the config that includes it"
        )
        warnings.append(_include_warning(entry, message))
        return beside_root
    message = (
        f"include '{entry.node}' matches two files: LiteLLM reads {here}, next to {entry.file}, and skips {there}, "
        "next to the main config; rename one of them"
    )
    warnings.append(_include_warning(entry, message))
    return declared


def _include_warning(entry: Placed, message: str) -> Finding:
    return Finding("include_resolution", message, entry.file, entry.line, "warning", {"key": entry.path})


def _check_readable(
    entry: Placed, location: str, declared_in: str, root: str, display_root: Path | None, via: tuple[Placed, ...]
) -> None:
    """Raise Unreadable, at the include entry, for a file LiteLLM cannot read: missing, a directory, a loop."""
    name = _name(Path(location), display_root)
    if os.path.isdir(location):
        message = f"include '{entry.node}' names a directory ({name}), not a file; LiteLLM cannot read it"
        raise Unreadable([_at(entry, message, via)])
    if os.path.exists(location):
        if not stat.S_ISREG(os.stat(location).st_mode):
            message = f"include '{entry.node}' is not a regular file ({name}); reading it would never end"
            raise Unreadable([_at(entry, message, via)])
        return
    try:
        os.stat(location)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            message = f"include '{entry.node}' is a symlink loop ({name}); LiteLLM cannot read it"
            raise Unreadable([_at(entry, message, via)]) from None
    looked = [name]
    if os.path.dirname(declared_in) != os.path.dirname(root):
        looked.append(_name(Path(os.path.join(os.path.dirname(root), entry.node)), display_root))
    message = f"included file not found: {entry.node} (LiteLLM looks for {' and then '.join(looked)})"
    raise Unreadable([_at(entry, message, via)])


def _at(entry: Placed, message: str, via: tuple[Placed, ...]) -> Finding:
    """A problem with an include entry, at its own file and line."""
    return _with_via(parse_error(entry, entry.line, message, entry.path), via)


def _with_via(finding: Finding, via: tuple[Placed, ...]) -> Finding:
    """The finding, saying which include entries (file:line) pulled its file in."""
    if not via:
        return finding
    chain = " ← ".join(f"{entry.file}:{entry.line}" for entry in reversed(via))
    return Finding(
        finding.reason,
        f"{finding.message} (included from {chain})",
        finding.file,
        finding.line,
        finding.severity,
        finding.context,
        finding.path,
        finding.column,
    )


def _kind(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, CommentedMap):
        return "a mapping"
    if isinstance(value, CommentedSeq):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _merge(sections: dict[str, Placed | list[Placed]], tree: Placed, warnings: list[Finding]) -> None:
    """Add one file's top-level keys as _merged in config_includes.py: lists are extended, the rest replaced."""
    node: CommentedMap = tree.node
    for key in node:
        if key == INCLUDE:
            continue
        value, line = node[key], key_line(node, key)
        existing = sections.get(key)
        if isinstance(value, CommentedSeq):
            items = [Placed(tree.file, item, item_line(value, i, line), f"{key}[{i}]") for i, item in enumerate(value)]
            sections[key] = (existing if isinstance(existing, list) else []) + items
            continue
        if isinstance(existing, list) and existing:
            message = (
                f"'{key}' is {_kind(value)} here, so LiteLLM replaces the {len(existing)} item(s) read before "
                f"(from {existing[0].file}) instead of adding to them"
            )
            warnings.append(Finding("include_resolution", message, tree.file, line, "warning", {"key": str(key)}))
        sections[key] = Placed(tree.file, value, line, str(key))


# --- One file, as yaml.safe_load reads it --------------------------------------------------------------


def _load(file: Path, name: str, warnings: list[Finding], *, via: tuple[Placed, ...]) -> Any:
    """The document in `file` as `yaml.safe_load` builds it, in line-numbered containers; None if it is empty."""
    try:
        # As the data files are read: a regular file only, a byte that is not UTF-8 at its line and column.
        text = read_text(file, name)
    except Unreadable as exc:
        raise Unreadable([_with_via(finding, via) for finding in exc.findings]) from None
    try:
        _check_depth(text, name, via)
        loader = _LineLoader(text)
    except ReaderError as exc:
        raise Unreadable([_with_via(yaml_character_problem(name, text, exc), via)]) from None
    try:
        try:
            node = loader.get_single_node()
        except ReaderError as exc:
            raise Unreadable([_with_via(yaml_character_problem(name, text, exc), via)]) from None
        except RecursionError:
            message = "the YAML is nested too deeply for LiteLLM's YAML loader, which fails on it"
            raise Unreadable([_with_via(Finding("parse_error", message, name), via)]) from None
        except yaml.MarkedYAMLError as exc:
            raise Unreadable([_with_via(_yaml_error(exc, name), via)]) from None
        except yaml.YAMLError as exc:
            raise Unreadable([_with_via(Finding("parse_error", f"YAML syntax error: {exc}", name), via)]) from None
        if node is None:
            return None
        _check_expansion(node, name, via)
        try:
            data = loader.construct_document(node)
        except RecursionError:
            message = "YAML merges here are chained too deeply for LiteLLM's YAML loader, which fails on them"
            raise Unreadable([_with_via(Finding("parse_error", message, name), via)]) from None
        except ConstructorError as exc:
            finding = _yaml_error(exc, name)
            message = f"LiteLLM's YAML loader (yaml.safe_load) refuses this file: {finding.message}"
            finding = Finding(finding.reason, message, finding.file, finding.line, column=finding.column)
            raise Unreadable([_with_via(finding, via)]) from None
        except yaml.YAMLError as exc:
            raise Unreadable([_with_via(Finding("parse_error", f"YAML error: {exc}", name), via)]) from None
    finally:
        loader.dispose()
    for key, first, last in loader.duplicates:
        message = (
            f"duplicate key '{key}': LiteLLM's YAML loader keeps only the last one (line {last}) and ignores this one"
        )
        warnings.append(Finding("duplicate_key", message, name, first, "warning", {"key": str(key)}))
    return data


def _yaml_error(exc: yaml.MarkedYAMLError, name: str) -> Finding:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (0, None)
    reason = " ".join(filter(None, [exc.context, exc.problem])) or "invalid YAML"
    at = f" (line {line}, column {column})" if mark else ""
    return Finding("parse_error", f"YAML syntax error: {reason}{at}", name, line, column=column)


def _check_depth(text: str, name: str, via: tuple[Placed, ...]) -> None:
    """Refuse nesting deeper than MAX_DEPTH before PyYAML's recursive composer meets it."""
    parser = yaml.CSafeLoader(text) if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader(text)
    depth = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1
                    message = f"the YAML is nested more than {MAX_DEPTH} levels deep; no LiteLLM setting is"
                    raise Unreadable([_with_via(Finding("parse_error", message, name, line), via)])
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return  # the loader proper reports the syntax error, as LiteLLM's does
    finally:
        parser.dispose()


def _check_expansion(root: Node, name: str, via: tuple[Placed, ...]) -> None:
    """Refuse a document whose aliases and merges would expand past MAX_EXPANDED_NODES, or that contains itself."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            sizes[key] = size
            if size > MAX_EXPANDED_NODES:
                line = node.start_mark.line + 1
                message = (
                    f"YAML aliases here expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb); "
                    "check-config does not expand them"
                )
                raise Unreadable([_with_via(Finding("parse_error", message, name, line), via)])
            continue
        if key in sizes:
            continue
        if key in on_path:
            line = node.start_mark.line + 1
            message = "a YAML alias here refers to the node that contains it; check-config does not read such a loop"
            raise Unreadable([_with_via(Finding("parse_error", message, name, line), via)])
        on_path.add(key)
        stack.append((node, True))
        stack += [(child, False) for child in _children(node) if id(child) not in sizes]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


class _LineLoader(yaml.SafeLoader):
    """yaml.SafeLoader (what LiteLLM's yaml.safe_load uses), building ruamel's line-numbered containers.

    Only the two container constructors differ from SafeConstructor's: they record the line of every key and
    item, and which keys of a mapping are written twice. Scalars, tags, merges and errors are PyYAML's own.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[Any, int, int]] = []

    def construct_line_map(self, node: MappingNode) -> Any:
        data = CommentedMap()
        data._yaml_set_line_col(node.start_mark.line, node.start_mark.column)
        yield data
        own = [key_node for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge"]
        self.flatten_mapping(node)
        own_ids = {id(k) for k in own}
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=False)
            try:
                hash(key)
            except TypeError:
                raise ConstructorError(
                    "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
                ) from None
            value = self.construct_object(value_node, deep=False)
            line = key_node.start_mark.line + 1
            if id(key_node) in own_ids:
                if key in seen:
                    self.duplicates.append((key, seen[key], line))
                seen[key] = line
            data[key] = value
            data.lc.add_kv_line_col(
                key,
                [
                    key_node.start_mark.line,
                    key_node.start_mark.column,
                    value_node.start_mark.line,
                    value_node.start_mark.column,
                ],
            )

    def construct_line_seq(self, node: SequenceNode) -> Any:
        data = CommentedSeq()
        data._yaml_set_line_col(node.start_mark.line, node.start_mark.column)
        yield data
        for index, child in enumerate(node.value):
            data.append(self.construct_object(child, deep=False))
            data.lc.add_idx_line_col(index, [child.start_mark.line, child.start_mark.column])


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_line_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_line_seq)


# --- Helpers shared by the config checks ----------------------------------------------------------------


def parse_error(where: Placed, line: int, message: str, path: str) -> Finding:
    """A config that LiteLLM cannot load, at `line` of the file `where` was read from."""
    return Finding(reason="parse_error", message=message, file=where.file, line=line, context={"key": path})


def text(value: Any) -> str:
    """A scalar of the config as text; empty for a missing value."""
    return "" if value is None else str(value)


def key_line(node: Any, key: Any, default: int = 1) -> int:
    """The 1-based line of `key` in a mapping (a merged key: where the anchor writes it), or `default`."""
    if not isinstance(node, CommentedMap):
        return default
    if key in node.lc.data:
        return node.lc.key(key)[0] + 1
    return default


def item_line(seq: CommentedSeq, index: int, default: int) -> int:
    """The 1-based line of item `index` of a sequence, or `default`."""
    try:
        return seq.lc.item(index)[0] + 1
    except (KeyError, IndexError, TypeError):
        return default

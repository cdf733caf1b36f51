"""Read a LiteLLM proxy config as the proxy does: `include:` applied, each part kept with its file and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from runbooks.findings import Finding, Unreadable, display_path
from runbooks.loader import read_yaml


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

    def items(self, key: str) -> list[Placed]:
        """The items of a top-level list such as `model_list`, from every file."""
        value = self.sections.get(key)
        return value if isinstance(value, list) else []

    def mapping(self, key: str) -> Placed | None:
        """A top-level mapping such as `router_settings`, from the file that set it last."""
        value = self.sections.get(key)
        return value if isinstance(value, Placed) and isinstance(value.node, CommentedMap) else None


def read_proxy_config(config: Path, *, display_root: Path | None = None) -> ProxyConfig:
    """Read a LiteLLM proxy config and its includes; raise Unreadable if any of it cannot be read."""
    main_name = display_path(config, display_root)
    main_tree = read_yaml(config, main_name)
    main = Placed(main_name, main_tree, 1, "")
    sections: dict[str, Placed | list[Placed]] = {}
    _merge(sections, main)
    trees = [main]
    # LiteLLM's _process_includes (litellm/proxy/proxy_server.py) walks one growing list: an included file's own
    # `include:` is appended to it, and every path is joined to the directory of the main config.
    pending = [(main, item) for item in _includes(main)]
    ancestry: dict[int, tuple[Path, ...]] = {id(main_tree): (config.resolve(),)}
    base = config.parent
    while pending:
        declarer, entry = pending.pop(0)
        target = base / entry.node
        chain = ancestry[id(declarer.node)]
        if not target.is_file():
            looked_for = display_path(target, display_root)
            raise Unreadable([_include_not_found(declarer, entry, looked_for, chain[-1])])
        if target.resolve() in chain:
            names = " → ".join(display_path(p, display_root) for p in (*chain, target))
            raise Unreadable([parse_error(declarer, entry.line, f"include cycle: {names}", entry.path)])
        name = display_path(target, display_root)
        placed = Placed(name, read_yaml(target, name), 1, "")
        ancestry[id(placed.node)] = (*chain, target.resolve())
        _merge(sections, placed)
        trees.append(placed)
        pending += [(placed, item) for item in _includes(placed)]
    return ProxyConfig(sections, trees, main)


def _includes(tree: Placed) -> list[Placed]:
    node = tree.node.get("include")
    if node is None:
        return []
    line = key_line(tree.node, "include")
    if not isinstance(node, CommentedSeq):
        raise Unreadable([parse_error(tree, line, "'include' must be a list of file paths", "include")])
    out = []
    for i, item in enumerate(node):
        here = item_line(node, i, line)
        if not isinstance(item, str) or not item.strip():
            raise Unreadable([parse_error(tree, here, "each 'include' entry must be a file path", f"include[{i}]")])
        out.append(Placed(tree.file, item.strip(), here, f"include[{i}]"))
    return out


def _include_not_found(declarer: Placed, entry: Placed, looked_for: str, declarer_path: Path) -> Finding:
    message = f"included file not found: {entry.node} (LiteLLM looks for {looked_for})"
    if (declarer_path.parent / entry.node).is_file():
        message += "; LiteLLM resolves every include against the main config's directory, not the including file's"
    return parse_error(declarer, entry.line, message, entry.path)


def _merge(sections: dict[str, Placed | list[Placed]], tree: Placed) -> None:
    """Add one file's top-level keys as LiteLLM does: lists are extended, anything else is replaced."""
    node: CommentedMap = tree.node
    for key in node:
        if key == "include":
            continue
        value, line = node[key], key_line(node, key)
        if isinstance(value, CommentedSeq):
            items = [Placed(tree.file, item, item_line(value, i, line), f"{key}[{i}]") for i, item in enumerate(value)]
            existing = sections.get(key)
            sections[key] = (existing if isinstance(existing, list) else []) + items
        else:
            sections[key] = Placed(tree.file, value, line, str(key))


def parse_error(where: Placed, line: int, message: str, path: str) -> Finding:
    """A config that LiteLLM cannot load, at `line` of the file `where` was read from."""
    return Finding(reason="parse_error", message=message, file=where.file, line=line, context={"key": path})


def text(value: Any) -> str:
    """A scalar of the config as text; empty for a missing value."""
    return "" if value is None else str(value)


def key_line(node: Any, key: Any, default: int = 1) -> int:
    """The 1-based line of `key` in a mapping, following `<<:` merges to where a merged key is written."""
    if not isinstance(node, CommentedMap):
        return default
    if key in node.lc.data:
        return node.lc.key(key)[0] + 1
    for source in getattr(node, "merge", []):
        mapping = source[1] if isinstance(source, tuple) else source
        if isinstance(mapping, CommentedMap) and key in mapping:
            return key_line(mapping, key, default)
    return default


def item_line(seq: CommentedSeq, index: int, default: int) -> int:
    """The 1-based line of item `index` of a sequence, or `default`."""
    try:
        return seq.lc.item(index)[0] + 1
    except (KeyError, IndexError, TypeError):
        return default

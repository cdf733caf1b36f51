"""Read the YAML data, validate it against the schema, and report every problem as file:line: path."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from runbooks.findings import DataError, Finding, Unreadable, display_path
from runbooks.findings import YamlPath as Path
from runbooks.rules import cost_rules, cross_rules, price_rules
from runbooks.schema import PricesFile, ProvidersFile, TeamFile
from runbooks.yaml_lines import fast_data, fast_tree

FILES = {"providers": "providers.yaml", "team": "team.yaml", "prices": "prices.yaml"}
"""The data files, by the key the schema uses for them, relative to the data directory."""


@dataclass(frozen=True)
class Dataset:
    """Everything the site is rendered from, validated, and where each fact was written."""

    providers: ProvidersFile
    team: TeamFile
    prices: PricesFile | None = None
    """LiteLLM's prices of the documented models (data/prices.yaml); None only when loaded with prices=False."""
    sources: dict[str, _Source] = field(default_factory=dict, repr=False, compare=False)

    def where(self, file_key: str, path: Path) -> tuple[str, int]:
        """The file and line a fact at `path` of data file `file_key` ("providers", "team") came from."""
        if file_key not in self.sources:
            return FILES.get(file_key, file_key), 0
        source = self.sources[file_key]
        return source.name, line_of(source.tree(), path)


class _Source:
    """One data file as read: its name for messages, its text, and its line-numbered tree once asked for."""

    def __init__(self, name: str, text: str) -> None:
        self.name, self.text, self._tree = name, text, None

    def tree(self) -> Any:
        """The file parsed with line numbers (parsed on first use: only problems and `where` need it)."""
        if self._tree is None:
            self._tree = parse_yaml(self.text, self.name)
        return self._tree


def load(data_dir: FsPath | str = "data", *, display_root: FsPath | str | None = None, prices: bool = True) -> Dataset:
    """Load and validate every data file in `data_dir`; raise DataError listing all problems found.

    Raises Unreadable, naming the file, when a data file is missing or is not YAML.

    With `prices=False` the price snapshot is neither read nor checked (sync-prices rewrites it).
    """
    data_dir = FsPath(data_dir)
    root = FsPath(display_root) if display_root is not None else data_dir.parent
    sources: dict[str, _Source] = {}
    data: dict[str, Any] = {}
    for key, filename in FILES.items():
        if key == "prices" and not prices:
            continue
        name = display_path(data_dir / filename, root)
        source = sources[key] = _Source(name, read_text(data_dir / filename, name))
        data[key] = fast_data(source.text)
        if not isinstance(data[key], dict):  # not for the fast reader, or not a mapping: ruamel says what it is
            data[key] = _plain(source.tree())

    problems: list[Finding] = []
    models: dict[str, Any] = {}
    schemas: dict[str, type[BaseModel]] = {"providers": ProvidersFile, "team": TeamFile, "prices": PricesFile}
    for key, schema in schemas.items():
        if key not in data:
            continue
        try:
            models[key] = schema.model_validate(data[key])
        except ValidationError as exc:
            problems += [_problem(sources[key].name, sources[key].tree(), err, schema) for err in exc.errors()]

    def located(rules: Iterable[Finding]) -> list[Finding]:
        """The rules' findings, from a data file's key ("providers") to its name and the line of the path."""
        return [
            replace(rule, file=sources[rule.file].name, line=line_of(sources[rule.file].tree(), rule.path))
            for rule in rules
        ]

    if not problems:
        problems = located(cross_rules(models["providers"], models["team"]))
    # Cost control and the price snapshot: checked once the providers and the team are coherent.
    if not problems:
        problems = located(cost_rules(models["team"]))
        if "prices" in models:
            problems += located(price_rules(models["providers"], models["prices"], sources["prices"].name))
    if problems:
        raise DataError(problems)
    return Dataset(providers=models["providers"], team=models["team"], prices=models.get("prices"), sources=sources)


def read_yaml(file: FsPath, name: str | None = None) -> Any:
    """Parse one YAML file keeping line numbers; raise Unreadable if that fails."""
    name = name or str(file)
    return parse_yaml(read_text(file, name), name)


def read_text(file: FsPath, name: str) -> str:
    """The text of a YAML file; raise Unreadable naming the file if it cannot be read."""
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Unreadable([_unreadable(name, "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Unreadable([_unreadable(name, f"cannot be read: {exc}")]) from None


def parse_yaml(text: str, name: str) -> Any:
    """Parse the YAML text of file `name` keeping line numbers; raise Unreadable if that fails."""
    tree = fast_tree(text)
    try:
        if tree is None:
            tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, None)
        reason = " ".join(filter(None, [exc.context, exc.problem])) or "invalid YAML"
        at = f" (line {line}, column {column})" if mark else ""
        raise Unreadable([_unreadable(name, f"YAML syntax error: {reason}{at}", line, column)]) from None
    except YAMLError as exc:
        raise Unreadable([_unreadable(name, f"YAML syntax error: {exc}")]) from None
    if not isinstance(tree, CommentedMap):
        raise Unreadable([_unreadable(name, "the file must hold a mapping at its top level", 1)])
    return tree


def _unreadable(name: str, message: str, line: int = 0, column: int | None = None) -> Finding:
    """A YAML file that cannot be read or parsed (a missing file too: there is nothing to parse)."""
    return Finding("parse_error", message, name, line, column=column)


def line_of(tree: Any, path: Path) -> int:
    """The 1-based line of the deepest node of `path` that exists in the parsed YAML tree."""
    node, line = tree, 1
    for part in path:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _problem(file: str, tree: Any, err: Any, schema: type[BaseModel]) -> Finding:
    loc: Path = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "["))))
    kind = err["type"]
    if kind == "missing":
        message = "field required"
    elif kind == "extra_forbidden":
        message = f"unknown key '{loc[-1]}'"
    elif kind == "string_pattern_mismatch":
        message = f"'{err['input']}' does not match the expected form {err['ctx']['pattern']}"
    elif kind == "value_error":
        message = str(err["ctx"]["error"])
    else:
        message = err["msg"][0].lower() + err["msg"][1:]
    if kind == "extra_forbidden":
        parent = _allowed_keys(schema, loc[:-1])
        if parent:
            message += f" (allowed here: {', '.join(parent)})"
    return Finding("invalid_data", message, file, line_of(tree, loc), path=loc)


def _allowed_keys(schema: type[BaseModel], path: Path) -> list[str]:
    """The keys the schema allows at `path`, to suggest the right spelling of an unknown key."""
    node: Any = schema
    for part in path:
        node = _unwrap(node)
        if _is_model(node) and isinstance(part, str) and part in node.model_fields:
            node = node.model_fields[part].annotation
        elif typing.get_args(node):
            node = typing.get_args(node)[-1]
        else:
            return []
    node = _unwrap(node)
    if not _is_model(node):
        return []
    # `visibility` is allowed on every record; the record's own keys come first.
    return sorted(node.model_fields, key=lambda key: key == "visibility")


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and `| None` from a field annotation."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _is_model(node: Any) -> bool:
    return isinstance(node, type) and issubclass(node, BaseModel)


def _plain(node: Any) -> Any:
    """Turn ruamel's round-trip containers into plain dicts, lists and str for strict validation."""
    if isinstance(node, dict):
        return {str(k) if isinstance(k, str) else k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node

"""Read the YAML data, validate it against the schema, and report every problem as file:line: path."""

from __future__ import annotations

import datetime as dt
import os
import stat
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.reader import ReaderError

from runbooks.findings import DataError, Finding, Unreadable, display_path
from runbooks.findings import YamlPath as Path
from runbooks.rules import cost_rules, cross_rules, observation_rules, price_rules
from runbooks.schema import ObservationsFile, PricesFile, ProvidersFile, ProxyErrorsFile, TeamFile
from runbooks.yaml_lines import ShapeError, check_shape, fast_data, fast_tree

FILES = {
    "providers": "providers.yaml",
    "team": "team.yaml",
    "prices": "prices.yaml",
    "proxy_errors": "proxy_errors.yaml",
    "observations": "observations.yaml",
}
"""The data files, by the key the schema uses for them, relative to the data directory."""

OPTIONAL_FILES = frozenset({"proxy_errors", "observations"})
"""Files a data directory may lack: without observations nothing is claimed as observed through the proxy."""


@dataclass(frozen=True)
class Dataset:
    """Everything the site is rendered from, validated, and where each fact was written."""

    providers: ProvidersFile
    team: TeamFile
    prices: PricesFile | None = None
    """LiteLLM's prices of the documented models (data/prices.yaml); None only when loaded with prices=False."""
    proxy_errors: ProxyErrorsFile | None = None
    """The proxy's own errors (data/proxy_errors.yaml), if the data directory has them."""
    observations: ObservationsFile | None = None
    """What `make observe` saw through the real proxy (data/observations.yaml), if recorded."""
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


def load(
    data_dir: FsPath | str = "data",
    *,
    display_root: FsPath | str | None = None,
    prices: bool = True,
    observations: bool = True,
) -> Dataset:
    """Load and validate every data file in `data_dir`; raise DataError listing all problems found.

    Raises Unreadable, naming the file, when a data file is missing or is not YAML.

    With `prices=False` the price snapshot is neither read nor checked (sync-prices rewrites it), and with
    `observations=False` neither are the observations (`make observe` rewrites them).
    """
    data_dir = FsPath(data_dir)
    root = FsPath(display_root) if display_root is not None else data_dir.parent
    sources: dict[str, _Source] = {}
    data: dict[str, Any] = {}
    for key, filename in FILES.items():
        if (key == "prices" and not prices) or (key == "observations" and not observations):
            continue
        if key in OPTIONAL_FILES and not (data_dir / filename).exists():
            continue
        name = _display_name(data_dir / filename, root)
        source = sources[key] = _Source(name, read_text(data_dir / filename, name))
        try:
            data[key] = fast_data(source.text)
        except ShapeError as exc:
            raise Unreadable([_shape_problem(name, exc)]) from None
        if not isinstance(data[key], dict):  # not for the fast reader, or not a mapping: ruamel says what it is
            data[key] = _plain(source.tree())

    problems: list[Finding] = []
    models: dict[str, Any] = {}
    schemas: dict[str, type[BaseModel]] = {
        "providers": ProvidersFile,
        "team": TeamFile,
        "prices": PricesFile,
        "proxy_errors": ProxyErrorsFile,
        "observations": ObservationsFile,
    }
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
        problems += located(
            observation_rules(models["providers"], models.get("proxy_errors"), models.get("observations"))
        )
    if problems:
        raise DataError(problems)
    return Dataset(
        providers=models["providers"],
        team=models["team"],
        prices=models.get("prices"),
        proxy_errors=models.get("proxy_errors"),
        observations=models.get("observations"),
        sources=sources,
    )


def _display_name(file: FsPath, root: FsPath) -> str:
    """How messages name a data file; as given when it cannot be resolved (a loop of symbolic links)."""
    try:
        return display_path(file, root)
    except (RuntimeError, OSError):
        return str(file)


def read_yaml(file: FsPath, name: str | None = None) -> Any:
    """Parse one YAML file keeping line numbers; raise Unreadable if that fails."""
    name = name or str(file)
    return parse_yaml(read_text(file, name), name)


def read_text(file: FsPath, name: str) -> str:
    """The text of a YAML file; raise Unreadable naming the file (and the line of a byte that is not UTF-8)."""
    try:
        # A FIFO or a device would block or never end: only a regular file is read (symlinks are followed).
        if not stat.S_ISREG(os.stat(file).st_mode):
            raise Unreadable([_unreadable(name, "cannot be read: it is not a regular file")])
        data = file.read_bytes()
    except FileNotFoundError:
        raise Unreadable([_unreadable(name, "file not found")]) from None
    except OSError as exc:
        raise Unreadable([_unreadable(name, f"cannot be read: {exc.strerror or exc}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_column(data, exc.start)
        message = f"not valid UTF-8: byte 0x{data[exc.start]:02x} at line {line}, column {column} ({exc.reason})"
        raise Unreadable([_unreadable(name, message + "; save the file as UTF-8", line, column)]) from None
    # As text mode reads it: every line break becomes "\n".
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _line_column(data: bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and column (in characters) of byte `offset` of `data`."""
    start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, len(data[start:offset].decode("utf-8", errors="replace")) + 1


def parse_yaml(text: str, name: str) -> Any:
    """Parse the YAML text of file `name` keeping line numbers; raise Unreadable if that fails.

    A document nested deeper than the readers allow, or whose aliases expand too far, is refused
    (runbooks.yaml_lines.MAX_DEPTH, MAX_ALIASED_NODES), as is a key written twice in one mapping.
    """
    try:
        tree = fast_tree(text)
        if tree is None:
            check_shape(text)
            tree = _ruamel().load(text)
    except ShapeError as exc:
        raise Unreadable([_shape_problem(name, exc)]) from None
    except _DuplicateKey as exc:
        message = f"duplicate key {exc.key} at line {exc.line}: it is already set at line {exc.first}"
        message += "; a mapping holds each key once, so keep one of them"
        raise Unreadable([_unreadable(name, message, exc.line, exc.column)]) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, None)
        reason = " ".join(filter(None, [exc.context, exc.problem])) or "invalid YAML"
        at = f" (line {line}, column {column})" if mark else ""
        raise Unreadable([_unreadable(name, f"YAML syntax error: {reason}{at}", line, column)]) from None
    except ReaderError as exc:
        raise Unreadable([yaml_character_problem(name, text, exc)]) from None
    except YAMLError as exc:
        raise Unreadable([_unreadable(name, f"YAML syntax error: {exc}")]) from None
    except RecursionError:  # not expected within MAX_DEPTH; still one line rather than a traceback
        raise Unreadable([_unreadable(name, "YAML nested too deeply to be read")]) from None
    if not isinstance(tree, CommentedMap):
        raise Unreadable([_unreadable(name, "the file must hold a mapping at its top level", 1)])
    return tree


def _shape_problem(name: str, exc: ShapeError) -> Finding:
    return _unreadable(name, f"{exc.message} (line {exc.line}, column {exc.column})", exc.line, exc.column)


def yaml_character_problem(name: str, text: str, exc: ReaderError) -> Finding:
    """A character YAML does not allow (NUL, other control characters), at its line and column."""
    position = exc.position if isinstance(exc.position, int) else 0
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    what = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
    if exc.character == 0:
        what += " (NUL)"
    message = f"the character {what} at line {line}, column {column} is not allowed in YAML"
    return _unreadable(name, message + " (only tabs, line breaks and printable characters are)", line, column)


class _DuplicateKey(Exception):
    """A key written twice in one mapping: the key as shown, where it is repeated and where it was first set."""

    def __init__(self, key: str, line: int, column: int, first: int) -> None:
        super().__init__(key)
        self.key, self.line, self.column, self.first = key, line, column, first


class _Constructor(RoundTripConstructor):
    """ruamel's round-trip constructor, with two changes: a short duplicate-key error, and no impossible dates.

    ruamel's duplicate-key message quotes both values in full (thousands of characters for a provider);
    ours names the key and both lines. A plain scalar shaped like a date that no calendar has
    (2026-13-45) is text, as the fast reader makes it, so the schema reports it at its YAML path.
    """

    def check_mapping_key(self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any) -> bool:
        """Return True if `key` is new in `mapping`; raise _DuplicateKey if it is already there."""
        if key not in mapping:
            return True
        first = _first_line(node, key_node, mapping, key)
        shown = repr(str(key)) if len(str(key)) <= 60 else repr(str(key)[:57] + "...")
        raise _DuplicateKey(shown, key_node.start_mark.line + 1, key_node.start_mark.column + 1, first)

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        """A date or time as ruamel makes it; the scalar's text when it names no real day or time."""
        try:
            return super().construct_yaml_timestamp(node, values)
        except ValueError:
            return node.value


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)


def _first_line(node: Any, key_node: Any, mapping: Any, key: Any) -> int:
    """The 1-based line where `key`, repeated at `key_node`, was first written in the mapping `node`."""
    written = getattr(mapping, "lc", None) and mapping.lc.data.get(key)
    if written:
        return written[0] + 1
    for other, _ in node.value:
        if other is key_node:
            break
        if isinstance(other, ScalarNode) and (other.tag, other.value) == (key_node.tag, key_node.value):
            return other.start_mark.line + 1
    return node.start_mark.line + 1


def _ruamel() -> YAML:
    """A round-trip YAML reader with our constructor."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    return yaml


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
    elif kind == "date_type" and isinstance(err["input"], str):
        message = _not_a_date(err["input"])
    else:
        message = err["msg"][0].lower() + err["msg"][1:]
    if kind == "extra_forbidden":
        parent = _allowed_keys(schema, loc[:-1])
        if parent:
            message += f" (allowed here: {', '.join(parent)})"
    return Finding("invalid_data", message, file, line_of(tree, loc), path=loc)


def _not_a_date(value: str) -> str:
    """Why the text `value`, where a date belongs, is none (YAML makes 2026-13-45 text: no such day exists)."""
    try:
        dt.date.fromisoformat(value)
    except ValueError as exc:
        return f"'{value}' is not a valid date: {exc}; write a day that exists, as YYYY-MM-DD"
    return f"'{value}' is quoted text, not a valid date; write it without quotes"


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

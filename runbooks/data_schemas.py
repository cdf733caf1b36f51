"""JSON Schemas of data/*.yaml for editors, generated from the pydantic models and committed under schemas/.

Editors that use yaml-language-server (VS Code's YAML extension, Neovim, Helix, …) read the schema named
on the first line of each data file (`# yaml-language-server: $schema=../schemas/providers.schema.json`)
and complete keys, show the descriptions of records and fields, and flag mistakes while typing.

The schemas are pydantic's JSON Schema of the models in runbooks/schema.py, plus what pydantic cannot
see in them: the rules written as validator functions (https links, loopback URLs, server paths) become
patterns, dictionary keys that break their pattern are refused, a code may be a number or a name, and a
model without a price-map entry can have no prices. What JSON Schema cannot say (a date in the future,
the number of sentences of an answer, cross-record rules such as unique ids) is written in the
description and left to `make validate`. They are written as JSON Schema draft-07, which every version
of yaml-language-server understands.

`python -m runbooks.data_schemas` (`make schemas`) writes them; `--check` fails when they differ from
the models.
"""

from __future__ import annotations

import argparse
import ast
import copy
import datetime as dt
import inspect
import itertools
import json
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import AfterValidator, BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from runbooks import schema
from runbooks.findings import Finding

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = "schemas"
"""Where the schemas live, relative to the repository root."""

DRAFT = "http://json-schema.org/draft-07/schema#"

DATA_FILES: dict[str, tuple[type[BaseModel], str]] = {
    "providers": (schema.ProvidersFile, "data/providers.yaml"),
    "team": (schema.TeamFile, "data/team.yaml"),
    "prices": (schema.PricesFile, schema.PRICES_FILE),
}
"""Each data file by its key: the model that validates it and its path in the repository."""

GENERATED_BY = "Generated from the pydantic models in runbooks/schema.py by `make schemas`; do not edit by hand."


def schema_file(key: str) -> str:
    """The schema of data file `key`, relative to the repository root: schemas/providers.schema.json."""
    return f"{SCHEMA_DIR}/{key}.schema.json"


def modeline(key: str) -> str:
    """The first line of data file `key`, naming its schema for yaml-language-server (relative to data/)."""
    return f"# yaml-language-server: $schema=../{schema_file(key)}"


# --- What the validators enforce, as JSON Schema ------------------------------------------------------

HTTPS_URL = "^https://[^\\s\"'<>()\\\\`]+$"
LOOPBACK_URL = r"^https?://(127\.0\.0\.1|localhost|\[::1\]):[0-9]{1,5}$"
SERVER_PATH = r"^(/[A-Za-z0-9._~+@%-]+)+/?$"
NOT_BLANK = r"\S"

TYPE_RULES: dict[Any, JsonSchemaValue] = {
    schema.HttpsUrl: {
        "pattern": HTTPS_URL,
        "description": "An https:// URL without spaces, quotes, brackets or backslashes.",
    },
    schema.LoopbackUrl: {
        "pattern": LOOPBACK_URL,
        "description": "Where the proxy listens on the server, like http://127.0.0.1:4001: scheme, loopback "
        "host and port, no path.",
    },
    schema.ServerPath: {
        "pattern": SERVER_PATH,
        "description": "An absolute path on the server made of letters, digits and . _ ~ + @ % -.",
    },
    schema.VerifiedOn: {
        # JSON Schema cannot compare a date with today: `make validate` refuses a day in the future.
        "description": "The day the facts were checked, written unquoted as YYYY-MM-DD; not a day in the "
        "future (`make validate`).",
    },
}
"""Rules of the annotated types of runbooks/schema.py whose check is a validator function."""

FIELD_RULES: dict[tuple[str, str], Callable[[JsonSchemaValue], JsonSchemaValue]] = {
    # The validator takes a number as its text (BeforeValidator): `code: 402` is as good as `code: "402"`.
    ("ErrorCode", "code"): lambda generated: {
        "title": generated.get("title", "Code"),
        "description": "The code as the provider returns it: an HTTP status such as 402 or a name such as "
        "insufficient_quota, at most 60 characters.",
        "anyOf": [{"type": "integer"}, {k: v for k, v in generated.items() if k != "title"}],
    },
    ("Faq", "answer"): lambda generated: {
        **generated,
        # Counting sentences is beyond JSON Schema: `make validate` counts them.
        "description": f"The direct answer, at most {schema.MAX_ANSWER_SENTENCES} sentences in each language; "
        "the rest belongs in `basis` (`make validate`).",
    },
}
"""Rules of single fields, by model and field name: a function of the schema pydantic generated for it."""

_PRICE_FACTS = ("mode", "input_usd_per_mtok", "output_usd_per_mtok", "max_input_tokens", "max_output_tokens")

MODEL_RULES: dict[tuple[str, str], JsonSchemaValue] = {
    # No price-map entry, no prices.
    ("ModelPrice", "_nothing_without_a_key"): {
        "if": {"properties": {"price_map_key": {"type": "null"}}, "required": ["price_map_key"]},
        "then": {"properties": {fact: {"type": "null"} for fact in _PRICE_FACTS}},
    },
}
"""Rules across the fields of one model, by model and the name of its model validator."""

VISIBILITY = (
    "Who may read this record: public (both sites) or internal (the team's site only). Without it, each fact "
    "takes its field's default, else the visibility of the record around it."
)


def _after_validators(metadata: Sequence[Any]) -> list[Callable[..., Any]]:
    return [item.func for item in metadata if isinstance(item, AfterValidator)]


def known_validators() -> dict[Callable[..., Any], JsonSchemaValue]:
    """Every validator function of runbooks/schema.py this module expresses or describes, with its rule."""
    known: dict[Callable[..., Any], JsonSchemaValue] = {}
    for annotated, rule in TYPE_RULES.items():
        for func in _after_validators(getattr(annotated, "__metadata__", ())):
            known[func] = rule
    models = {name: getattr(schema, name) for name, _ in FIELD_RULES}
    for model_name, field in FIELD_RULES:
        for func in _after_validators(models[model_name].model_fields[field].metadata):
            known[func] = {}  # its rule is applied to the field
    return known


def _expressed_by_pydantic(func: Any) -> bool:
    """Whether pydantic writes the validator's rule itself (a length after a BeforeValidator), or MODEL_RULES does."""
    inner = getattr(func, "func", func)  # functools.partial
    if getattr(inner, "__module__", "").startswith("pydantic."):
        return True
    model, _, name = getattr(inner, "__qualname__", "").partition(".")
    return (model, name) in MODEL_RULES


class DataSchemaGenerator(GenerateJsonSchema):
    """pydantic's JSON Schema generator, with the rules of the validator functions it cannot read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known = known_validators()
        self.unknown: list[str] = []
        """Validator functions met that this module neither expresses nor describes."""

    def function_after_schema(self, schema: core_schema.AfterValidatorFunctionSchema) -> JsonSchemaValue:
        """The schema of the validated type, with the validator's rule."""
        json_schema = super().function_after_schema(schema)
        func = schema["function"]["function"]
        if func not in self.known and not _expressed_by_pydantic(func):
            self.unknown.append(getattr(func, "__qualname__", repr(func)))
            return json_schema
        return {**json_schema, **self.known.get(func, {})}

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        """A string; one stripped before its length is checked may not be only spaces."""
        json_schema = super().str_schema(schema)
        if schema.get("strip_whitespace") and schema.get("min_length") and "pattern" not in json_schema:
            json_schema["pattern"] = NOT_BLANK
        return json_schema


def generate(key: str) -> tuple[dict[str, Any], list[str]]:
    """The JSON Schema of data file `key`, and the validator functions it could not express."""
    model, path = DATA_FILES[key]
    generator = DataSchemaGenerator()
    generated = generator.generate(model.__pydantic_core_schema__, mode="validation")
    definitions = generated.get("$defs", {})
    for (model_name, field), rule in FIELD_RULES.items():
        properties = definitions.get(model_name, {}).get("properties", {})
        if field in properties:
            properties[field] = rule(properties[field])
    for (model_name, _), rule in MODEL_RULES.items():
        if model_name in definitions:
            definitions[model_name].update(copy.deepcopy(rule))
    _describe_fields(generated, model)
    _describe_visibility(generated)
    body = _draft07(generated)
    document = {"$schema": DRAFT, "$comment": GENERATED_BY, **body, "title": path}
    return document, sorted(set(generator.unknown))


def field_docs(model: type[BaseModel]) -> dict[str, str]:
    """The docstrings written under the fields of `model` in its source (`name: type` then `\"\"\"…\"\"\"`)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(model)))
    except (OSError, TypeError, SyntaxError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs = {}
    for field, after in itertools.pairwise(body):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[field.target.id] = " ".join(inspect.cleandoc(after.value.value).split())
    return docs


def _describe_fields(generated: dict[str, Any], root: type[BaseModel]) -> None:
    """Give each property the docstring of its field, before the words of its rule if it has one."""
    records = {name: getattr(schema, name, None) for name in generated.get("$defs", {})}
    targets = [(generated, root)] + [
        (generated["$defs"][name], model)
        for name, model in records.items()
        if isinstance(model, type) and issubclass(model, BaseModel)
    ]
    for record, model in targets:
        properties = record.get("properties", {})
        for field, doc in field_docs(model).items():
            if field in properties:
                rule = properties[field].get("description")
                properties[field]["description"] = f"{doc}\n\n{rule}" if rule else doc


def _describe_visibility(node: Any) -> None:
    """Say on every record's `visibility` key what it means."""
    for record in _objects(node):
        visibility = record.get("properties", {}).get("visibility")
        if isinstance(visibility, dict):
            visibility.setdefault("description", VISIBILITY)


def _objects(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _objects(value)
    elif isinstance(node, list):
        for value in node:
            found += _objects(value)
    return found


def _draft07(node: Any) -> Any:
    """pydantic's draft 2020-12 output as draft-07, which yaml-language-server reads in every version.

    `$defs` become `definitions`; a `$ref` with other keywords beside it (ignored by draft-07) is put in
    an `allOf`; a mapping whose keys have a pattern refuses other keys, as the model does.
    """
    if isinstance(node, list):
        return [_draft07(value) for value in node]
    if not isinstance(node, dict):
        return node
    out = {("definitions" if k == "$defs" else k): _draft07(v) for k, v in node.items()}
    if isinstance(out.get("$ref"), str):
        out["$ref"] = out["$ref"].replace("#/$defs/", "#/definitions/")
        if len(out) > 1:
            ref = out.pop("$ref")
            out = {**out, "allOf": [{"$ref": ref}]}
    if "patternProperties" in out:
        out.setdefault("additionalProperties", False)
    return out


def render(document: dict[str, Any]) -> str:
    """A schema as the text committed under schemas/."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def to_json_types(value: Any) -> Any:
    """A parsed YAML value as an editor validates it: plain JSON types, dates as the text YYYY-MM-DD.

    yaml-language-server reads YAML 1.2 by default, where an unquoted 2026-11-24 is a string, and in
    YAML 1.1 mode it validates the date as the text it was written as; the loader reads it as a date.
    """
    if isinstance(value, dict):
        return {str(k): to_json_types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_types(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool) or value is None:
        return value
    for kind in (str, int, float):  # ruamel's scalars are subclasses of these
        if isinstance(value, kind):
            return kind(value)
    return value


def stale(root: Path = ROOT) -> list[Finding]:
    """A finding for each committed schema that is missing or differs from the models."""
    findings = []
    for key in DATA_FILES:
        target = root / schema_file(key)
        expected = render(generate(key)[0])
        try:
            current = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current != expected:
            state = "is missing" if current is None else "differs from the models in runbooks/schema.py"
            line = 1 if current else 0
            findings.append(Finding("stale_schema", f"{state}; run `make schemas`", schema_file(key), line))
    return findings


def write(root: Path = ROOT) -> list[str]:
    """Write every schema under `root`/schemas/; return the files written."""
    (root / SCHEMA_DIR).mkdir(exist_ok=True)
    written = []
    for key in DATA_FILES:
        (root / schema_file(key)).write_text(render(generate(key)[0]), encoding="utf-8")
        written.append(schema_file(key))
    return written


def main(argv: Sequence[str] | None = None, root: Path = ROOT) -> int:
    """`python -m runbooks.data_schemas [--check]`: write the schemas under `root`, or fail when they are stale."""
    parser = argparse.ArgumentParser(
        prog="python -m runbooks.data_schemas",
        description="Write the JSON Schemas of data/*.yaml into schemas/ from the models in runbooks/schema.py.",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a schema is stale")
    args = parser.parse_args(argv)
    if args.check:
        findings = stale(root)
        for finding in findings:
            print(finding, file=sys.stderr)
        print(f"schemas: {'fail' if findings else 'pass'} ({len(findings)} finding(s), 0 warning(s))")
        return 1 if findings else 0
    for name in write(root):
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

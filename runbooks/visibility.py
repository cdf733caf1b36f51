"""Who may read each fact: the public/internal visibility of every value, and the public view of a data set."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import typing
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel

from runbooks.findings import YamlPath as Path
from runbooks.findings import dotted
from runbooks.loader import Dataset
from runbooks.schema import INTERNAL, PUBLIC, DefaultVisibility, Visibility


@dataclasses.dataclass(frozen=True)
class Fact:
    """One value of the data with where it sits (file key, path) and who may read it."""

    file: str
    path: Path
    value: str
    visibility: Visibility
    identifier: bool = False


class WithheldError(Exception):
    """A template of the public site touched an internal fact."""


class Withheld:
    """Stands in for an internal fact in the public view: false in a test, an error when used."""

    def __init__(self, where: str) -> None:
        self.where = where

    def __bool__(self) -> bool:
        return False

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise WithheldError(self._message())

    def __call__(self, *args: object) -> Any:  # noqa: D102 - a withheld Text is called with a language
        raise WithheldError(self._message())

    def __str__(self) -> str:
        raise WithheldError(self._message())

    def __repr__(self) -> str:
        return f"Withheld({self.where!r})"

    def _message(self) -> str:
        return (
            f"{self.where} is internal, but a page of the public site shows it; "
            "mark it public, or make the template skip it when it is withheld"
        )


def facts(dataset: Dataset) -> Iterator[Fact]:
    """Every scalar value of the data set with its effective visibility."""
    for file_key, model in (("providers", dataset.providers), ("team", dataset.team)):
        yield from _facts(file_key, model, (), _own(model) or PUBLIC)


def public_view(dataset: Dataset) -> Dataset:
    """The data set as the public site sees it: internal facts removed, links to them dropped."""
    providers = _redact(dataset.providers, "providers", (), _own(dataset.providers) or PUBLIC)
    team = _redact(dataset.team, "team", (), _own(dataset.team) or PUBLIC)
    if isinstance(providers, Withheld) or isinstance(team, Withheld):
        raise WithheldError("a whole data file is internal; the public site needs both")
    kept_providers = set(providers.providers)
    kept_faqs = {faq.id for faq in team.faqs} | {faq.id for p in providers.providers.values() for faq in p.faqs}

    def relink(faq: Any) -> Any:
        return faq.model_copy(
            update={
                "related": [r for r in faq.related if r in kept_faqs],
                "providers": [p for p in faq.providers if p in kept_providers],
            }
        )

    team = team.model_copy(update={"faqs": [relink(f) for f in team.faqs]})
    providers = providers.model_copy(
        update={
            "providers": {
                pid: p.model_copy(update={"faqs": [relink(f) for f in p.faqs]})
                for pid, p in providers.providers.items()
            }
        }
    )
    return dataclasses.replace(dataset, providers=providers, team=team)


def internal_values(dataset: Dataset, min_weight: int = 10) -> dict[str, Fact]:
    """The internal values a public build must not contain, each with the fact it comes from.

    Left out: identifiers (ids, literal choices), values too short to be told from ordinary words (weight
    below `min_weight`, a Chinese character counting twice), and values the public data states itself
    (a model name used by an internal smoke test is still public).
    """
    every = list(facts(dataset))
    public_text = "\n".join(normalize(f.value) for f in every if f.visibility == PUBLIC)
    out: dict[str, Fact] = {}
    stated: set[str] = set()  # internal values the public data states too; each value is searched for once
    for fact in every:
        if fact.visibility != INTERNAL or fact.identifier:
            continue
        value = normalize(fact.value)
        if value in out or value in stated or _weight(value) < min_weight:
            continue
        if value in public_text:
            stated.add(value)
        else:
            out[value] = fact
    return out


def normalize(text: str) -> str:
    """Text as it can be compared between the data and a built file: no code fences, one space between words."""
    return " ".join(text.replace("`", "").replace("\u200b", "").split())


# --- Internals ------------------------------------------------------------------------------------

_WIDE = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def _weight(text: str) -> int:
    return len(text) + len(_WIDE.findall(text))


def _own(value: Any) -> Visibility | None:
    return getattr(value, "visibility", None) if isinstance(value, BaseModel) else None


def _default(model: BaseModel, name: str) -> Visibility | None:
    return _field_defaults(type(model))[name]


@functools.cache
def _field_defaults(model: type[BaseModel]) -> dict[str, Visibility | None]:
    """The visibility each field of `model` has by default, where the schema gives it one."""
    defaults: dict[str, Visibility | None] = {}
    for name, info in model.model_fields.items():
        markers = [marker.visibility for marker in info.metadata if isinstance(marker, DefaultVisibility)]
        defaults[name] = markers[0] if markers else None
    return defaults


@functools.cache
def _is_identifier(model: type[BaseModel], name: str) -> bool:
    annotation = model.model_fields[name].annotation
    args = typing.get_args(annotation)
    literal = typing.get_origin(annotation) is Literal or any(typing.get_origin(a) is Literal for a in args)
    return name == "id" or literal


def _facts(file_key: str, value: Any, path: Path, visibility: Visibility, identifier: bool = False) -> Iterator[Fact]:
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            if name == "visibility":
                continue
            child = getattr(value, name)
            effective = _own(child) or _default(value, name) or visibility
            yield from _facts(file_key, child, (*path, name), effective, _is_identifier(type(value), name))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _facts(file_key, item, (*path, n), _own(item) or visibility, identifier)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _facts(file_key, item, (*path, key), _own(item) or visibility, identifier)
    elif isinstance(value, str | int | dt.date) and value is not None and not isinstance(value, bool):
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
        yield Fact(file_key, path, text, visibility, identifier)


def _redact(value: Any, file_key: str, path: Path, visibility: Visibility) -> Any:
    if isinstance(value, list):
        kept = [(n, item, _own(item) or visibility) for n, item in enumerate(value)]
        return [_redact(item, file_key, (*path, n), vis) for n, item, vis in kept if _shown(item, vis)]
    if isinstance(value, dict):
        kept = [(key, item, _own(item) or visibility) for key, item in value.items()]
        return {key: _redact(item, file_key, (*path, key), vis) for key, item, vis in kept if _shown(item, vis)}
    if not _shown(value, visibility):
        return Withheld(f"data/{file_key}.yaml: " + dotted(path))
    if isinstance(value, BaseModel):
        update = {}
        for name in type(value).model_fields:
            if name == "visibility":
                continue
            child = getattr(value, name)
            effective = _own(child) or _default(value, name) or visibility
            redacted = _redact(child, file_key, (*path, name), effective)
            if redacted is not child:
                update[name] = redacted
        return value.model_copy(update=update) if update else value
    return value


def _shown(value: Any, visibility: Visibility) -> bool:
    """Whether any part of `value` is public: itself, or a record inside it marked public."""
    if visibility == PUBLIC:
        return True
    if isinstance(value, BaseModel):
        return any(
            _shown(getattr(value, name), _own(getattr(value, name)) or _default(value, name) or INTERNAL)
            for name in type(value).model_fields
        )
    if isinstance(value, list | tuple):
        return any(_shown(item, _own(item) or INTERNAL) for item in value)
    if isinstance(value, dict):
        return any(_shown(item, _own(item) or INTERNAL) for item in value.values())
    return False

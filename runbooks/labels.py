"""The fixed words of the templates (headings, column names), in every language: runbooks/templates/labels.yaml."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, RootModel, StringConstraints, ValidationError

from runbooks.findings import DataError, Finding, display_path
from runbooks.loader import line_of, read_yaml

TEMPLATES = Path(__file__).resolve().parent / "templates"
"""Where the page templates and their labels live: inside the package, so an installed `runbooks` has them."""


class Label(BaseModel):
    """One fixed word or phrase of the templates, in every language, spaces kept (the English colon is ": ")."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    zh: Annotated[str, StringConstraints(min_length=1)]
    en: Annotated[str, StringConstraints(min_length=1)]

    def __call__(self, lang: str) -> str:
        """The label in `lang`."""
        return getattr(self, lang)


class Labels(RootModel[dict[str, Label]]):
    """The fixed words of the templates (headings, column names), in every language."""

    def __getitem__(self, key: str) -> Label:
        """The label named `key`; a KeyError naming runbooks/templates/labels.yaml if there is none."""
        try:
            return self.root[key]
        except KeyError:
            raise KeyError(f"runbooks/templates/labels.yaml has no label '{key}'") from None

    def text(self, key: str, lang: str, **values: str) -> str:
        """The label `key` in `lang`, with its `{name}` placeholders filled from `values`."""
        text = self[key](lang)
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        return text


def load_labels(path: Path | None = None) -> Labels:
    """Read and validate runbooks/templates/labels.yaml (once per process and file)."""
    return _load_labels(str(path or TEMPLATES / "labels.yaml"))


@functools.cache
def _load_labels(path: str) -> Labels:
    name = display_path(Path(path), TEMPLATES.parent.parent)
    tree = read_yaml(Path(path), name)
    try:
        return Labels.model_validate({str(k): dict(v) if isinstance(v, dict) else v for k, v in tree.items()})
    except ValidationError as exc:
        raise DataError(
            [
                Finding(
                    "invalid_data", err["msg"].lower(), name, line_of(tree, tuple(err["loc"])), path=tuple(err["loc"])
                )
                for err in exc.errors()
            ]
        ) from None

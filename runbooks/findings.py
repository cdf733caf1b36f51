"""What every check reports: one Finding shape, and the two exceptions that carry findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning"]

YamlPath = tuple[str | int, ...]
"""A location inside a YAML file, as pydantic reports it: ("providers", "openai", "models", 1)."""


@dataclass(frozen=True)
class Finding:
    """One thing a check found: where it is (file, line, YAML path), why it matters, and what it concerns.

    `path` is where a problem sits inside a YAML data file (shown as `providers.openai.models[1].name`),
    empty elsewhere. `context` names what the finding is about (`model_name`, `provider`, `key`,
    `variable`, `url`…); it never holds a secret value.
    """

    reason: str
    message: str
    file: str = ""
    line: int = 0
    severity: Severity = "error"
    context: dict[str, Any] = field(default_factory=dict)
    path: YamlPath = ()
    column: int | None = None
    """The column of a YAML syntax error (the message says it too)."""

    @property
    def where(self) -> str:
        """`file:line` as editors and terminals link it; the file alone when no line applies."""
        return f"{self.file}:{self.line}" if self.line else self.file

    @property
    def text(self) -> str:
        """The message, after the YAML path it concerns when there is one."""
        return f"{dotted(self.path)}: {self.message}" if self.path else self.message

    def __str__(self) -> str:
        label = self.reason if self.severity == "error" else f"warning: {self.reason}"
        return f"{self.where}: {label}: {self.text}"

    def to_json(self) -> dict[str, Any]:
        """The finding as a JSON object: file, line, reason, message, then its context."""
        out = {"file": self.file, "line": self.line, "reason": self.reason, "message": self.text}
        if self.path:
            out["path"] = dotted(self.path)
        return {**out, **self.context}


class FindingsError(Exception):
    """An input that stops a command, with every finding that says why."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("\n".join(map(str, findings)))
        self.findings = findings


class Unreadable(FindingsError):
    """An input could not be read at all: a missing file, a YAML syntax error, an unreadable directory."""


class DataError(FindingsError):
    """The data was read but breaks the schema or its rules; every problem is listed at once."""


def dotted(path: YamlPath) -> str:
    """Render a YAML path the way a YAML author reads it: providers.openai.models[1].name."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def display_path(file: Path, root: Path | None) -> str:
    """How messages name `file`: relative to `root` when it lies below it, else as given."""
    if root is None:
        return str(file)
    try:
        return file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(file)

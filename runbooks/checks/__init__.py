"""The gates: each module checks one thing and returns findings of one shared shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One thing a gate found: where it is, why it matters, and what it concerns.

    `context` names what the finding is about (`model_name`, `provider`, `key`, `variable`, `url`…);
    it never holds a secret value.
    """

    reason: str
    message: str
    file: str
    line: int = 0
    severity: Severity = "error"
    context: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        label = self.reason if self.severity == "error" else f"warning: {self.reason}"
        return f"{where}: {label}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """The finding as a JSON object: file, line, reason, message, then its context."""
        return {"file": self.file, "line": self.line, "reason": self.reason, "message": self.message, **self.context}


class Unreadable(Exception):
    """An input of a gate could not be read at all (missing file, YAML syntax error)."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("\n".join(map(str, findings)))
        self.findings = findings


@dataclass
class Report:
    """What one command found, split into failures and warnings."""

    findings: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    unreadable: bool = False

    def add(self, found: list[Finding]) -> None:
        """File each finding under failures or warnings by its severity."""
        for finding in found:
            (self.findings if finding.severity == "error" else self.warnings).append(finding)

    @property
    def verdict(self) -> Literal["pass", "fail", "error"]:
        """`error` if an input could not be read, `fail` on any finding, else `pass`."""
        if self.unreadable:
            return "error"
        return "fail" if self.findings else "pass"

    def to_json(self) -> dict[str, Any]:
        """The report in the JSON shape every command prints with --format json."""
        return {
            "verdict": self.verdict,
            "findings": [f.to_json() for f in self.findings],
            "warnings": [f.to_json() for f in self.warnings],
        }

"""The gates: each module checks one thing and returns findings (runbooks.findings); a Report gathers them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from runbooks.findings import Finding


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

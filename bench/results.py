"""What one benchmark run measured, and why it left out what it did not measure."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from bench.measure import Run


@dataclass
class SizeResult:
    """Everything measured on one data set: the gated builds, the baseline builds and one `check`."""

    label: str
    providers: int
    pages: int = 0
    ours: list[Run] = field(default_factory=list)
    plain: list[Run] = field(default_factory=list)
    check: Run | None = None

    @property
    def build_s(self) -> float:
        """Median wall seconds of the gated build."""
        return statistics.median(r.seconds for r in self.ours)

    @property
    def plain_s(self) -> float:
        """Median wall seconds of the plain MkDocs baseline."""
        return statistics.median(r.seconds for r in self.plain)

    @property
    def ratio(self) -> float:
        """The gated build's median over the baseline's median."""
        return self.build_s / self.plain_s

    @property
    def peak_rss(self) -> int:
        """The largest peak memory of any gated build run, in bytes."""
        return max(r.max_rss for r in self.ours)


@dataclass
class Reload:
    """The serve reload measurement: seconds of each edit, and what went wrong if an edit never showed."""

    edits: list[float] = field(default_factory=list)
    failure: str = ""

    @property
    def median_s(self) -> float | None:
        """Median seconds over the edits, or None if any edit failed."""
        return None if self.failure or not self.edits else statistics.median(self.edits)


@dataclass
class Results:
    """A whole run; each `*_skipped` says why that measurement was left out (empty when it was taken)."""

    sizes: dict[str, SizeResult] = field(default_factory=dict)
    real_skipped: str = ""
    reload: Reload | None = None
    reload_skipped: str = ""
    pytest: Run | None = None
    pytest_skipped: str = ""
    profile: list[str] = field(default_factory=list)

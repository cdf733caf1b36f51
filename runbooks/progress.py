"""Show each step of a long command as it starts and ends, with its time and verdict, when a person watches."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

WIDTH = 60
"""Where the verdicts line up, as pre-commit lines them up."""


@dataclass
class Step:
    """One step under way; its verdict is `pass` unless the step says otherwise."""

    name: str
    verdict: str = "pass"


@dataclass
class Progress:
    """Writes `name ....... verdict (1.2 s)` per step to `stream`, only if it is a terminal (or `enabled`).

    The name is written when the step starts, the rest of its line when it ends, so a slow step shows
    what the command is waiting for. Nothing is written to a pipe or a file: what a program reads
    from the command's output stays the report alone.
    """

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    enabled: bool | None = None

    def __post_init__(self) -> None:
        if self.enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            self.enabled = bool(isatty and isatty())

    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        """Time the step run inside the `with` block; an exception ends it as `error` and goes on."""
        current = Step(name)
        start = time.perf_counter()
        self._write(name + " ")
        try:
            yield current
        except BaseException:
            current.verdict = "error"
            raise
        finally:
            seconds = time.perf_counter() - start
            dots = "." * max(3, WIDTH - len(name) - 1)
            self._write(f"{dots} {current.verdict} ({seconds:.1f} s)\n")

    def _write(self, text: str) -> None:
        if self.enabled:
            self.stream.write(text)
            self.stream.flush()

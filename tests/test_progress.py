"""Progress lines of long commands: on a terminal, one line per step with its verdict; nothing on a pipe."""

from __future__ import annotations

import io
import re

import pytest

from runbooks.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_each_step_gets_one_line_with_its_verdict_and_time():
    out = Terminal()
    progress = Progress(out)
    with progress.step("validate"):
        pass
    with progress.step("check-config") as step:
        step.verdict = "fail"
    lines = out.getvalue().splitlines()
    parsed = [re.fullmatch(r"(\S+) \.{3,} (\w+) \((\d+\.\d) s\)", line) for line in lines]
    assert [(m[1], m[2]) for m in parsed if m] == [("validate", "pass"), ("check-config", "fail")]
    # The verdicts line up, whatever the names' lengths.
    assert len({m.start(2) for m in parsed if m}) == 1


def test_a_step_that_raises_ends_as_error_and_the_error_goes_on():
    out = Terminal()
    with pytest.raises(RuntimeError), Progress(out).step("build"):
        raise RuntimeError("boom")
    assert out.getvalue().startswith("build ") and " error (" in out.getvalue()


def test_nothing_is_written_to_a_pipe_or_a_file():
    out = io.StringIO()
    with Progress(out).step("validate"):
        pass
    assert out.getvalue() == ""

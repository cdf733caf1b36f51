"""Progress lines of long commands: on a terminal, one line per step with its verdict; nothing on a pipe."""

from __future__ import annotations

import io
import json
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


def test_build_and_check_show_each_step_on_a_terminal_and_json_stays_clean(tmp_path, monkeypatch):
    from runbooks import cli

    from .factory import valid_data, write_data

    data_dir = write_data(tmp_path, valid_data())
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    cli.main(["build", "--data", str(data_dir), "--site-dir", str(tmp_path / "site")])
    shown = [line.split(" ")[0:2] for line in terminal.getvalue().splitlines() if " ... " in line or "...." in line]
    names = [" ".join(parts) if parts[1].startswith("(") else parts[0] for parts in shown]
    assert names == ["build (internal)", "scan-secrets", "check-links"]

    terminal.truncate(0)
    terminal.seek(0)
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    cli.main(["validate", "--data", str(data_dir), "--format", "json"])
    cli.main(["build", "--data", str(data_dir), "--site-dir", str(tmp_path / "site"), "--format", "json"])
    assert terminal.getvalue() == ""
    assert all(json.loads(part)["verdict"] for part in out.getvalue().replace("}\n{", "}\n\x00{").split("\x00"))

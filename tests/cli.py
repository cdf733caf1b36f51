"""The `python -m runbooks` command line, run in the test's own process: its exit code and what it printed."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from runbooks import cli

from .conftest import ROOT


@dataclass(frozen=True)
class Ran:
    """What one run of the command line returned and printed, named as subprocess.CompletedProcess names it."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path = ROOT) -> Ran:
    """Run `python -m runbooks ARGS` from `cwd` in this process.

    An exception the command line does not handle is not caught here: it fails the test, traceback and all.
    """
    out, err = io.StringIO(), io.StringIO()
    before = Path.cwd()
    os.chdir(cwd)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = cli.main(list(args))
            except SystemExit as exc:  # --help, and argument errors, as argparse ends them
                code = _exit_status(exc.code, err)
    finally:
        os.chdir(before)
    return Ran(code, out.getvalue(), err.getvalue())


def _exit_status(code: object, err: io.StringIO) -> int:
    """The status the interpreter exits with for `sys.exit(code)`."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=err)
    return 1

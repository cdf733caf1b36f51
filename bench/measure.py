"""Run a command in a child process: its wall time, exit code, output and the peak memory of its process tree."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.commands import PYTHON, Command

# Reading /proc/<pid>/smaps_rollup walks a process's whole address space, on a machine whose cores the
# build keeps busy: often enough to catch a peak that lasts (a build's memory only grows until its end),
# rarely enough not to slow down the build it measures.
RSS_SAMPLE_S = 0.1

# Runs the command, then prints its own peak RSS (os.wait4) and exits with its exit code. A child forked
# straight from the benchmark (a large process) would count the benchmark's memory as its own peak.
_WRAPPER = (
    "import os, subprocess, sys; child = subprocess.Popen(sys.argv[1:]); _, status, usage = os.wait4(child.pid, 0); "
    "print(f'\\n@@maxrss {usage.ru_maxrss}', flush=True); sys.exit(os.waitstatus_to_exitcode(status))"
)
_MAXRSS = re.compile(r"^@@maxrss (\d+)\n?", re.MULTILINE)


@dataclass
class Run:
    """One measured child process: wall seconds, peak resident memory in bytes, exit code and output."""

    seconds: float
    max_rss: int
    returncode: int
    output: str = ""

    @property
    def ok(self) -> bool:
        """Whether the command exited 0."""
        return self.returncode == 0

    def tail(self, lines: int = 40) -> str:
        """The last `lines` lines of the output."""
        return "\n".join(self.output.rstrip().splitlines()[-lines:])


def measure(command: Command, *, sample_memory: bool = True) -> Run:
    """Run `command`; its peak is the larger of the exact peak of its largest process and the sampled tree total.

    Without `sample_memory` the peak is the exact one alone: sampling reads the address space of every
    process in the tree, which slows a command that is timed and not weighed (the test suite, whose
    Chromium and forks it walked ten times a second, by about ten seconds).
    """
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        child = subprocess.Popen(
            [PYTHON, "-c", _WRAPPER, *command.argv],
            cwd=command.cwd,
            env=command.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        sampled = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(RSS_SAMPLE_S):
                sampled[0] = max(sampled[0], tree_rss(child.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        if sample_memory:
            sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        if sample_memory:
            sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode("utf-8", errors="replace")
    reported = _MAXRSS.findall(output)
    # ru_maxrss is in KiB on Linux: the command's own peak, or that of its largest waited-for descendant.
    own_peak = int(reported[-1]) * 1024 if reported else usage.ru_maxrss * 1024
    return Run(seconds, max(own_peak, sampled[0]), child.returncode, _MAXRSS.sub("", output))


def tree_rss(pid: int) -> int:
    """The memory of a process and all its descendants now, in bytes: PSS where Linux reports it, else RSS."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        proc = Path(f"/proc/{current}")
        try:
            try:
                # PSS, so that a forked child's pages shared with its parent are not counted twice.
                rollup = (proc / "smaps_rollup").read_text()
                total += int(rollup.split("\nPss:", 1)[1].split()[0]) * 1024
            except (OSError, IndexError):
                status = (proc / "status").read_text()
                total += int(status.split("VmRSS:", 1)[1].split()[0]) * 1024
            for task in (proc / "task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue  # the process ended while being read
    return total


def checked(run: Run, what: str) -> Run:
    """`run` if it exited 0; else stop the benchmark with its output, since nothing after it would mean anything."""
    if not run.ok:
        raise SystemExit(f"{what} failed (exit {run.returncode}):\n{run.output[-4000:]}")
    return run

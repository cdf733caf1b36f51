"""Run a measured command under cProfile and say where its time went."""

from __future__ import annotations

import dataclasses
import io
import pstats
import re
from collections.abc import Sequence
from pathlib import Path

from bench.commands import PYTHON, ROOT, Command
from bench.measure import checked, measure

# (what, file the function is in, function): its cumulative seconds is that part's share of the run.
Parts = Sequence[tuple[str, str, str]]

MKDOCS_PARTS: Parts = (
    ("data: load and validate the YAML (hooks on_config)", "runbook_pages.py", "on_config"),
    ("pages: render the Markdown from templates (hooks on_files)", "runbook_pages.py", "on_files"),
    ("Markdown → HTML (Python-Markdown, every page)", "markdown/core.py", "convert"),
    ("pages: Material's template, navigation included, and the search hook", "mkdocs/commands/build.py", "_build_page"),
    ("  of which the search index: parse every page's HTML", "material/plugins/search/plugin.py", "on_page_context"),
    ("the other languages: waiting for their processes (hooks on_post_build)", "runbook_pages.py", "on_post_build"),
)
GATED_PARTS: Parts = (
    ("load and validate the data", "runbooks/loader.py", "load"),
    ("the MkDocs build, in a child process (waited for by publish.SiteBuild.wait)", "runbooks/publish.py", "wait"),
    ("scan-secrets", "runbooks/checks/secrets.py", "scan_secrets"),
    ("check-links", "runbooks/checks/links.py", "check_links"),
)
CHECK_PARTS: Parts = (
    ("load and validate the data", "runbooks/loader.py", "load"),
    ("check-config", "runbooks/checks/config.py", "check_config"),
    ("lint-cost", "runbooks/checks/cost.py", "lint_cost"),
    ("freshness", "runbooks/checks/freshness.py", "check_freshness"),
    ("the MkDocs builds of both audiences, in child processes", "runbooks/publish.py", "wait"),
    ("scan-secrets", "runbooks/checks/secrets.py", "scan_secrets"),
    ("check-links", "runbooks/checks/links.py", "check_links"),
    ("check-public", "runbooks/checks/public.py", "check_public"),
)


def profile(command: Command, prof: Path, parts: Parts) -> list[str]:
    """Run `command` (a `python -m module …` command) under cProfile: the seconds of each part, the top functions.

    Only the command's own process is profiled: a part that runs in a child process shows as the time
    its parent waited for it.
    """
    profiled = [PYTHON, "-m", "cProfile", "-o", str(prof), *command.argv[1:]]
    checked(measure(dataclasses.replace(command, argv=profiled)), f"the profile of {command.shown()}")
    stats = pstats.Stats(str(prof))
    entries = stats.stats.items()  # type: ignore[attr-defined]
    total = max(v[3] for _, v in entries)
    lines = [f"total under the profiler: {total:.1f} s"]
    for name, file, function in parts:
        seconds = sum(v[3] for (path, _, func), v in entries if path.endswith(file) and func == function)
        lines.append(f"{name}: {seconds:.1f} s ({seconds / total:.0%})")
    top = io.StringIO()
    pstats.Stats(str(prof), stream=top).sort_stats("tottime").print_stats(8)
    own = [line for line in top.getvalue().splitlines() if re.match(r"\s*[\d/]+\s+\d+\.\d+\s", line)]
    lines.append("top functions by own time:")
    lines += [f"    {_short(line)}" for line in own[:8]]
    return lines


def _short(line: str) -> str:
    fields = line.split(None, 5)
    if len(fields) <= 5:
        return line.strip()
    where = re.sub(r".*site-packages/", "", fields[5]).replace(f"{ROOT}/", "")
    return f"{float(fields[1]):6.2f} s own  {where}"

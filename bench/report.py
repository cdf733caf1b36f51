"""The benchmark's tables, and bench/RESULTS.md."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
from importlib import metadata
from pathlib import Path

from bench import commands, serve
from bench.measure import RSS_SAMPLE_S, Run
from bench.results import Results
from bench.targets import GIB, MIB, Target, other_ratios


def table(results: Results) -> list[str]:
    """The measurements as a Markdown table, one row per data set."""
    head = ["data", "providers", "pages/lang", "runs", "gated build s (median)", "plain MkDocs s", "ratio",
            "peak RSS MiB", "make check s"]  # fmt: skip
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results.sizes.values():
        cells = [r.label, str(r.providers), str(r.pages), str(len(r.ours)), f"{r.build_s:.2f}", f"{r.plain_s:.2f}",
                 f"{r.ratio:.3f}", f"{r.peak_rss / MIB:.0f}", _seconds(r.check)]  # fmt: skip
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def targets_table(verdicts: list[Target]) -> list[str]:
    """The targets as a Markdown table."""
    rows = ["| target | limit | measured | verdict |", "|---|---|---|---|"]
    return rows + [f"| {t.name} | {t.limit} | {t.measured} | {t.verdict} |" for t in verdicts]


def measured_commands() -> list[str]:
    """The command lines this benchmark times, with placeholders for the directories it makes."""
    data, site = Path("DATA_DIR"), Path("SITE_DIR")
    return [
        f"- gated build (`make site`): `{commands.gated_build(data, site).shown()}`",
        f"- plain MkDocs baseline: `{commands.plain_build(Path('SPEC'), data).shown()}`",
        f"- `make check`: `{commands.check(data).shown()}`",
        f"- `make test`, pytest phase: `{commands.pytest().shown()}`",
        f"- serve reload: `{commands.serve(data, 8000).shown()}`",
    ]


def machine() -> list[str]:
    """What the numbers were measured on."""
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
    versions = {name: metadata.version(name) for name in ("mkdocs", "mkdocs-material", "Markdown", "PyYAML")}
    return [
        f"- date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- CPU: {cpu}, {os.cpu_count()} cores available",
        f"- RAM: {ram / GIB:.1f} GiB",
        f"- OS: {platform.platform()}",
        f"- Python: {platform.python_version()}",
        "- " + ", ".join(f"{name} {version}" for name, version in versions.items()),
    ]


def failures(results: Results) -> list[str]:
    """The end of the output of each measured command that exited non-zero."""
    failed = [(f"make check on {label}", r.check) for label, r in results.sizes.items() if r.check and not r.check.ok]
    if results.pytest and not results.pytest.ok:
        failed.append(("the pytest phase of make test", results.pytest))
    lines: list[str] = []
    for what, run in failed:
        lines += [f"{what} exited {run.returncode}; the end of its output:", "", "```text", run.tail(), "```", ""]
    return lines


def reload_line(results: Results) -> str:
    """One sentence on the serve reload measurement."""
    reload = results.reload
    if reload is None:
        return f"Serve reload: not measured ({results.reload_skipped})."
    edits = ", ".join(f"{s:.2f} s" for s in reload.edits) or "none"
    outcome = reload.failure or f"median {reload.median_s:.2f} s"
    return f"Serve reload on {serve.PROVIDERS} providers, {serve.EDITS} edits: {outcome} (edits seen: {edits})."


def pytest_line(results: Results) -> str:
    """One sentence on the pytest phase."""
    if results.pytest is None:
        return f"pytest phase of `make test`: not measured ({results.pytest_skipped})."
    return f"pytest phase of `make test`: {_seconds(results.pytest)} s."


def results_md(results: Results, verdicts: list[Target], command: str, elapsed: float) -> str:
    """The whole of RESULTS.md."""
    others = other_ratios(results)
    parts = [
        "# Build benchmark results",
        "",
        f"Written by `{command}`{' (`make bench`)' if command == 'python bench/run.py' else ''}; "
        f"the run took {elapsed / 60:.1f} minutes. "
        "Do not edit by hand: rerun the benchmark instead. What is measured and how: [README.md](README.md).",
        "",
        "## Machine",
        "",
        *machine(),
        "",
        "## Commands",
        "",
        *measured_commands(),
        "",
        "## Results",
        "",
        f"Medians of the runs shown; peak RSS sampled every {RSS_SAMPLE_S * 1000:.0f} ms.",
        "",
        *table(results),
        "",
        reload_line(results),
        "",
        pytest_line(results),
        "",
        "## Targets",
        "",
        *targets_table(verdicts),
        "",
    ]
    if others:
        parts += ["Gated build / plain MkDocs at the other sizes (no target): " + ", ".join(others) + ".", ""]
    if failures(results):
        parts += ["## Failed commands", "", *failures(results)]
    if results.profile:
        parts += ["## Profile of this run", "", "```text", *results.profile, "```", ""]
    return "\n".join(parts)


def _seconds(run: Run | None) -> str:
    if run is None:
        return "—"
    return f"{run.seconds:.1f}" if run.ok else f"{run.seconds:.1f} (exit {run.returncode})"

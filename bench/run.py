"""Benchmark the site build and the gates on synthetic data of growing size, check the targets, write RESULTS.md."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import pstats
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/run.py` from a fresh clone
    sys.path.insert(0, str(ROOT))

from bench import generate, plain  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
DEFAULT_SIZES = (5, 50, 200, 1000)
SITE_URL = "http://127.0.0.1:8000/"
PYTHON = sys.executable
GIB = 1024**3

# The targets: (name, limit); each is PASS, FAIL or not measured in a given run.
RATIO_LIMIT = 1.15
BUILD_1000_LIMIT_S = 45.0
RSS_1000_LIMIT = 1 * GIB
GROWTH_LIMIT = 5.5
GATE_REAL_LIMIT_S = 30.0
GATE_1000_LIMIT_S = 120.0
RELOAD_LIMIT_S = 2.0
RELOAD_TIMEOUT_S = 30.0
RELOAD_EDITS = 3  # edits under one server; the median is reported

# Builds per data set (median taken): more for the smaller ones, whose few seconds vary more.
RUNS_UP_TO = ((50, 7), (200, 5))  # (at most this many providers, runs)
RUNS = 3  # above
PROFILE_MAX_SIZE = 200
# How often the memory of a build's processes is sampled. Reading /proc/<pid>/smaps_rollup walks the whole
# address space of the process, on a machine whose two cores the build keeps busy: often enough to catch a
# peak that lasts (a build's memory only grows until its end), rarely enough not to slow the build it measures.
RSS_SAMPLE_S = 0.1


@dataclass
class Run:
    """One measured child process: wall seconds, peak resident memory in bytes, exit code."""

    seconds: float
    max_rss: int
    returncode: int
    output: str = ""


@dataclass
class SizeResult:
    """Everything measured for one data set."""

    label: str
    providers: int
    pages: int = 0
    ours: list[Run] = field(default_factory=list)
    plain: list[Run] = field(default_factory=list)
    gate: dict[str, Run] = field(default_factory=dict)

    @property
    def build_s(self) -> float:
        """Median wall seconds of our full build."""
        return statistics.median(r.seconds for r in self.ours)

    @property
    def plain_s(self) -> float:
        """Median wall seconds of the plain MkDocs baseline."""
        return statistics.median(r.seconds for r in self.plain)

    @property
    def ratio(self) -> float:
        """Our build's median over the baseline's median."""
        return self.build_s / self.plain_s

    @property
    def peak_rss(self) -> int:
        """The largest peak RSS of any of our build runs."""
        return max(r.max_rss for r in self.ours)

    @property
    def gate_s(self) -> float:
        """Wall seconds of the whole gate, every step one after the other."""
        return sum(r.seconds for r in self.gate.values())


# -------------------------------------------------------------------------------------------------
# Measuring
# -------------------------------------------------------------------------------------------------


def measure(command: Sequence[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> Run:
    """Run `command` in a fresh child: its wall time and the peak RSS of it and its descendants together.

    The peak is the larger of the child's own maximum (os.wait4, exact for one process) and the largest
    sum of the RSS of the child and its descendants sampled every RSS_SAMPLE_S (the languages build in
    parallel processes on a large site, and their memory adds up).
    """
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        # Through a small wrapper: a child forked from this (large) process would count its memory as its own peak.
        wrapped = [PYTHON, "-c", _WRAPPER, *command]
        child = subprocess.Popen(wrapped, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampled = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(RSS_SAMPLE_S):
                sampled[0] = max(sampled[0], _tree_rss(child.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode("utf-8", errors="replace")
    reported = re.findall(r"^@@maxrss (\d+)$", output, re.MULTILINE)
    # ru_maxrss is in KiB on Linux: the command's peak, or its largest waited-for descendant's.
    own_peak = int(reported[-1]) * 1024 if reported else usage.ru_maxrss * 1024
    return Run(seconds, max(own_peak, sampled[0]), child.returncode, output)


# Runs the command, then prints its own peak RSS (os.wait4) and exits with its exit code.
_WRAPPER = (
    "import os, subprocess, sys; child = subprocess.Popen(sys.argv[1:]); _, status, usage = os.wait4(child.pid, 0); "
    "print(f'\\n@@maxrss {usage.ru_maxrss}', flush=True); sys.exit(os.waitstatus_to_exitcode(status))"
)


def _tree_rss(pid: int) -> int:
    """The resident memory of a process and all its descendants now, in bytes (Linux /proc).

    Each process counts its proportional share of pages shared with the others (PSS, as a forked
    child shares the parent's memory), else its whole RSS.
    """
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        proc = Path(f"/proc/{current}")
        try:
            try:
                rollup = (proc / "smaps_rollup").read_text()
                total += int(rollup.split("\nPss:", 1)[1].split()[0]) * 1024
            except (OSError, IndexError):
                status = (proc / "status").read_text()
                total += int(status.split("VmRSS:", 1)[1].split()[0]) * 1024
            for task in (proc / "task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total


def _checked(run: Run, what: str) -> Run:
    if run.returncode != 0:
        raise SystemExit(f"{what} failed (exit {run.returncode}):\n{run.output[-4000:]}")
    return run


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "RUNBOOKS_DATA": str(data_dir), "NO_MKDOCS_2_WARNING": "1", "SITE_URL": SITE_URL}


def our_build(data_dir: Path, site_dir: Path) -> list[str]:
    """The full build: mkdocs.yml with the runbook hooks, both languages, strict."""
    return [PYTHON, "-m", "mkdocs", "build", "--strict", "--quiet", "--config-file", str(ROOT / "mkdocs.yml"),
            "--site-dir", str(site_dir)]  # fmt: skip


def gate_steps(data_dir: Path, site_dir: Path) -> dict[str, list[str]]:
    """The whole gate as the commands CI runs, in order."""
    runbooks = [PYTHON, "-m", "runbooks"]
    return {
        "validate": [*runbooks, "validate", "--data", str(data_dir)],
        "check-config": [*runbooks, "check-config", str(data_dir / "litellm" / "config.yaml"),
                         "--providers", str(data_dir / "providers.yaml")],
        "build": our_build(data_dir, site_dir),
        "scan-secrets": [*runbooks, "scan-secrets", str(site_dir)],
        "check-links": [*runbooks, "check-links", str(site_dir), "--site-url", SITE_URL],
    }  # fmt: skip


def bench_size(label: str, data_dir: Path, work: Path, runs: int, log: Callable[[str], None]) -> SizeResult:
    """Build `data_dir` `runs` times with our hooks and as plain MkDocs, alternating, then run the gate once."""
    from runbooks.loader import load
    from runbooks.render import pages

    dataset = load(data_dir)
    result = SizeResult(label, len(dataset.providers.providers), pages=len(pages(dataset)))
    env = _env(data_dir)
    spec = plain.prepare(data_dir, work / "plain-docs", work / "plain-site", SITE_URL)
    for n in range(runs):
        for kind, command, into in (
            ("ours", our_build(data_dir, work / "site"), result.ours),
            ("plain", [PYTHON, str(ROOT / "bench" / "plain.py"), str(spec)], result.plain),
        ):
            shutil.rmtree(work / "site", ignore_errors=True)
            for leftover in ("plain-site", ".plain-site-en"):
                shutil.rmtree(work / leftover, ignore_errors=True)
            run = _checked(measure(command, env), f"{kind} build of {label}")
            into.append(run)
            log(f"  {label}: {kind} build {n + 1}/{runs}: {run.seconds:.2f} s, {run.max_rss / 2**20:.0f} MiB")
    shutil.rmtree(work / "site", ignore_errors=True)
    for step, command in gate_steps(data_dir, work / "gate-site").items():
        result.gate[step] = _checked(measure(command, env), f"gate step {step} on {label}")
        log(f"  {label}: gate {step}: {result.gate[step].seconds:.2f} s")
    return result


def serve_reload(data_dir: Path, log: Callable[[str], None]) -> float | None:
    """Seconds from editing one provider's fact under `mkdocs serve` until the served page shows it (median)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/providers/{generate.provider_id(1)}/"
    command = [PYTHON, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{port}", "--watch", str(data_dir),
               "--config-file", str(ROOT / "mkdocs.yml")]  # fmt: skip
    providers = data_dir / "providers.yaml"
    original = providers.read_text(encoding="utf-8")
    fact = "提供十个对话模型"
    if fact not in original:
        raise SystemExit(f"{providers}: the fact to edit was not found")
    with tempfile.TemporaryFile() as out:
        server = subprocess.Popen(command, cwd=ROOT, env=_env(data_dir), stdout=out, stderr=subprocess.STDOUT)
        try:
            if _wait_for(url, lambda page: True, 120) is None:
                log("  serve: the server did not come up")
                return None
            seconds: list[float] = []
            for edit in range(1, RELOAD_EDITS + 1):
                time.sleep(1.0)  # let the watcher settle after the last build
                marker = f"reload check {edit} {time.time_ns() % 10**9}"
                providers.write_text(original.replace(fact, f"{fact}（{marker}）", 1), encoding="utf-8")
                start = time.perf_counter()
                if _wait_for(url, lambda page, marker=marker: marker in page, RELOAD_TIMEOUT_S) is None:
                    return None
                seconds.append(time.perf_counter() - start)
                log(f"  serve: edit {edit}/{RELOAD_EDITS}: {seconds[-1]:.2f} s")
            return statistics.median(seconds)
        finally:
            providers.write_text(original, encoding="utf-8")
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_for(url: str, ready: Callable[[str], bool], timeout: float) -> float | None:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if ready(response.read().decode("utf-8", errors="replace")):
                    return time.perf_counter() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -------------------------------------------------------------------------------------------------
# Profiling
# -------------------------------------------------------------------------------------------------

# Where the time of a build goes, by the functions that own each part (cumulative seconds).
PROFILE_PARTS = (
    ("data: load and validate the YAML (hooks on_config)", "runbook_pages.py", "on_config"),
    ("pages: render the Markdown from templates (hooks on_files)", "runbook_pages.py", "on_files"),
    ("Markdown → HTML (Python-Markdown, every page)", "markdown/core.py", "convert"),
    (
        "pages: Material's template, navigation included, and the search hook (_build_page)",
        "mkdocs/commands/build.py",
        "_build_page",
    ),
    ("  of which the search index: parse every page's HTML", "material/plugins/search/plugin.py", "on_page_context"),
    ("the other language: waiting for its process (hooks on_post_build)", "runbook_pages.py", "on_post_build"),
)


def profile(command: list[str], env: dict[str, str], out: Path, parts: Sequence[tuple[str, str, str]]) -> list[str]:
    """Run `command` (a `-m module` Python command) under cProfile; the seconds of each part and the top functions."""
    prof = out.with_suffix(".prof")
    _checked(measure([PYTHON, "-m", "cProfile", "-o", str(prof), *command[1:]], env), f"profile of {command}")
    stats = pstats.Stats(str(prof))
    total = max(v[3] for v in stats.stats.values())  # type: ignore[attr-defined]
    lines = [f"total under the profiler: {total:.1f} s"]
    for name, file, function in parts:
        seconds = sum(
            v[3]
            for (path, _, func), v in stats.stats.items()  # type: ignore[attr-defined]
            if path.endswith(file) and func == function
        )
        lines.append(f"{name}: {seconds:.1f} s ({seconds / total:.0%})")
    top = io.StringIO()
    pstats.Stats(str(prof), stream=top).sort_stats("tottime").print_stats(8)
    own = [line for line in top.getvalue().splitlines() if re.match(r"\s*[\d/]+\s+\d+\.\d+\s", line)]
    lines.append("top functions by own time:")
    lines += [f"    {_short(line)}" for line in own[:8]]
    return lines


def _short(line: str) -> str:
    fields = line.split(None, 5)
    where = fields[5] if len(fields) > 5 else line
    where = re.sub(r".*site-packages/", "", where).replace(str(ROOT) + "/", "")
    return f"{float(fields[1]):6.2f} s own  {where}" if len(fields) > 5 else line.strip()


# -------------------------------------------------------------------------------------------------
# Report
# -------------------------------------------------------------------------------------------------


@dataclass
class Target:
    """One target: what it says, the measured value as text, and PASS / FAIL / not measured."""

    name: str
    measured: str
    verdict: str


def targets(results: dict[str, SizeResult], reload_s: float | None, reload_ran: bool) -> list[Target]:
    """Every target of the benchmark, judged on what this run measured."""
    out: list[Target] = []

    def judge(name: str, value: float | None, limit: float, shown: Callable[[float], str]) -> None:
        if value is None:
            out.append(Target(name, "not measured", "n/a"))
        else:
            out.append(Target(name, shown(value), "PASS" if value <= limit else "FAIL"))

    for size in ("5", "200"):
        ratio = results[size].ratio if size in results else None
        judge(f"build / plain MkDocs at N = {size} ≤ {RATIO_LIMIT}×", ratio, RATIO_LIMIT, lambda v: f"{v:.3f}×")
    big = results.get("1000")
    judge(f"build at N = 1000 ≤ {BUILD_1000_LIMIT_S:.0f} s", big and big.build_s, BUILD_1000_LIMIT_S, "{:.1f} s".format)
    judge("peak RSS at N = 1000 ≤ 1 GiB", big and big.peak_rss, RSS_1000_LIMIT, lambda v: f"{v / 2**20:.0f} MiB")
    growth = big.build_s / results["200"].build_s if big and "200" in results else None
    judge(f"time(1000) / time(200) ≤ {GROWTH_LIMIT}", growth, GROWTH_LIMIT, "{:.2f}".format)
    real = results.get("real")
    judge(f"whole gate on the real site ≤ {GATE_REAL_LIMIT_S:.0f} s", real and real.gate_s, GATE_REAL_LIMIT_S,
          "{:.1f} s".format)  # fmt: skip
    judge(f"whole gate at N = 1000 ≤ {GATE_1000_LIMIT_S:.0f} s", big and big.gate_s, GATE_1000_LIMIT_S,
          "{:.1f} s".format)  # fmt: skip
    if reload_ran and reload_s is None:
        out.append(Target(f"serve reload after a data edit ≤ {RELOAD_LIMIT_S:.0f} s", "no reload seen", "FAIL"))
    else:
        judge(f"serve reload after a data edit ≤ {RELOAD_LIMIT_S:.0f} s", reload_s, RELOAD_LIMIT_S, "{:.2f} s".format)
    return out


def table(results: dict[str, SizeResult]) -> list[str]:
    """The results as a Markdown table, one row per data set."""
    steps = list(next(iter(results.values())).gate) if results else []
    head = ["data", "providers", "pages/lang", "runs", "build s (median)", "plain MkDocs s", "ratio", "peak RSS MiB",
            "gate s", *[f"{s} s" for s in steps]]  # fmt: skip
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results.values():
        cells = [r.label, str(r.providers), str(r.pages), str(len(r.ours)), f"{r.build_s:.2f}", f"{r.plain_s:.2f}",
                 f"{r.ratio:.3f}", f"{r.peak_rss / 2**20:.0f}", f"{r.gate_s:.1f}"]  # fmt: skip
        cells += [f"{r.gate[s].seconds:.1f}" for s in steps]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def machine() -> list[str]:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor() or cpu
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


# -------------------------------------------------------------------------------------------------
# Main
# -------------------------------------------------------------------------------------------------


def default_runs(providers: int) -> int:
    """How many times a data set of this many providers is built when --runs is not given."""
    return next((runs for size, runs in RUNS_UP_TO if providers <= size), RUNS)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of provider counts, e.g. 5,50") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("every size must be at least 1")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table and the targets, and write bench/RESULTS.md."""
    parser = argparse.ArgumentParser(
        prog="python bench/run.py",
        description="Build the site on the real data and on synthetic data sets of N providers (both languages), "
        "compare with plain MkDocs building the same pages, time the whole gate and a serve reload, check the "
        "targets, and write bench/RESULTS.md. Exit 1 if a measured target fails.",
    )
    parser.add_argument("--sizes", type=_sizes, default=list(DEFAULT_SIZES), metavar="N,N,…",
                        help="provider counts to generate (default: 5,50,200,1000)")  # fmt: skip
    parser.add_argument("--runs", type=int, metavar="K",
                        help="builds per data set, median taken (default: "
                        + ", ".join(f"{runs} up to {size} providers" for size, runs in RUNS_UP_TO)
                        + f", {RUNS} above: the smaller builds take seconds and vary more)")  # fmt: skip
    parser.add_argument("--no-real", action="store_true", help="skip the real data in data/")
    parser.add_argument("--no-serve", action="store_true", help="skip the serve reload measurement")
    parser.add_argument("--no-profile", action="store_true", help="skip the profile of the largest size")
    parser.add_argument("--output", type=Path, default=RESULTS, metavar="PATH",
                        help="where to write the results (default: bench/RESULTS.md)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")

    def log(line: str) -> None:
        print(line, flush=True)

    from runbooks.loader import load

    started = time.perf_counter()
    results: dict[str, SizeResult] = {}
    profile_lines: list[str] = []
    reload_s: float | None = None
    with tempfile.TemporaryDirectory(prefix="runbooks-bench-") as tmp:
        work = Path(tmp)
        data_sets: list[tuple[str, Path]] = []
        if not args.no_real:
            data_sets.append(("real", ROOT / "data"))
        for size in args.sizes:
            data_sets.append((str(size), generate.write(work / f"n{size}", size)))
        for label, data_dir in data_sets:
            providers = int(label) if label != "real" else len(load(data_dir).providers.providers)
            runs = args.runs or default_runs(providers)
            log(f"{label}: building {runs}× ours and {runs}× plain MkDocs, then the gate")
            results[label] = bench_size(label, data_dir, work / f"run-{label}", runs, log)
        if not args.no_serve:
            log("serve: editing one provider's fact under mkdocs serve")
            serve_data = generate.write(work / "serve", 5)
            reload_s = serve_reload(serve_data, log)
            log(f"  serve: {'no reload seen' if reload_s is None else f'{reload_s:.2f} s'}")
        if not args.no_profile and args.sizes:
            # The largest size up to PROFILE_MAX_SIZE: cProfile triples the time, and 200 providers show the same parts.
            largest = max([size for size in args.sizes if size <= PROFILE_MAX_SIZE] or [min(args.sizes)])
            data_dir = work / f"n{largest}" / "data"
            log(f"profile: the build and the gates at N = {largest} under cProfile")
            env = _env(data_dir)
            site = work / "profile-site"
            profile_lines.append(f"Build at N = {largest}:")
            lines = profile(our_build(data_dir, site), env, work / "build", PROFILE_PARTS)
            profile_lines += ["    " + line for line in lines]
            steps = gate_steps(data_dir, site)
            for step in ("validate", "scan-secrets", "check-links"):
                profile_lines.append(f"{step} at N = {largest}:")
                profile_lines += ["    " + line for line in profile(steps[step], env, work / step, ())]

    verdicts = targets(results, reload_s, not args.no_serve)
    report = [
        "| target | measured | verdict |",
        "|---|---|---|",
        *[f"| {t.name} | {t.measured} | {t.verdict} |" for t in verdicts],
    ]
    print()
    print("\n".join(table(results)))
    print()
    print("\n".join(report))
    elapsed = time.perf_counter() - started
    print(f"\nbenchmark took {elapsed / 60:.1f} min; results written to {args.output}")
    args.output.write_text(_results_md(results, report, profile_lines, reload_s, args, elapsed), encoding="utf-8")
    return 1 if any(t.verdict == "FAIL" for t in verdicts) else 0


def _results_md(
    results: dict[str, SizeResult],
    report: list[str],
    profile_lines: list[str],
    reload_s: float | None,
    args: argparse.Namespace,
    elapsed: float,
) -> str:
    command = "python bench/run.py"
    command += "" if args.sizes == list(DEFAULT_SIZES) else f" --sizes {','.join(map(str, args.sizes))}"
    command += "" if args.runs is None else f" --runs {args.runs}"
    reload_line = "not measured" if reload_s is None else f"{reload_s:.2f} s"
    parts = [
        "# Build benchmark results",
        "",
        f"Written by `{command}` (`make bench`); the run took {elapsed / 60:.1f} minutes. "
        "Do not edit by hand: rerun the benchmark instead.",
        "",
        "## Machine",
        "",
        *machine(),
        "",
        "## Results",
        "",
        "`real` is the repository's own data; the other rows are synthetic data sets of N providers "
        "(10 models, 5 recharge steps, 5 FAQs and 3 error codes each, both languages) written by "
        "`bench/generate.py` into a temporary directory. *build* is `mkdocs build --strict` of mkdocs.yml with "
        "our hooks (both languages; from 100 pages per language English builds in a forked process while "
        "Chinese builds), the median of the runs the table shows; *plain MkDocs* builds the same rendered pages "
        "with the same theme, features, extensions, search and navigation but no hooks, in the same run, "
        "alternating with ours, and like ours builds the second language in a parallel process from 100 pages "
        "per language; *peak RSS* is the largest memory of the build's processes together (os.wait4 for each, "
        f"and the sum of their proportional set sizes sampled every {RSS_SAMPLE_S * 1000:.0f} ms). *gate* is "
        "validate + check-config + the build + "
        "scan-secrets + check-links, run one after the other as separate commands.",
        "",
        *table(results),
        "",
        f"Serve reload (`mkdocs serve` on 5 providers; one provider's fact edited in the YAML; seconds until "
        f"the served page shows the new text, the median of {RELOAD_EDITS} edits): {reload_line}.",
        "",
        "## Targets",
        "",
        *report,
        "",
        "## What dominated",
        "",
        PROFILING_NOTES.strip(),
        "",
    ]
    if profile_lines:
        parts += ["### Profile of this run", "", "```text", *profile_lines, "```", ""]
    return "\n".join(parts)


PROFILING_NOTES = """
Profiled with cProfile before optimising (the profile of this run is below).

- **Reading the YAML** dominated everything that loads the data. ruamel.yaml's round-trip loader is
  pure Python: 5 s for 200 providers and about 25 s for 1,000, and the build loaded the data twice
  (once per language), validate and check-config once each. `runbooks/yaml_lines.py` parses with
  libyaml (PyYAML's C parser) and resolves scalars as ruamel does (floats are made by ruamel's own
  constructor, so a price keeps the form ruamel records; a float once sent the whole price snapshot
  back to ruamel, 3 s at 200 providers); anything it cannot reproduce exactly falls back to ruamel.
  Validation reads plain dicts and lists: the line-numbered tree, which took most of the reading time,
  is built only when there is a problem to locate. The build loads the data once for both languages
  (`loader.load_unchanged`): 0.35 s at 200 providers, 2.3 s at 1,000. Rendering every page rebuilt the
  list of all FAQs (quadratic: 10 s of 250 s under the profiler at 1,000 providers); it is built once
  per data set.
- **Garbage collection**: once loaded, the data is a few hundred thousand long-lived objects that every
  full collection during the build walked again (about 4 s of CPU at 200 providers); the hook
  freezes them (`gc.freeze`) after loading. Raising the collection thresholds as well changed nothing
  measurable.
- **Two cores**: the languages share nothing, so from 100 pages per language the second language is
  built in a forked process (made after the data is loaded, so it starts with everything imported
  and loaded) while the first builds; the baseline does the same with its own second process. The
  Chinese build is the longer one (its search index segments every section with jieba), so the
  English process also writes the site-wide files (robots.txt, sitemap, providers.json, faq.json:
  1.5 s at 1,000 providers), which the Chinese build moves into place.
- **The page structure** made the build quadratic. Material renders the whole navigation into every
  page, so 1,000 provider pages per language each carried 1,000 navigation entries (measured 120 s
  with the full navigation against 39 s without). And the shared pages repeated every provider's
  details: at 1,000 providers the FAQ page held 5,000 questions, the config map 10,000 models and cost
  control 10,000 prices, 7.5 MB of Markdown per language against 3.2 MB for all the provider pages
  together, and the search plugin looks up each heading's table-of-contents entry by a linear scan, so
  a page with 16,000 headings cost 8 s on that alone. Beyond `render.PROVIDERS_LISTED_MAX` (30)
  providers the navigation holds the providers index instead of every provider (the other provider
  pages are built as "not in nav" pages, so strict mode stays quiet without loosening
  `validation.nav.omitted_files`), each provider's questions are answered on its own page, and the
  shared pages keep what concerns the whole team and link to the provider pages for the rest. Only the
  providers index, the config map's table of variables and the errors page's lists grow with the
  providers, by one row or one link each.
- **Compiling templates**: MkDocs makes a new Jinja environment for every build, so each language,
  each build and each rebuild under `mkdocs serve` compiled Material's fifty-odd templates again
  (about 0.2 s each time), and every process compiled ours (0.1 s). Both environments now keep the
  compiled code in Jinja's bytecode cache (`render.bytecode_cache`: a private per-user directory in
  the temp directory, checked against each template's source).
- **What is left** is MkDocs itself, and it is the same for the plain baseline: Python-Markdown's
  conversion of every page, the Material templates, and the search plugin parsing every page's HTML
  and segmenting the Chinese. Of our own work, loading the data (0.3 s at 200 providers) and
  rendering the pages (0.2 s per language) remain; both grow with the data, not faster.
- **The link gate**: LinkChecker alone did not finish on 1,000 providers because it downloads and
  parses a page again for every distinct URL pointing into it, and every `#anchor` makes a distinct
  URL; with the full navigation and table of contents on every page, each page links to every other
  provider page and to dozens of anchors, so the work grew with pages × links. `check-links` parses
  each page once (in parallel processes from 200 pages, since parsing is most of its time) and
  resolves each distinct target once, offline, anchors included; LinkChecker only sees distinct
  external URLs behind `--external`.
- **The secret scan** ran every detector over every line of every file (HTML, search index, sitemap),
  and most lines are the same theme markup repeated on every page (34,000 distinct lines of 632,000 at
  200 providers). It now checks each distinct line once, and runs a detector on a line only if one of
  its own patterns matches there (after a substring every match of that pattern must contain, derived
  from the pattern), without dropping any detector or any reading of the text: 40 s → 4 s under the
  profiler at 200 providers.
"""


if __name__ == "__main__":
    sys.exit(main())

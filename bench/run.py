"""Benchmark the gated build, `make check` and `make test` against their targets, and write bench/RESULTS.md."""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/run.py` from a fresh clone
    sys.path.insert(0, str(ROOT))

from bench import commands, generate, plain, report, serve  # noqa: E402
from bench.measure import Run, checked, measure  # noqa: E402
from bench.profiling import CHECK_PARTS, GATED_PARTS, MKDOCS_PARTS, profile  # noqa: E402
from bench.results import Results, SizeResult  # noqa: E402
from bench.targets import failed, other_ratios, targets  # noqa: E402
from runbooks.audience import DEFAULT_SITE_URL  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
DEFAULT_SIZES = (5, 50, 200, 1000)
# The smaller data sets build in a few seconds, which vary more: more runs for them.
RUNS_UP_TO = ((50, 7), (200, 5))  # (at most this many providers, runs)
RUNS = 3  # above
# cProfile slows a build down about threefold, and at 200 providers the parts already weigh what they do at 1,000.
PROFILE_MAX_SIZE = 200
OUTPUT_SHOWN = 8000  # characters of a failed command's output printed

Log = Callable[[str], None]


def bench_size(label: str, data_dir: Path, providers: int, work: Path, runs: int, log: Log) -> SizeResult:
    """Time the gated build and the baseline `runs` times each, alternating, then `make check` once."""
    site = work / "site"
    spec = plain.prepare(data_dir, work / "plain-docs", work / "plain-site", DEFAULT_SITE_URL)
    result = SizeResult(label, providers, pages=plain.page_count(spec))
    builds = (
        ("gated", commands.gated_build(data_dir, site), result.ours),
        ("plain", commands.plain_build(spec, data_dir), result.plain),
    )
    for n in range(runs):
        for kind, command, into in builds:
            # Every build starts without a previous site, so that both do the same work on every run.
            shutil.rmtree(site, ignore_errors=True)
            plain.clean(spec)
            run = checked(measure(command), f"the {kind} build of {label}")
            into.append(run)
            log(f"  {label}: {kind} build {n + 1}/{runs}: {run.seconds:.2f} s, {run.max_rss / 2**20:.0f} MiB")
    shutil.rmtree(site, ignore_errors=True)
    plain.clean(spec)
    result.check = _timed(f"{label}: make check", commands.check(data_dir), log)
    return result


def _timed(what: str, command: commands.Command, log: Log) -> Run:
    """Run and time `command` (make check, the pytest phase): only the gated builds' memory is reported."""
    run = measure(command, sample_memory=False)
    if run.ok:
        log(f"  {what}: {run.seconds:.1f} s")
    else:
        shown = run.output[-OUTPUT_SHOWN:]
        log(f"  {what}: FAILED, exit {run.returncode} after {run.seconds:.1f} s; its output:\n{shown}")
    return run


def profile_run(data_dir: Path, work: Path, size: int, log: Log) -> list[str]:
    """Profiles of the gated build, of the MkDocs build inside it, and of `make check`, on one data set."""
    site = work / "profile-site"
    lines: list[str] = []
    for what, command, parts in (
        ("gated build", commands.gated_build(data_dir, site), GATED_PARTS),
        ("its MkDocs build", commands.mkdocs_build(data_dir, site), MKDOCS_PARTS),
        ("make check", commands.check(data_dir), CHECK_PARTS),
    ):
        log(f"profile: {what} at N = {size} under cProfile")
        shutil.rmtree(site, ignore_errors=True)
        lines.append(f"{what} at N = {size}: {command.shown().replace(f'{work}/', '')}")
        lines += ["    " + line for line in profile(command, work / f"{what.replace(' ', '-')}.prof", parts)]
    return lines


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python bench/run.py",
        description="Time the gated build (`make site`) on the real data and on synthetic data sets of N "
        "providers against plain MkDocs building the same pages, `make check` on each data set, the pytest "
        "phase of `make test` and a reload under `mkdocs serve`; judge the targets and write bench/RESULTS.md. "
        "Method and targets: bench/README.md. Exits 1 if a measured target fails.",
    )
    parser.add_argument("--sizes", type=_sizes, metavar="N,N,…",
                        help="provider counts to generate (default: "
                        + ",".join(map(str, DEFAULT_SIZES)) + "); a run with --sizes is partial")  # fmt: skip
    parser.add_argument("--runs", type=int, metavar="K",
                        help="builds per data set, median taken (default: "
                        + ", ".join(f"{runs} up to {size} providers" for size, runs in RUNS_UP_TO)
                        + f", {RUNS} above)")  # fmt: skip
    parser.add_argument("--no-real", action="store_true", help="skip the repository's own data in data/")
    parser.add_argument("--no-serve", action="store_true", help="skip the serve reload")
    parser.add_argument("--pytest", action=argparse.BooleanOptionalAction,
                        help="time the pytest phase of make test (default: only in a run without --sizes)")  # fmt: skip
    parser.add_argument("--no-profile", action="store_true", help="skip the profiles at the largest size up to "
                        f"{PROFILE_MAX_SIZE}")  # fmt: skip
    parser.add_argument("--output", type=Path, default=RESULTS, metavar="PATH",
                        help="where to write the results (default: bench/RESULTS.md)")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the tables, write the results file; 1 if a measured target failed."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    sizes = args.sizes or list(DEFAULT_SIZES)
    run_pytest = args.sizes is None if args.pytest is None else args.pytest

    def log(line: str) -> None:
        print(line, flush=True)

    started = time.perf_counter()
    results = Results()
    with tempfile.TemporaryDirectory(prefix="runbooks-bench-") as tmp:
        work = Path(tmp)
        data_sets: list[tuple[str, Path, int | None]] = []
        if args.no_real:
            results.real_skipped = "--no-real"
        else:
            data_sets.append(("real", ROOT / "data", None))
        for size in sizes:
            data_sets.append((str(size), generate.write(work / f"n{size}", size), size))
        for label, data_dir, size in data_sets:
            if size is None:
                from runbooks.loader import load

                size = len(load(data_dir).providers.providers)
            runs = args.runs or default_runs(size)
            log(f"{label}: {runs}× the gated build and {runs}× plain MkDocs, alternating, then make check")
            results.sizes[label] = bench_size(label, data_dir, size, work / f"run-{label}", runs, log)

        if args.no_serve:
            results.reload_skipped = "--no-serve"
        else:
            log(f"serve: editing one provider's fact under mkdocs serve, {serve.EDITS} times")
            results.reload = serve.reload(generate.write(work / "serve", serve.PROVIDERS), log)
            median = results.reload.median_s
            log(f"  serve: {results.reload.failure or f'median {median:.2f} s'}")

        if run_pytest:
            log("pytest: the pytest phase of make test, from the repository root")
            results.pytest = _timed("pytest", commands.pytest(), log)
        else:
            results.pytest_skipped = "--no-pytest" if args.pytest is False else "a partial run; --pytest measures it"

        if not args.no_profile:
            largest = max([size for size in sizes if size <= PROFILE_MAX_SIZE] or [min(sizes)])
            results.profile = profile_run(work / f"n{largest}" / "data", work, largest, log)

    verdicts = targets(results)
    print()
    print("\n".join(report.table(results)))
    print()
    print("\n".join(report.targets_table(verdicts)))
    if other_ratios(results):
        print("\ngated build / plain MkDocs at the other sizes (no target): " + ", ".join(other_ratios(results)))
    elapsed = time.perf_counter() - started
    command = shlex.join(["python", "bench/run.py", *argv])
    args.output.write_text(report.results_md(results, verdicts, command, elapsed), encoding="utf-8")
    print(f"\nbenchmark took {elapsed / 60:.1f} min; results written to {args.output}")
    return 1 if failed(verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())

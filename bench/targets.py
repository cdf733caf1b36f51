"""The targets, their limits, and the PASS / FAIL verdict of each on what a run measured."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.measure import Run
from bench.results import Results

GIB = 1024**3
MIB = 1024**2

RATIO_LIMIT = 1.15
RATIO_SIZES = ("5", "200")
BUILD_1000_LIMIT_S = 45.0
RSS_1000_LIMIT = 1 * GIB
GROWTH_LIMIT = 5.5
CHECK_REAL_LIMIT_S = 6.0
CHECK_1000_LIMIT_S = 90.0
PYTEST_LIMIT_S = 120.0
RELOAD_LIMIT_S = 2.0

PASS, FAIL, NOT_MEASURED = "PASS", "FAIL", "not measured"


@dataclass
class Target:
    """One target: what it is about, its limit, the measured value as text, and its verdict."""

    name: str
    limit: str
    measured: str
    verdict: str


def targets(results: Results) -> list[Target]:
    """Every target of the benchmark, judged on what `results` holds."""
    sizes = results.sizes

    def missing(label: str) -> str:
        if label == "real":
            return f"not measured ({results.real_skipped or 'the real data was not benchmarked'})"
        return f"not measured (N = {label} was not in --sizes)"

    out: list[Target] = []
    for label in RATIO_SIZES:
        size = sizes.get(label)
        detail = f" ({size.build_s:.2f} s / {size.plain_s:.2f} s)" if size else ""
        out.append(_judged(f"gated build / plain MkDocs, N = {label}", RATIO_LIMIT, f"{RATIO_LIMIT}×",
                           size and size.ratio, lambda v, d=detail: f"{v:.3f}×{d}", missing(label)))  # fmt: skip
    big, mid = sizes.get("1000"), sizes.get("200")
    out.append(_judged("gated build, N = 1000", BUILD_1000_LIMIT_S, f"{BUILD_1000_LIMIT_S:.0f} s",
                       big and big.build_s, "{:.1f} s".format, missing("1000")))  # fmt: skip
    out.append(_judged("peak memory of the gated build, N = 1000", RSS_1000_LIMIT, f"{RSS_1000_LIMIT // GIB} GiB",
                       big and big.peak_rss, lambda v: f"{v / MIB:.0f} MiB", missing("1000")))  # fmt: skip
    growth = big.build_s / mid.build_s if big and mid else None
    out.append(_judged("gated build growth, time(1000) / time(200)", GROWTH_LIMIT, f"{GROWTH_LIMIT}",
                       growth, "{:.2f}".format, missing("200" if big else "1000")))  # fmt: skip
    real = sizes.get("real")
    out.append(_timed("make check on the real data", CHECK_REAL_LIMIT_S, real and real.check, missing("real")))
    out.append(_timed("make check, N = 1000", CHECK_1000_LIMIT_S, big and big.check, missing("1000")))
    out.append(_timed("make test, pytest phase", PYTEST_LIMIT_S, results.pytest,
                      f"not measured ({results.pytest_skipped})"))  # fmt: skip
    name, limit = "serve reload after a data edit, median of the edits", f"{RELOAD_LIMIT_S:.0f} s"
    reload = results.reload
    if reload is not None and reload.median_s is None:
        out.append(Target(name, f"≤ {limit}", reload.failure or "no edit measured", FAIL))
    else:
        out.append(_judged(name, RELOAD_LIMIT_S, limit, reload and reload.median_s, "{:.2f} s".format,
                           f"not measured ({results.reload_skipped})"))  # fmt: skip
    return out


def other_ratios(results: Results) -> list[str]:
    """The gated build / plain MkDocs ratio at the sizes no target covers, for information."""
    return [f"{label}: {r.ratio:.3f}×" for label, r in results.sizes.items() if label not in RATIO_SIZES]


def failed(verdicts: list[Target]) -> bool:
    """Whether any measured target failed."""
    return any(t.verdict == FAIL for t in verdicts)


def _judged(
    name: str, limit: float, limit_shown: str, value: float | None, shown: Callable[[float], str], absent: str
) -> Target:
    if value is None:
        return Target(name, f"≤ {limit_shown}", absent, NOT_MEASURED)
    return Target(name, f"≤ {limit_shown}", shown(value), PASS if value <= limit else FAIL)


def _timed(name: str, limit: float, run: Run | None, absent: str) -> Target:
    if run is None:
        return Target(name, f"≤ {limit:.0f} s", absent, NOT_MEASURED)
    if not run.ok:  # a command that failed did not do all its work, so its time cannot pass
        return Target(name, f"≤ {limit:.0f} s", f"{run.seconds:.1f} s, but it exited {run.returncode}", FAIL)
    return Target(name, f"≤ {limit:.0f} s", f"{run.seconds:.1f} s", PASS if run.seconds <= limit else FAIL)

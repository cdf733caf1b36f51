"""The `python -m runbooks` command line: each command beside its arguments; it runs gates and prints their report."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from runbooks.audience import AUDIENCES, DEFAULT_SITE_URL
from runbooks.checks import Report
from runbooks.checks.freshness import DEFAULT_MAX_AGE_DAYS, check_freshness
from runbooks.checks.links import check_links
from runbooks.findings import Finding, FindingsError, Unreadable, display_path
from runbooks.handover import Handover
from runbooks.progress import Progress
from runbooks.publish import SiteBuild, describe, publish, start_build

if TYPE_CHECKING:
    from runbooks.loader import Dataset
    from runbooks.memory import Derived
    from runbooks.site import Site

EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE = 0, 1, 2
EXIT_CODES = "Exit codes: 0 clean (warnings allowed), 1 findings, 2 input that could not be read."

Gate = Callable[[Path], list[Finding]]


def run() -> None:
    """The `runbooks` command an installed package provides: `python -m runbooks` under its own name."""
    exit_now(main(prog="runbooks"))


def exit_now(code: int) -> NoReturn:
    """End the process with `code` once its output is flushed, without tearing the interpreter down.

    When `main` has returned, every file a command wrote is closed and every process it started has
    ended; what the interpreter would still do is free each object one by one, which after a large
    build takes longer than some of its gates. Under a profiler or a tracer (cProfile, coverage, a
    debugger), which writes what it saw as the interpreter ends, the process ends as usual.
    """
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # a reader that stopped early, or a stream already closed
        pass
    os._exit(code)


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m runbooks") -> int:
    """Run the command named in `argv` and return its exit code.

    A reader that stops early (`python -m runbooks check-config … | head -1`) ends the output quietly:
    what could not be written is dropped, and the exit code is the command's (1 if it had none yet).
    """
    outcome = [EXIT_FINDINGS]
    try:
        return _main(argv, outcome, prog)
    except BrokenPipeError:
        _silence_closed_output()
        return outcome[0]


def _main(argv: Sequence[str] | None, outcome: list[int], prog: str) -> int:
    """`main`, which records the command's exit code in `outcome` before printing its report."""
    parser = _parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit:  # --help or a wrong argument: flush what argparse wrote while a closed pipe can be caught
        sys.stdout.flush()
        sys.stderr.flush()
        raise
    if getattr(args, "site_url", "") is None:
        args.site_url = os.environ.get("SITE_URL", DEFAULT_SITE_URL)
    if not hasattr(args, "run"):
        parser.print_help()
        sys.stdout.flush()
        return EXIT_UNREADABLE
    # Long commands show their steps on a terminal; JSON and piped output stay the report alone.
    args.progress = Progress(enabled=None if args.format == "human" else False)
    report = args.run(args)
    outcome[0] = {"error": EXIT_UNREADABLE, "fail": EXIT_FINDINGS}.get(report.verdict, EXIT_OK)
    _print(report, args.format, args.command)
    sys.stdout.flush()
    sys.stderr.flush()
    return outcome[0]


def _silence_closed_output() -> None:
    """Point stdout and stderr at /dev/null, so that flushing them at exit cannot fail again (Python's recipe)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in (sys.stdout, sys.stderr):
            try:
                os.dup2(devnull, stream.fileno())
            except (OSError, ValueError):  # not a file descriptor (captured), or already closed
                continue
    finally:
        os.close(devnull)


# -------------------------------------------------------------------------------------------------
# Arguments more than one command takes
# -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arg:
    """One argument of a command, as `argparse.ArgumentParser.add_argument` takes it."""

    flags: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


def arg(*flags: str, **options: Any) -> Arg:
    """An argument of a command."""
    return Arg(flags, options)


def _days(text: str) -> int:
    days = int(text)
    if days < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return days


DATA = arg("--data", type=Path, default=Path("data"), metavar="DIR", help="data directory (default: data)")
CONFIG = arg("config", type=Path, metavar="CONFIG", help="the proxy's config.yaml")
SITE_DIR = arg("dir", type=Path, metavar="DIR", help="the built site, e.g. site")
ENV_FILE = arg(
    "--env-file",
    type=Path,
    metavar="PATH",
    help="also fail on any exact value of this dotenv file, e.g. the server's api_keys.env",
)
SITE_URL = arg(
    "--site-url",
    metavar="URL",
    help="the URL the site is built for; its path is the site root (default: $SITE_URL or the local preview)",
)
FRESHNESS = (
    arg(
        "--max-age-days",
        type=_days,
        default=DEFAULT_MAX_AGE_DAYS,
        metavar="N",
        help=f"verified_on older than N days is stale (default: {DEFAULT_MAX_AGE_DAYS})",
    ),
    arg("--strict-freshness", action="store_true", help="make stale facts a failure instead of a warning"),
)

# -------------------------------------------------------------------------------------------------
# Commands, in the order `--help` lists them
# -------------------------------------------------------------------------------------------------

_COMMANDS: list[tuple[str, str, str, tuple[Arg, ...], Callable[[argparse.Namespace], Report]]] = []


def command(
    name: str, summary: str, details: str, *args: Arg
) -> Callable[[Callable[[argparse.Namespace], Report]], Callable[[argparse.Namespace], Report]]:
    """Register the decorated function as the command `name`, with its help text and arguments."""

    def register(run: Callable[[argparse.Namespace], Report]) -> Callable[[argparse.Namespace], Report]:
        _COMMANDS.append((name, summary, details, args, run))
        return run

    return register


@command(
    "validate",
    "check data/*.yaml against the schema",
    "Every problem is printed as file:line: reason: path: message, all at once.",
    DATA,
)
def _validate(args: argparse.Namespace) -> Report:
    report = Report()
    _load_into(report, args.data)
    return report


@command(
    "check-config",
    "check a LiteLLM proxy config against the documented providers",
    "Every deployment must route to a documented provider and model, read its key from the "
    "documented environment variable, and hold no literal secret. Run it on the server before "
    "restarting the proxy: python -m runbooks check-config /root/litellm/config.yaml",
    CONFIG,
    arg(
        "--providers",
        type=Path,
        default=Path("data/providers.yaml"),
        metavar="PATH",
        help="the documented providers (default: data/providers.yaml; team.yaml is read beside it)",
    ),
)
def _check_config(args: argparse.Namespace) -> Report:
    from runbooks.checks.config import check_config
    from runbooks.loader import FILES

    report = Report()
    if args.providers.name == FILES["providers"]:
        dataset = _load_into(report, args.providers.parent)
    else:  # another name: a data directory where it is providers.yaml, every other file read beside it
        real: dict[str, str] = {}
        with tempfile.TemporaryDirectory() as linked:
            for name in FILES.values():
                source = args.providers if name == FILES["providers"] else args.providers.parent / name
                if name == FILES["providers"] or source.exists():
                    (Path(linked) / name).symlink_to(source.resolve())
                    real[str(Path(linked) / name)] = display_path(source, Path.cwd())
            dataset = _load_into(report, Path(linked))
        report.findings = [dataclasses.replace(f, file=real.get(f.file, f.file)) for f in report.findings]
    if dataset is not None:
        _run_gate(report, lambda: check_config(args.config, dataset, display_root=Path.cwd()))
    return report


@command(
    "lint-cost",
    "warn about cost risks in a LiteLLM proxy config",
    "Warns when a deployment of an expensive tier (expensive: true in data/team.yaml) has no rpm or tpm, "
    "when rpm/tpm are not enforced by the routing strategy, when the config sets no budget at all, when "
    "expensive models are open to every key created without a models list, and when num_retries is missing "
    "or high. Warnings exit 0 unless --strict: python -m runbooks lint-cost /root/litellm/config.yaml",
    CONFIG,
    DATA,
    arg("--strict", action="store_true", help="make every cost risk a failure (exit 1)"),
)
def _lint_cost(args: argparse.Namespace) -> Report:
    from runbooks.checks.cost import lint_cost

    report = Report()
    dataset = _load_into(report, args.data)
    if dataset is not None:
        _run_gate(report, lambda: lint_cost(args.config, dataset, strict=args.strict, display_root=Path.cwd()))
    return report


@command(
    "sync-prices",
    "copy the documented models' prices from LiteLLM's price map into data/prices.yaml",
    "Reads model_prices_and_context_window_backup.json from the installed litellm package (make sync-prices "
    "installs the pinned version into .venv-litellm and runs this there) and writes the snapshot the site "
    "is built from, with the package version and today's date. A documented model the map does not have is "
    "reported and written as not priced, never guessed. Without litellm it exits 2 and says how to install it.",
    DATA,
    arg(
        "--check",
        action="store_true",
        help="write nothing; fail if data/prices.yaml differs from the installed LiteLLM's prices",
    ),
)
def _sync_prices(args: argparse.Namespace) -> Report:
    from runbooks.prices import sync_prices

    report = Report()
    dataset = _load_into(report, args.data, prices=False)
    if dataset is None:
        return report

    def sync() -> list[Finding]:
        findings, summary = sync_prices(args.data, dataset, check=args.check, display_root=Path.cwd())
        if args.format == "human":
            print(summary)
        return findings

    _run_gate(report, sync)
    return report


@command(
    "scan-secrets",
    "scan a built site for API keys and other secrets",
    "Looks for the key shapes of every documented provider, LiteLLM keys, bearer tokens, JWTs and "
    "private keys, also HTML-escaped or inside JSON. Values are never printed.",
    SITE_DIR,
    ENV_FILE,
)
def _scan_secrets(args: argparse.Namespace) -> Report:
    from runbooks.checks.secrets import scan_secrets

    report = Report()
    _run_gate(report, lambda: scan_secrets(args.dir, args.env_file, display_root=Path.cwd()))
    return report


@command(
    "check-links",
    "check every link and anchor of a built site",
    "Internal links and anchors are checked offline, each distinct link once.",
    SITE_DIR,
    SITE_URL,
    arg("--external", action="store_true", help="also check external links with LinkChecker (needs internet access)"),
)
def _check_links(args: argparse.Namespace) -> Report:
    report = Report()
    _run_gate(
        report, lambda: check_links(args.dir, site_url=args.site_url, external=args.external, display_root=Path.cwd())
    )
    return report


@command(
    "check-public",
    "check that a public build holds no internal fact",
    "Every value the data marks internal (the shared account, server paths, ops steps, roles, and "
    "whatever carries visibility: internal) is looked for in every file of DIR: HTML, search index, "
    "sitemap, llms.txt, JSON exports and .md mirrors, with escapes undone.",
    arg("dir", type=Path, metavar="DIR", help="the public build, e.g. site-public"),
    DATA,
)
def _check_public(args: argparse.Namespace) -> Report:
    from runbooks.checks.public import check_public

    report = Report()
    dataset = _load_into(report, args.data)
    if dataset is not None:
        _run_gate(report, lambda: check_public(args.dir, dataset, display_root=Path.cwd()))
    return report


@command(
    "check-freshness",
    "flag provider facts that nobody has verified recently",
    "Compares each verified_on date with today.",
    DATA,
    *FRESHNESS,
)
def _check_freshness(args: argparse.Namespace) -> Report:
    report = Report()
    dataset = _load_into(report, args.data)
    if dataset is not None:
        report.add(check_freshness(dataset, max_age_days=args.max_age_days, strict=args.strict_freshness))
    return report


@command(
    "build",
    "build the site and publish it only if every gate passes",
    "Builds both languages into a temporary directory beside the site directory, runs scan-secrets "
    "and check-links on the result, and only then replaces the site directory. On any failure the "
    "previous site is left untouched.",
    DATA,
    arg(
        "--audience",
        choices=AUDIENCES,
        default="internal",
        help="internal: every fact, for the team, marked noindex; public: only public facts, checked by "
        "check-public (default: internal)",
    ),
    arg("--site-dir", type=Path, default=Path("site"), metavar="DIR", help="where to publish (default: site)"),
    arg("--env-file", type=Path, metavar="PATH", help="as for scan-secrets"),
    SITE_URL,
)
def _build(args: argparse.Namespace) -> Report:
    """Build into a temporary directory, gate it, and replace the site directory only on success."""

    # The data is read here while MkDocs starts, and the site derived from it is handed to the build.
    handover = Handover(args.data, args.audience)

    def build(site: Path) -> Finding | None:
        with args.progress.step(f"build ({args.audience})") as shown:
            running = start_build(site, args.data, site_url=args.site_url, audience=args.audience, handover=handover)
            try:
                readable = preparing.result() is not None
            except BaseException:
                running.stop()
                raise
            if readable:
                failed = running.wait()
            else:  # what is wrong with the data is the report: MkDocs, which would only say it again, is stopped
                running.stop()
                failed = Finding("build_failed", "the data is invalid", str(args.data))
            shown.verdict = "fail" if failed else "pass"
        return failed

    report, loaded = Report(), Report()

    def prepare() -> list[Gate] | None:
        dataset = site = None
        try:
            dataset = _load_into(loaded, args.data)
            site = _site_of(dataset, args.audience)
        finally:
            handover.send(site)  # None: the build is stopped (invalid data) or reads the data itself and says why
        if dataset is None:
            return None
        # Only check-public reads the data: the team's site lets it go now, while MkDocs builds.
        kept = dataset if args.audience == "public" else None
        return site_gates(args.audience, kept, env_file=args.env_file, site_url=args.site_url)

    with ThreadPoolExecutor(max_workers=1) as pool:
        # The gates are made ready while MkDocs builds: this costs no time.
        preparing = pool.submit(prepare)

        def gates(site: Path) -> list[Finding]:
            from runbooks.languages import in_fork

            prepared = preparing.result()
            pool.shutdown()  # no thread of this process runs now: the gates after the first may run in forks
            if prepared is None:
                return []
            found = Report()
            # The first gate runs here while the others run in forks, on the other cores; their results are
            # shown in order once each is in.
            running = [functools.partial(gate, site) for gate in prepared[:1]]
            running += [in_fork(functools.partial(gate, site), passed_back=(Unreadable,)) for gate in prepared[1:]]
            for gate, result in zip(prepared, running, strict=True):
                _run_gate(found, result, (args.progress, gate_name(gate)))
            if found.unreadable:
                raise Unreadable(found.findings)
            return found.findings + found.warnings

        def publishing() -> list[Finding]:
            try:
                return publish(args.site_dir, build, [gates])
            except OSError as exc:  # the system failed a gate or the build's start: one line, the old site kept
                return [Finding("publish_failed", describe(exc), str(args.site_dir))]

        published = Report()
        try:
            _run_gate(published, publishing)
        finally:
            handover.close()
        preparing.result()
    # Broken data fails the build too; its problems, located in the data, say more than MkDocs' message.
    for part in (loaded,) if loaded.verdict != "pass" else (loaded, published):
        report.add(part.findings + part.warnings)
        report.unreadable |= part.unreadable
    if report.verdict != "pass":
        there = os.path.lexists(args.site_dir)
        kept = f"{args.site_dir} was left as it was" if there else f"{args.site_dir} was not created"
        report.add([Finding("not_published", kept, str(args.site_dir), severity="warning")])
    return report


@command(
    "check",
    "run every gate on the repository",
    "validate, check-config, lint-cost, payment links and freshness, then a strict build of each "
    "audience into a temporary directory with scan-secrets and check-links on what was built, and "
    "check-public on the public build.",
    DATA,
    arg(
        "--config",
        type=Path,
        metavar="CONFIG",
        help="the LiteLLM config to check (default: litellm/config.yaml in the data directory)",
    ),
    arg("--env-file", type=Path, metavar="PATH", help="as for scan-secrets"),
    SITE_URL,
    *FRESHNESS,
)
def _check(args: argparse.Namespace) -> Report:
    """Every gate on the repository, in the order a change would break them."""
    from runbooks.checks.config import check_config
    from runbooks.checks.cost import lint_cost
    from runbooks.checks.links import links_memory
    from runbooks.proxy_config import read_proxy_config

    report = Report()
    with tempfile.TemporaryDirectory(prefix="runbooks-check-") as tmp:
        # Both audiences build in child processes while the data and the proxy config are checked here; the
        # data read here is handed to both.
        handovers = {audience: Handover(args.data, audience) for audience in AUDIENCES}
        builds: dict[str, SiteBuild] = {}
        try:
            for audience, handover in handovers.items():
                site = Path(tmp) / f"site-{audience}"
                options = {"site_url": args.site_url, "audience": audience, "handover": handover}
                builds[audience] = start_build(site, args.data, **options)
            with args.progress.step("validate") as shown:
                dataset = _load_into(report, args.data)
                shown.verdict = "pass" if dataset is not None else report.verdict
            for audience, handover in handovers.items():
                handover.send(_site_of(dataset, audience))
            if dataset is None:
                return report
            config = args.config or args.data / "litellm" / "config.yaml"
            # Read once for both gates; a config that cannot be read is reported by each, as they report it alone.
            proxy = functools.cache(lambda: read_proxy_config(config, display_root=Path.cwd()))
            steps = args.progress
            _run_gate(report, lambda: check_config(proxy(), dataset), (steps, "check-config"))
            _run_gate(report, lambda: lint_cost(proxy(), dataset), (steps, "lint-cost"))
            freshness = functools.partial(
                check_freshness, dataset, max_age_days=args.max_age_days, strict=args.strict_freshness
            )
            _run_gate(report, freshness, (steps, "check-freshness"))
            # Made now, while the sites still build: the gates read what they remember from earlier runs, once.
            memory = links_memory()
            gates = {
                audience: site_gates(audience, dataset, env_file=args.env_file, site_url=args.site_url, memory=memory)
                for audience in builds
            }
            for audience, running in builds.items():
                site = Path(tmp) / f"site-{audience}"
                before = len(report.findings)
                _run_gate(report, functools.partial(_waited, running), (steps, f"build ({audience})"))
                if len(report.findings) > before:
                    continue
                for gate in gates[audience]:
                    _run_gate(report, functools.partial(gate, site), (steps, f"{gate_name(gate)} ({audience})"))
        finally:
            for running in builds.values():
                running.stop()
            for handover in handovers.values():
                handover.close()
    return report


@command(
    "observe",
    "observe every documented error through the pinned LiteLLM proxy and record what people see",
    "Starts a fake provider on 127.0.0.1 answering with each error entry's documented response and the pinned "
    "proxy with the team's config (base URLs on the fake; the database and alerting left out), sends each "
    "entry's request as a member does (the after-recharge page's curl command and the OpenAI Python SDK), and "
    "writes what came back, the proxy's log lines and how many requests reached the provider to "
    "data/observations.yaml. Needs litellm: make observe runs it in .venv-litellm.",
    DATA,
    arg(
        "--config",
        type=Path,
        metavar="CONFIG",
        help="the LiteLLM config to observe (default: litellm/config.yaml in the data directory)",
    ),
    arg(
        "--check",
        action="store_true",
        help="write nothing; fail where a fresh observation differs from data/observations.yaml",
    ),
)
def _observe(args: argparse.Namespace) -> Report:
    from runbooks.observe import compare, observe, write_observations

    report = Report()
    # The observations are what this command writes: the data is read without them.
    dataset = _load_into(report, args.data, observations=False)
    if dataset is None:
        return report
    target = args.data / "observations.yaml"

    def run() -> list[Finding]:
        # One progress line per entry: an entry's line ends when the next one starts.
        under_way: list[contextlib.AbstractContextManager] = []

        def progress(key: str) -> None:
            if under_way:
                under_way.pop().__exit__(None, None, None)
            step = args.progress.step(f"observe {key}")
            step.__enter__()
            under_way.append(step)

        try:
            fresh = observe(dataset, args.config or args.data / "litellm" / "config.yaml", on_entry=progress)
        finally:
            if under_way:
                under_way.pop().__exit__(None, None, None)
        if args.check:
            if not target.exists():
                return [Finding("unobserved_error", "nothing was observed yet; run `make observe`", str(target))]
            return compare(target, fresh, str(target))
        write_observations(fresh, target)
        if args.format == "human":
            print(f"wrote {target}: {len(fresh['errors'])} entries observed through LiteLLM {fresh['litellm']}")
        return []

    _run_gate(report, run)
    return report


@dataclass
class _Explained(Report):
    """A report that also carries the explanation, for --format json."""

    explanation: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The report with the explanation in it."""
        return {**super().to_json(), "explanation": self.explanation}


@command(
    "explain",
    "say what an error someone saw means and what to do about it",
    "Paste what you saw: the proxy's JSON error, a LiteLLM log line or the chat UI's message, in either "
    "language, as arguments or on standard input. Prints the matching entry of the error catalog (provider, "
    "what it means, what to check, the fix, the page and its anchor), or says that nothing matched and which "
    "details to send to the tech lead (exit 1). Keys in the text are never printed.",
    arg("text", nargs="*", metavar="TEXT", help="the error as seen (default: read standard input)"),
    DATA,
    arg("--lang", choices=("zh", "en"), help="the language of the answer (default: the language of the text)"),
    SITE_URL,
)
def _explain(args: argparse.Namespace) -> Report:
    from runbooks.explain import explain, explanation_json, render_explanation

    report = _Explained()
    dataset = _load_into(report, args.data)
    if dataset is None:
        return report
    text = " ".join(args.text) if args.text else sys.stdin.read()
    found = explain(text, dataset)
    lang = args.lang or found.lang
    if args.format == "human":
        print(render_explanation(found, dataset, lang, args.site_url))
    report.explanation = explanation_json(found, dataset, lang, args.site_url)
    if not found.matches:
        report.add([Finding("no_match", "no entry of the error catalog matches this text", "explain")])
    return report


# -------------------------------------------------------------------------------------------------
# Helpers
# -------------------------------------------------------------------------------------------------


def site_gates(
    audience: str,
    dataset: Dataset | None,
    *,
    env_file: Path | None = None,
    site_url: str,
    memory: Derived | None = None,
) -> list[Gate]:
    """The gates a built site of `audience` must pass: secrets and links, and for the public one no internal fact.

    `dataset` is the data the site was built from; only the public site's gate needs it. What the gates
    need before seeing the site (their modules, the memory of check-links) is read here, so that making
    them while the site builds takes that time off the gates. `memory` is that of check-links when
    several sites' gates share one (read here if not given).
    """
    if audience == "public" and dataset is None:
        raise ValueError("check-public needs the data the public site was built from")
    from runbooks.checks.links import links_memory
    from runbooks.checks.public import check_public
    from runbooks.checks.secrets import scan_secrets

    memory = memory if memory is not None else links_memory()

    # Named after their commands: the progress lines of `build` and `check` show these names.
    def scan_secrets_gate(site: Path) -> list[Finding]:
        return scan_secrets(site, env_file, display_root=site.parent)

    def check_links_gate(site: Path) -> list[Finding]:
        return check_links(site, site_url=site_url, display_root=site.parent, memory=memory)

    def check_public_gate(site: Path) -> list[Finding]:
        assert dataset is not None
        return check_public(site, dataset, display_root=site.parent)

    return [scan_secrets_gate, check_links_gate, *([check_public_gate] if audience == "public" else [])]


def gate_name(gate: Gate) -> str:
    """The command a site gate is: `scan_secrets_gate` → `scan-secrets`."""
    return getattr(gate, "__name__", "gate").removesuffix("_gate").replace("_", "-")


def _waited(build: SiteBuild) -> list[Finding]:
    """A running build's failure, as a gate's findings."""
    failed = build.wait()
    return [failed] if failed else []


def _load_into(report: Report, data_dir: Path, *, prices: bool = True, observations: bool = True) -> Dataset | None:
    """Load the data; on failure, record each problem in `report` and return None."""
    from runbooks.loader import load

    try:
        return load(data_dir, display_root=Path.cwd(), prices=prices, observations=observations)
    except FindingsError as exc:
        report.unreadable = isinstance(exc, Unreadable)
        report.add(exc.findings)
        return None


def _site_of(dataset: Dataset | None, audience: str) -> Site | None:
    """The site of `dataset` for `audience`, or None where there is none (the build then says why)."""
    from runbooks.site import Site
    from runbooks.visibility import WithheldError

    if dataset is None:
        return None
    try:
        return Site.for_audience(dataset, audience)
    except WithheldError:
        return None


def _run_gate(report: Report, gate: Callable[[], list[Finding]], step: tuple[Progress, str] | None = None) -> None:
    """Add what `gate` finds to `report`; with `step`, show it as one line of the command's progress."""
    if step is not None:
        progress, name = step
        found, unreadable = len(report.findings), report.unreadable
        with progress.step(name) as shown:
            _run_gate(report, gate)
            failed = len(report.findings) > found
            shown.verdict = "error" if report.unreadable and not unreadable else "fail" if failed else "pass"
        return
    try:
        report.add(gate())
    except Unreadable as exc:
        report.unreadable = True
        report.add(exc.findings)


def _print(report: Report, fmt: str, name: str) -> None:
    if fmt == "json":
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    for finding in report.findings + report.warnings:
        print(finding, file=sys.stderr if finding.severity == "error" else sys.stdout)
    counts = f"{len(report.findings)} finding(s), {len(report.warnings)} warning(s)"
    print(f"{name}: {report.verdict} ({counts})")


def _parser(prog: str = "python -m runbooks") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Verified runbooks for the team's AI API providers: "
        "validate the data and check the docs, the proxy config and the built site against each other.",
        epilog=EXIT_CODES,
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    for name, summary, details, args, run in _COMMANDS:
        sub = commands.add_parser(name, help=summary, description=f"{summary}. {details}", epilog=EXIT_CODES)
        sub.add_argument("--format", choices=("human", "json"), default="human", help="output format (default: human)")
        for argument in args:
            sub.add_argument(*argument.flags, **argument.options)
        sub.set_defaults(run=run)
    return parser

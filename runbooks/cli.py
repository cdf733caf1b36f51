"""The `python -m runbooks` command line: parses arguments, runs a gate, prints its report, and exits."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from runbooks.checks import Finding, Report, Unreadable
from runbooks.checks.freshness import DEFAULT_MAX_AGE_DAYS, check_freshness
from runbooks.checks.links import check_links
from runbooks.loader import DataError, Dataset, load
from runbooks.publish import build_site, publish
from runbooks.visibility import AUDIENCES

EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE = 0, 1, 2
EXIT_CODES = "Exit codes: 0 clean (warnings allowed), 1 findings, 2 input that could not be read."
DEFAULT_SITE_URL = "http://127.0.0.1:8000/"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named in `argv` and return its exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_UNREADABLE
    report = args.run(args)
    _print(report, args.format, args.command)
    if report.verdict == "error":
        return EXIT_UNREADABLE
    return EXIT_FINDINGS if report.verdict == "fail" else EXIT_OK


# -------------------------------------------------------------------------------------------------
# Commands
# -------------------------------------------------------------------------------------------------


def _validate(args: argparse.Namespace) -> Report:
    report = Report()
    _load_into(report, args.data)
    return report


def _check_config(args: argparse.Namespace) -> Report:
    from runbooks.checks.config import check_config

    report = Report()
    dataset = _load_into(report, args.providers.parent)
    if dataset is not None:
        _run_gate(report, lambda: check_config(args.config, dataset, display_root=Path.cwd()))
    return report


def _scan_secrets(args: argparse.Namespace) -> Report:
    from runbooks.checks.secrets import scan_secrets

    report = Report()
    _run_gate(report, lambda: scan_secrets(args.dir, args.env_file, display_root=Path.cwd()))
    return report


def _check_links(args: argparse.Namespace) -> Report:
    report = Report()
    _run_gate(
        report, lambda: check_links(args.dir, site_url=args.site_url, external=args.external, display_root=Path.cwd())
    )
    return report


def _check_public(args: argparse.Namespace) -> Report:
    from runbooks.checks.public import check_public

    report = Report()
    dataset = _load_into(report, args.data)
    if dataset is not None:
        _run_gate(report, lambda: check_public(args.dir, dataset, display_root=Path.cwd()))
    return report


def _check_freshness(args: argparse.Namespace) -> Report:
    report = Report()
    dataset = _load_into(report, args.data)
    if dataset is not None:
        report.add(check_freshness(dataset, max_age_days=args.max_age_days, strict=args.strict_freshness))
    return report


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


def _lint_cost(args: argparse.Namespace) -> Report:
    from runbooks.checks.cost import lint_cost

    report = Report()
    dataset = _load_into(report, args.data)
    if dataset is not None:
        _run_gate(report, lambda: lint_cost(args.config, dataset, strict=args.strict, display_root=Path.cwd()))
    return report


def _check(args: argparse.Namespace) -> Report:
    """Every gate on the repository, in the order a change would break them."""
    from runbooks.checks.config import check_config
    from runbooks.checks.cost import lint_cost

    report = Report()
    dataset = _load_into(report, args.data)
    if dataset is None:
        return report
    config = args.config or args.data / "litellm" / "config.yaml"
    _run_gate(report, lambda: check_config(config, dataset, display_root=Path.cwd()))
    _run_gate(report, lambda: lint_cost(config, dataset, display_root=Path.cwd()))
    report.add(check_freshness(dataset, max_age_days=args.max_age_days, strict=args.strict_freshness))
    with tempfile.TemporaryDirectory(prefix="runbooks-check-") as tmp:
        for audience in AUDIENCES:
            site = Path(tmp) / f"site-{audience}"
            built = build_site(site, args.data, site_url=args.site_url, audience=audience)
            if built:
                report.add([built])
                continue
            for gate in _site_gates(args, audience, dataset):
                _run_gate(report, functools.partial(gate, site))
    return report


def _site_gates(args: argparse.Namespace, audience: str, dataset: Dataset) -> list[Callable[[Path], list[Finding]]]:
    """The gates a built site of `audience` must pass: secrets and links, and for the public one no internal fact."""
    from runbooks.checks.public import check_public
    from runbooks.checks.secrets import scan_secrets

    gates = [
        lambda site: scan_secrets(site, args.env_file, display_root=site.parent),
        lambda site: check_links(site, site_url=args.site_url, display_root=site.parent),
    ]
    if audience == "public":
        gates.append(lambda site: check_public(site, dataset, display_root=site.parent))
    return gates


def _build(args: argparse.Namespace) -> Report:
    """Build into a temporary directory, gate it, and replace the site directory only on success."""

    def build(site: Path) -> Finding | None:
        return build_site(site, args.data, site_url=args.site_url, audience=args.audience)

    report = Report()
    dataset = _load_into(report, args.data)
    if dataset is not None:
        gates = _site_gates(args, args.audience, dataset)
        _run_gate(report, lambda: publish(args.site_dir, build, gates))
    if report.verdict != "pass":
        kept = f"{args.site_dir} was left as it was" if args.site_dir.exists() else f"{args.site_dir} was not created"
        report.add([Finding("not_published", kept, str(args.site_dir), severity="warning")])
    return report


# -------------------------------------------------------------------------------------------------
# Helpers
# -------------------------------------------------------------------------------------------------


def _load_into(report: Report, data_dir: Path, *, prices: bool = True) -> Dataset | None:
    """Load the data; on failure, record each problem in `report` and return None."""
    try:
        return load(data_dir, display_root=Path.cwd(), prices=prices)
    except DataError as exc:
        report.unreadable = exc.unreadable
        report.add(
            [Finding(p.reason, f"{p.path}: {p.message}" if p.path else p.message, p.file, p.line) for p in exc.problems]
        )
        return None


def _run_gate(report: Report, gate: Callable[[], list[Finding]]) -> None:
    try:
        report.add(gate())
    except Unreadable as exc:
        report.unreadable = True
        report.add(exc.findings)


def _days(text: str) -> int:
    days = int(text)
    if days < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return days


def _print(report: Report, fmt: str, command: str) -> None:
    if fmt == "json":
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    for finding in report.findings + report.warnings:
        print(finding, file=sys.stderr if finding.severity == "error" else sys.stdout)
    counts = f"{len(report.findings)} finding(s), {len(report.warnings)} warning(s)"
    print(f"{command}: {report.verdict} ({counts})")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m runbooks",
        description="Verified runbooks for the team's AI API providers: "
        "validate the data and check the docs, the proxy config and the built site against each other.",
        epilog=EXIT_CODES,
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")

    def command(
        name: str, run: Callable[[argparse.Namespace], Report], summary: str, details: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=summary, description=f"{summary}. {details}", epilog=EXIT_CODES)
        sub.add_argument("--format", choices=("human", "json"), default="human", help="output format (default: human)")
        sub.set_defaults(run=run)
        return sub

    data_dir = {"type": Path, "default": Path("data"), "metavar": "DIR", "help": "data directory (default: data)"}
    site_url = {
        "default": os.environ.get("SITE_URL", DEFAULT_SITE_URL),
        "metavar": "URL",
        "help": "the URL the site is built for; its path is the site root (default: $SITE_URL or the local preview)",
    }
    freshness = [
        (
            ("--max-age-days",),
            {
                "type": _days,
                "default": DEFAULT_MAX_AGE_DAYS,
                "metavar": "N",
                "help": f"verified_on older than N days is stale (default: {DEFAULT_MAX_AGE_DAYS})",
            },
        ),
        (("--strict-freshness",), {"action": "store_true", "help": "make stale facts a failure instead of a warning"}),
    ]

    sub = command(
        "validate",
        _validate,
        "check data/*.yaml against the schema",
        "Every problem is printed as file:line: reason: path: message, all at once.",
    )
    sub.add_argument("--data", **data_dir)

    sub = command(
        "check-config",
        _check_config,
        "check a LiteLLM proxy config against the documented providers",
        "Every deployment must route to a documented provider and model, read its key from the "
        "documented environment variable, and hold no literal secret. Run it on the server before "
        "restarting the proxy: python -m runbooks check-config /root/litellm/config.yaml",
    )
    sub.add_argument("config", type=Path, metavar="CONFIG", help="the proxy's config.yaml")
    sub.add_argument(
        "--providers",
        type=Path,
        default=Path("data/providers.yaml"),
        metavar="PATH",
        help="the documented providers (default: data/providers.yaml; team.yaml is read beside it)",
    )

    sub = command(
        "lint-cost",
        _lint_cost,
        "warn about cost risks in a LiteLLM proxy config",
        "Warns when a deployment of an expensive tier (expensive: true in data/team.yaml) has no rpm or tpm, "
        "when rpm/tpm are not enforced by the routing strategy, when the config sets no budget at all, when "
        "expensive models are open to every key created without a models list, and when num_retries is missing "
        "or high. Warnings exit 0 unless --strict: python -m runbooks lint-cost /root/litellm/config.yaml",
    )
    sub.add_argument("config", type=Path, metavar="CONFIG", help="the proxy's config.yaml")
    sub.add_argument("--data", **data_dir)
    sub.add_argument("--strict", action="store_true", help="make every cost risk a failure (exit 1)")

    sub = command(
        "sync-prices",
        _sync_prices,
        "copy the documented models' prices from LiteLLM's price map into data/prices.yaml",
        "Reads model_prices_and_context_window_backup.json from the installed litellm package (make sync-prices "
        "installs the pinned version into .venv-litellm and runs this there) and writes the snapshot the site "
        "is built from, with the package version and today's date. A documented model the map does not have is "
        "reported and written as not priced, never guessed. Without litellm it exits 2 and says how to install it.",
    )
    sub.add_argument("--data", **data_dir)
    sub.add_argument(
        "--check",
        action="store_true",
        help="write nothing; fail if data/prices.yaml differs from the installed LiteLLM's prices",
    )

    sub = command(
        "scan-secrets",
        _scan_secrets,
        "scan a built site for API keys and other secrets",
        "Looks for the key shapes of every documented provider, LiteLLM keys, bearer tokens, JWTs and "
        "private keys, also HTML-escaped or inside JSON. Values are never printed.",
    )
    sub.add_argument("dir", type=Path, metavar="DIR", help="the built site, e.g. site")
    sub.add_argument(
        "--env-file",
        type=Path,
        metavar="PATH",
        help="also fail on any exact value of this dotenv file, e.g. the server's api_keys.env",
    )

    sub = command(
        "check-links",
        _check_links,
        "check every link and anchor of a built site",
        "Internal links and anchors are checked offline, each distinct link once.",
    )
    sub.add_argument("dir", type=Path, metavar="DIR", help="the built site, e.g. site")
    sub.add_argument("--site-url", **site_url)
    sub.add_argument(
        "--external", action="store_true", help="also check external links with LinkChecker (needs internet access)"
    )

    sub = command(
        "check-public",
        _check_public,
        "check that a public build holds no internal fact",
        "Every value the data marks internal (the shared account, server paths, ops steps, roles, and "
        "whatever carries visibility: internal) is looked for in every file of DIR: HTML, search index, "
        "sitemap, llms.txt, JSON exports and .md mirrors, with escapes undone.",
    )
    sub.add_argument("dir", type=Path, metavar="DIR", help="the public build, e.g. site-public")
    sub.add_argument("--data", **data_dir)

    sub = command(
        "check-freshness",
        _check_freshness,
        "flag provider facts that nobody has verified recently",
        "Compares each verified_on date with today.",
    )
    sub.add_argument("--data", **data_dir)
    for flags, options in freshness:
        sub.add_argument(*flags, **options)

    sub = command(
        "build",
        _build,
        "build the site and publish it only if every gate passes",
        "Builds both languages into a temporary directory beside the site directory, runs scan-secrets "
        "and check-links on the result, and only then replaces the site directory. On any failure the "
        "previous site is left untouched.",
    )
    sub.add_argument("--data", **data_dir)
    sub.add_argument(
        "--audience",
        choices=AUDIENCES,
        default="internal",
        help="internal: every fact, for the team, marked noindex; public: only public facts, checked by "
        "check-public (default: internal)",
    )
    sub.add_argument(
        "--site-dir", type=Path, default=Path("site"), metavar="DIR", help="where to publish (default: site)"
    )
    sub.add_argument("--env-file", type=Path, metavar="PATH", help="as for scan-secrets")
    sub.add_argument("--site-url", **site_url)

    sub = command(
        "check",
        _check,
        "run every gate on the repository",
        "validate, check-config, lint-cost, payment links and freshness, then a strict build of each "
        "audience into a temporary directory with scan-secrets and check-links on what was built, and "
        "check-public on the public build.",
    )
    sub.add_argument("--data", **data_dir)
    sub.add_argument(
        "--config",
        type=Path,
        metavar="CONFIG",
        help="the LiteLLM config to check (default: litellm/config.yaml in the data directory)",
    )
    sub.add_argument("--env-file", type=Path, metavar="PATH", help="as for scan-secrets")
    sub.add_argument("--site-url", **site_url)
    for flags, options in freshness:
        sub.add_argument(*flags, **options)
    return parser

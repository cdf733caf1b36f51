"""The `python -m runbooks` command line: parses arguments, runs a command, prints, and exits."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from runbooks.loader import DataError, load

EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named in `argv` and return its exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_UNREADABLE
    return args.run(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m runbooks",
        description="Verified runbooks for the team's AI API providers: "
        "validate the data and check it against reality.",
        epilog="Exit codes: 0 clean, 1 findings, 2 input that could not be read.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    validate = commands.add_parser(
        "validate",
        help="check data/*.yaml against the schema",
        description="Load every data file, validate it against the schema and the cross-field rules, "
        "and print each problem as file:line: path: message.",
        epilog="Exit codes: 0 the data is valid, 1 it breaks the schema, 2 a file is missing or is not valid YAML.",
    )
    validate.add_argument(
        "--data", type=Path, default=Path("data"), metavar="DIR", help="data directory (default: data)"
    )
    validate.set_defaults(run=_validate)
    return parser


def _validate(args: argparse.Namespace) -> int:
    try:
        dataset = load(args.data)
    except DataError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_UNREADABLE if exc.unreadable else EXIT_FINDINGS
    providers = dataset.providers.providers
    models = sum(len(p.models) for p in providers.values())
    print(f"{args.data}: valid ({len(providers)} providers, {models} models)")
    return EXIT_OK

"""Which site generator builds the site, MkDocs 1.x or ProperDocs, and the command that runs it in a child process.

MkDocs 1.6.1 is the pinned default (requirements.txt). ProperDocs is the continuation of MkDocs 1.x by
its former maintainers and builds the same mkdocs.yml with the same theme and hook; in an environment
without the `mkdocs` package (requirements-properdocs.txt, `make test ENGINE=properdocs`), ProperDocs'
command line makes the hook's and the theme's `mkdocs.*` imports resolve to `properdocs.*`
(properdocs/replacement.py). That works only inside the ProperDocs process, so every child build must be
started as `python -m properdocs`, never `python -m mkdocs`: `command` gives the right prefix.

The engine is `$RUNBOOKS_ENGINE` when set; else the one already running this process (a child build
started by the hook uses its parent's engine); else the one installed, MkDocs first. Every caller passes
the config file explicitly (`--config-file mkdocs.yml`): ProperDocs looks for properdocs.yml first and
warns when it falls back to mkdocs.yml.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path

from runbooks.findings import Finding, Unreadable

ENV_VAR = "RUNBOOKS_ENGINE"
"""The environment variable that chooses the engine."""

ENGINES = ("mkdocs", "properdocs")
"""The engines that build this site, in the order they are preferred when both are installed."""

DEFAULT = ENGINES[0]

CONFIG_OPTION = "--config-file"
"""How both engines are told the config file (short form `-f`); always given, see the module's docstring."""


def name() -> str:
    """The engine that builds the site: `mkdocs` or `properdocs` (see the module's docstring).

    Raises Unreadable when RUNBOOKS_ENGINE names neither. When neither is installed it is `mkdocs`, and
    the build says that the module is missing.
    """
    chosen = os.environ.get(ENV_VAR, "").strip().lower()
    if chosen:
        if chosen not in ENGINES:
            message = f"{ENV_VAR}={chosen!r} is not an engine this site builds with; use one of {', '.join(ENGINES)}"
            raise Unreadable([Finding("unknown_engine", message, ENV_VAR)])
        return chosen
    return running() or next((engine for engine in ENGINES if installed(engine)), DEFAULT)


def running() -> str | None:
    """The engine whose command line runs this process, if any (ProperDocs registers itself as `mkdocs` too)."""
    module = sys.modules.get("mkdocs")
    if module is not None:
        return "properdocs" if module.__name__ == "properdocs" else "mkdocs"
    return "properdocs" if "properdocs.replacement" in sys.modules else None


def installed(engine: str) -> bool:
    """Whether the distribution of `engine` is installed in this Python (without importing it)."""
    try:
        metadata.distribution(engine)
    except metadata.PackageNotFoundError:
        return False
    return True


def command(*args: str) -> list[str]:
    """The command line that runs the engine with `args` in this Python: `[python, "-m", engine, *args]`.

    When RUNBOOKS_ENGINE names no engine, it is a command that prints why and fails, so every caller
    reports it as the failed build it is, without a traceback.
    """
    try:
        return [sys.executable, "-m", name(), *args]
    except Unreadable as refused:
        return [sys.executable, "-c", f"import sys; sys.exit({refused.findings[0].message!r})"]


def config_args(config_file: Path | str) -> list[str]:
    """The arguments that name the config file, as every build passes them."""
    return [CONFIG_OPTION, str(config_file)]


def alias_mkdocs_imports() -> str:
    """Make `mkdocs.*` imports in this process reach the chosen engine, as its command line would; return its name.

    For code that builds in its own process instead of in a child (tests, benchmarks): with ProperDocs,
    this does what `properdocs build` does first (imports properdocs/replacement.py); with MkDocs, nothing.
    """
    chosen = name()
    if chosen == "properdocs":
        import properdocs.replacement  # noqa: F401
    return chosen

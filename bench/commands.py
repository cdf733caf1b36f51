"""The command lines the benchmark measures, with the environment and directory each runs in."""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from runbooks.audience import DEFAULT_SITE_URL

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass(frozen=True)
class Command:
    """One command line to run in a child process, from `cwd`, with `env` as its whole environment."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=lambda: _make_env())
    cwd: Path = ROOT

    def shown(self) -> str:
        """The command line as a reader would type it from the repository root."""
        words = ["python" if word == PYTHON else word.replace(f"{ROOT}/", "") for word in self.argv]
        return shlex.join(words)


def _make_env(**extra: str) -> dict[str, str]:
    # What the Makefile exports to every recipe.
    return {**os.environ, "NO_MKDOCS_2_WARNING": "1", **extra}


def _build_env(data_dir: Path) -> dict[str, str]:
    # SITE_URL pinned so that a SITE_URL in the caller's environment cannot change what is built.
    return _make_env(RUNBOOKS_DATA=str(data_dir), SITE_URL=DEFAULT_SITE_URL)


def gated_build(data_dir: Path, site_dir: Path) -> Command:
    """`make site` on `data_dir`: both languages through MkDocs, scan-secrets, check-links, then the swap."""
    return Command(
        [PYTHON, "-m", "runbooks", "build", "--audience", "internal", "--data", str(data_dir),
         "--site-dir", str(site_dir), "--site-url", DEFAULT_SITE_URL],
        _build_env(data_dir),
    )  # fmt: skip


def plain_build(spec: Path, data_dir: Path) -> Command:
    """The baseline: plain MkDocs building the pages of `data_dir` that `plain.prepare` rendered for `spec`."""
    return Command([PYTHON, str(ROOT / "bench" / "plain.py"), str(spec)], _build_env(data_dir))


def check(data_dir: Path) -> Command:
    """`make check` on `data_dir`; its proxy config defaults to `data_dir`/litellm/config.yaml."""
    return Command([PYTHON, "-m", "runbooks", "check", "--data", str(data_dir)])


def pytest() -> Command:
    """The pytest phase of `make test`, without the cache so that a run leaves nothing behind."""
    return Command([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"])


def mkdocs_build(data_dir: Path, site_dir: Path) -> Command:
    """The MkDocs step inside the gated build, as `runbooks.publish.start_build` starts it."""
    env = {**_build_env(data_dir), "RUNBOOKS_AUDIENCE": "internal"}
    return Command(
        [PYTHON, "-m", "mkdocs", "build", "--strict", "--quiet", "--config-file", "mkdocs.yml",
         "--site-dir", str(site_dir)],
        env,
    )  # fmt: skip


def serve(data_dir: Path, port: int) -> Command:
    """`make serve` on `data_dir` at `port`, also watching the data directory."""
    return Command(
        [PYTHON, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{port}", "--watch", str(data_dir),
         "--config-file", str(ROOT / "mkdocs.yml")],
        _build_env(data_dir),
    )  # fmt: skip

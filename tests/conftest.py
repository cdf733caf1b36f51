"""Shared fixtures: a factory of small valid data sets, the real data, and the real site built once."""

from __future__ import annotations

import copy
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runbooks import engine
from runbooks.loader import Dataset, load

from .factory import valid_data, write_data

ROOT = Path(__file__).resolve().parent.parent

# Under ProperDocs (make test ENGINE=properdocs), `mkdocs.*` imports in this process reach it, as its command line does.
engine.alias_mkdocs_imports()


@pytest.fixture
def data_factory(tmp_path: Path) -> Callable[..., Path]:
    """Write a copy of the valid data set, changed by `mutate`, and return its data directory."""

    def make(mutate: Callable[[dict[str, Any]], None] | None = None) -> Path:
        data = copy.deepcopy(valid_data())
        if mutate:
            mutate(data)
        return write_data(tmp_path, data)

    return make


SITE_URL = "http://127.0.0.1:8000/"
"""The URL the session's site is built for."""


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    """The project's real data."""
    return load(ROOT / "data")


@pytest.fixture(scope="session")
def public_dataset(dataset: Dataset) -> Dataset:
    """The real data as the public site sees it."""
    from runbooks.visibility import public_view

    return public_view(dataset)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The team's site from the real data, built once (Chinese at the root, English under en/)."""
    return build_real_site(tmp_path_factory.mktemp("site"), "internal")


@pytest.fixture(scope="session")
def public_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The public site from the real data, built once."""
    return build_real_site(tmp_path_factory.mktemp("site-public"), "public")


def build_real_site(out: Path, audience: str) -> Path:
    """Build the real data for `audience` into `out` with `mkdocs build --strict`."""
    result = mkdocs_build(ROOT / "data", out, audience)
    assert result.returncode == 0, f"mkdocs build failed:\n{result.stdout}\n{result.stderr}"
    return out


def mkdocs_build(data_dir: Path, site_dir: Path, audience: str = "internal") -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` of the data in `data_dir` for `audience`, as the session's site is built."""
    env = {
        **os.environ,
        "RUNBOOKS_DATA": str(data_dir),
        "RUNBOOKS_AUDIENCE": audience,
        "SITE_URL": SITE_URL,
        "NO_MKDOCS_2_WARNING": "1",
    }
    return subprocess.run(
        engine.command("build", "--strict", *engine.config_args(ROOT / "mkdocs.yml"), "--site-dir", str(site_dir)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )

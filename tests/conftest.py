"""Shared fixtures: a factory of small valid data sets, the real data, and the real site built once per run."""

from __future__ import annotations

import copy
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
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


def pytest_configure(config: pytest.Config) -> None:
    """Let Ctrl-C reach the commands the tests start, and give the gates a memory of this run's own.

    A run started in the background (a shell's `&`) ignores SIGINT, and every process it starts would
    inherit that: the tests stop `mkdocs serve` with SIGINT, as Ctrl-C does, so it must not be ignored.
    The memory of the gates and the build (runbooks/memory.py) is this run's: the tests neither read what the user's
    builds left in ~/.cache/runbooks nor add their temporary sites to it. pytest-xdist's workers start
    after this and inherit the variable.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    cache = tempfile.mkdtemp(prefix="runbooks-test-cache-")
    os.environ["RUNBOOKS_CACHE_DIR"] = cache
    config.add_cleanup(lambda: shutil.rmtree(cache, ignore_errors=True))


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
    return once(tmp_path_factory, "site", lambda out: build_real_site(out, "internal"))


@pytest.fixture(scope="session")
def public_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The public site from the real data, built once."""
    return once(tmp_path_factory, "site-public", lambda out: build_real_site(out, "public"))


def once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], object]) -> Path:
    """A directory `make` fills once per test run, however many processes run the tests (pytest-xdist).

    The first process to ask makes it while holding a lock; the others wait for the lock and use what it made.
    A failed `make` leaves nothing behind, so the next process to ask tries again and reports its own failure.
    """
    base = tmp_path_factory.getbasetemp()
    # Each pytest-xdist worker has a base directory of its own inside the run's.
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out, done = root / name, root / f"{name}.done"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            try:
                make(out)
            except BaseException:
                shutil.rmtree(out, ignore_errors=True)
                raise
            done.touch()
    return out


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

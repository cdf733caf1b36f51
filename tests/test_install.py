"""The installable package: `pip install .` gives a `runbooks` command that works outside the checkout."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import venv

import pytest

from .conftest import ROOT


def _pins(path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s;]+)", line.strip())
        if match:
            pins[match[1].lower().replace("_", "-")] = match[2]
    return pins


def test_the_package_declares_the_versions_requirements_txt_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pinned = _pins(ROOT / "requirements.txt")
    declared = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    for requirement in declared:
        name, version = requirement.split("==")
        assert pinned[name.lower().replace("_", "-")] == version, requirement


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh virtual environment with the package installed from the checkout, as `pip install .` does."""
    root = tmp_path_factory.mktemp("install")
    # The checkout is copied, so that nothing the build writes (build/, *.egg-info) lands in the repository.
    source = root / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "site", "site-*", "__pycache__", "tests"))
    env_dir = root / "venv"
    # Without a pip of its own (ensurepip takes seconds): this environment's pip installs into it.
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    # Without compiling every dependency's modules ahead: Python compiles the ones the commands import.
    install = [*pip, "install", "--quiet", "--no-compile", str(source)]
    result = subprocess.run(install, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return env_dir


def test_the_runbooks_command_checks_a_config_from_any_directory(installed, tmp_path):
    work = tmp_path / "elsewhere"
    work.mkdir()
    data = shutil.copytree(ROOT / "data", work / "data-copy")
    command = installed / "bin" / "runbooks"
    result = subprocess.run(
        [
            str(command),
            "check-config",
            str(data / "litellm" / "config.yaml"),
            "--providers",
            str(data / "providers.yaml"),
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check-config: pass" in result.stdout
    # The templates and labels come from the installed package, not from a checkout.
    render = [str(installed / "bin" / "python"), "-c", "import runbooks.labels as l; print(l.TEMPLATES)"]
    where = subprocess.run(render, cwd=work, capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert str(installed) in where and not where.startswith(str(ROOT))
    labels = subprocess.run(
        [
            str(installed / "bin" / "python"),
            "-c",
            "from runbooks.labels import load_labels; print(len(load_labels().root))",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert labels.returncode == 0 and int(labels.stdout) > 50, labels.stderr


def test_the_command_says_its_own_name_and_refuses_bad_input_without_a_traceback(installed, tmp_path):
    command = str(installed / "bin" / "runbooks")
    usage = subprocess.run([command, "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert usage.returncode == 0 and usage.stdout.startswith("usage: runbooks ")
    missing = subprocess.run(
        [command, "validate", "--data", str(tmp_path / "nowhere")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 2 and "file not found" in missing.stderr
    assert "Traceback" not in missing.stderr

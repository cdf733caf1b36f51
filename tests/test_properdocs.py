"""The site's engines (MkDocs, ProperDocs without mkdocs) and the workflows that test and publish the site."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from ruamel.yaml import YAML

from runbooks import engine, languages
from runbooks.findings import Unreadable
from runbooks.publish import start_build

from .cli import run_cli
from .conftest import ROOT

# --- Which engine, and the command that runs it ------------------------------------------------------


@pytest.fixture
def no_engine_running(monkeypatch):
    monkeypatch.delenv(engine.ENV_VAR, raising=False)
    for name in ("mkdocs", "properdocs", "properdocs.replacement"):
        monkeypatch.delitem(sys.modules, name, raising=False)


@pytest.mark.parametrize(
    ("value", "chosen"), [("mkdocs", "mkdocs"), ("properdocs", "properdocs"), (" ProperDocs ", "properdocs")]
)
def test_the_environment_variable_chooses_the_engine(monkeypatch, value, chosen):
    monkeypatch.setenv(engine.ENV_VAR, value)
    assert engine.name() == chosen
    assert engine.command("build", "--strict") == [sys.executable, "-m", chosen, "build", "--strict"]


def test_an_unknown_engine_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv(engine.ENV_VAR, "mkdocs2")
    with pytest.raises(Unreadable) as refused:
        engine.name()
    (finding,) = refused.value.findings
    assert finding.reason == "unknown_engine" and finding.file == engine.ENV_VAR
    assert "'mkdocs2'" in finding.message and "mkdocs, properdocs" in finding.message


def test_a_build_with_an_unknown_engine_fails_saying_why(monkeypatch, tmp_path):
    monkeypatch.setenv(engine.ENV_VAR, "mkdocs2")
    failed = start_build(tmp_path / "site", ROOT / "data", config_file=ROOT / "mkdocs.yml").wait()
    assert failed is not None and failed.reason == "build_failed"
    assert "RUNBOOKS_ENGINE='mkdocs2' is not an engine" in failed.message and "Traceback" not in failed.message
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize(
    ("installed", "chosen"),
    [({"mkdocs", "properdocs"}, "mkdocs"), ({"properdocs"}, "properdocs"), ({"mkdocs"}, "mkdocs"), (set(), "mkdocs")],
)
def test_without_the_variable_the_installed_engine_is_used_mkdocs_first(
    no_engine_running, monkeypatch, installed, chosen
):
    monkeypatch.setattr(engine, "installed", lambda name: name in installed)
    assert engine.running() is None
    assert engine.name() == chosen


@pytest.mark.parametrize(("module", "chosen"), [("properdocs", "properdocs"), ("mkdocs", "mkdocs")])
def test_a_child_build_uses_the_engine_running_its_parent(no_engine_running, monkeypatch, module, chosen):
    # ProperDocs' command line registers its own package as `mkdocs` (properdocs/replacement.py).
    monkeypatch.setitem(sys.modules, "mkdocs", types.ModuleType(module))
    monkeypatch.setattr(engine, "installed", lambda name: name == "mkdocs")
    assert engine.name() == chosen


def test_installed_reads_the_distributions_without_importing():
    assert engine.installed("pydantic")
    assert not engine.installed("no-such-engine")
    assert engine.config_args(Path("mkdocs.en.yml")) == ["--config-file", "mkdocs.en.yml"]


FAKE_ENGINE = """\
import json, os, sys
with open(os.environ["FAKE_ENGINE_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
sys.exit(3)
"""


@pytest.fixture
def fake_engine(tmp_path, monkeypatch):
    """An engine `fake_engine` that records its arguments and fails, in place of MkDocs or ProperDocs."""
    package = tmp_path / "path" / "fake_engine"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "__main__.py").write_text(FAKE_ENGINE, encoding="utf-8")
    log = tmp_path / "engine.log"
    monkeypatch.setenv("PYTHONPATH", str(package.parent))
    monkeypatch.setenv("FAKE_ENGINE_LOG", str(log))
    monkeypatch.setattr(engine, "name", lambda: "fake_engine")
    return log


def test_the_site_build_runs_the_chosen_engine_with_the_config_file(fake_engine, tmp_path):
    failed = start_build(tmp_path / "site", ROOT / "data", config_file=ROOT / "mkdocs.yml").wait()
    assert failed is not None and failed.reason == "build_failed"
    (args,) = [line for line in fake_engine.read_text(encoding="utf-8").splitlines()]
    assert args.startswith('["build", "--strict", "--quiet", "--config-file", ') and "mkdocs.yml" in args


def test_each_other_language_is_built_by_the_chosen_engine(fake_engine, tmp_path):
    build = languages.start(
        "en",
        config_file=ROOT / "mkdocs.en.yml",
        site_dir=tmp_path / "site",
        site_url="http://127.0.0.1:8000/",
        data_dir=ROOT / "data",
        audience="internal",
        strict=True,
    )
    with pytest.raises(languages.LanguageBuildError):
        build.finish(tmp_path / "site")
    (args,) = fake_engine.read_text(encoding="utf-8").splitlines()
    assert args.startswith('["build", "--quiet", "--config-file", ') and "mkdocs.en.yml" in args
    assert '"--strict"' in args


# --- This environment: MkDocs, or ProperDocs alone -----------------------------------------------------


def _pins(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(("#", "-r")):
            package, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", package).lower()] = version
    return pins


ONLY_FOR_MKDOCS = {"mkdocs", "mkdocs-get-deps", "mergedeep"}
"""What requirements.txt pins for MkDocs alone; ProperDocs needs none of it."""


def test_the_properdocs_requirements_pin_the_same_versions_without_mkdocs():
    default = _pins("requirements.txt") | _pins("requirements-dev.txt")
    properdocs = _pins("requirements-properdocs.txt")
    assert properdocs.pop("properdocs") == "1.6.7"
    assert not ONLY_FOR_MKDOCS & properdocs.keys()
    assert properdocs == {name: version for name, version in default.items() if name not in ONLY_FOR_MKDOCS}


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env={**os.environ, **env}, cwd=ROOT
    )


def _aliased() -> list[str]:
    code = (
        "from runbooks import engine\n"
        "print(engine.alias_mkdocs_imports())\n"
        "import mkdocs.config\n"
        "print(mkdocs.config.__name__.split('.')[0])\n"
    )
    ran = _python(code, **{engine.ENV_VAR: ""})
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.split()


def test_this_environment_has_exactly_one_engine_at_its_pinned_version():
    if engine.installed("mkdocs"):  # .venv, from requirements-dev.txt
        assert metadata.version("mkdocs") == _pins("requirements.txt")["mkdocs"]
        assert not engine.installed("properdocs")
        assert _python("import mkdocs.plugins").returncode == 0
        assert _aliased() == ["mkdocs", "mkdocs"]
        return
    # .venv-properdocs, from requirements-properdocs.txt (`make test ENGINE=properdocs`)
    assert metadata.version("properdocs") == _pins("requirements-properdocs.txt")["properdocs"]
    assert metadata.version("mkdocs-material") == _pins("requirements.txt")["mkdocs-material"]
    outside = _python("import mkdocs")
    assert outside.returncode != 0 and "No module named 'mkdocs'" in outside.stderr
    # Inside ProperDocs' command line, the hook's and the theme's `mkdocs.*` imports reach ProperDocs.
    inside = _python("import properdocs.__main__, mkdocs.plugins, material.plugins.search.plugin, hooks.runbook_pages")
    assert inside.returncode == 0, inside.stderr
    assert _aliased() == ["properdocs", "properdocs"]  # tests that build in their own process do the same
    # Everything installed has what it needs, except mkdocs-material's mkdocs, which ProperDocs replaces.
    checked = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False)
    assert checked.stdout.strip().lower() == "mkdocs-material 9.8.1 requires mkdocs, which is not installed."


# --- The Pages workflow ---------------------------------------------------------------------------


def _workflow(name: str) -> dict[str, Any]:
    # YAML 1.2, as GitHub reads it: `on` is a key, not the boolean true.
    return YAML(typ="safe", pure=True).load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))


def _ci_branches() -> list[str]:
    return _workflow("runbooks.yml")["on"]["push"]["branches"]


def test_pages_deploys_from_the_default_branch_only():
    pages = _workflow("pages.yml")
    assert set(pages["on"]) == {"push", "workflow_dispatch"}  # never from a pull request
    assert pages["on"]["push"]["branches"] == _ci_branches() == ["main"]
    assert pages["jobs"]["build"]["if"] == "github.ref_name == github.event.repository.default_branch"
    assert pages["concurrency"] == {"group": "pages", "cancel-in-progress": False}


def test_pages_has_the_permissions_and_environment_deploy_pages_needs():
    pages = _workflow("pages.yml")
    assert pages["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    deploy = pages["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    (step,) = deploy["steps"]
    assert step["uses"].startswith("actions/deploy-pages@")
    assert deploy["environment"] == {"name": "github-pages", "url": f"${{{{ steps.{step['id']}.outputs.page_url }}}}"}


def _step_index(steps: list[dict[str, Any]], **match: str) -> int:
    found = [n for n, step in enumerate(steps) if all(str(step.get(k, "")).startswith(v) for k, v in match.items())]
    assert len(found) == 1, match
    return found[0]


def test_pages_publishes_the_public_site_for_the_pages_url_after_every_gate():
    steps = _workflow("pages.yml")["jobs"]["build"]["steps"]
    checkout = _step_index(steps, uses="actions/checkout@")
    configure = _step_index(steps, uses="actions/configure-pages@")
    check, test, public = (_step_index(steps, run=f"make {target}") for target in ("check", "test", "public"))
    upload = _step_index(steps, uses="actions/upload-pages-artifact@")
    assert checkout < configure < check < test < public < upload
    assert [step["run"] for step in steps if "run" in step] == ["make check", "make test", "make public"]
    site_url = steps[public]["env"]["SITE_URL"]
    assert site_url == f"${{{{ steps.{steps[configure]['id']}.outputs.base_url }}}}/"  # a sub-path, with its slash
    assert steps[upload]["with"]["path"] == "site-public"


def test_ci_also_tests_the_site_built_with_properdocs():
    job = _workflow("runbooks.yml")["jobs"]["properdocs"]
    assert [step["run"] for step in job["steps"] if "run" in step] == [
        "make check ENGINE=properdocs",
        "make test ENGINE=properdocs",
    ]
    assert "make test ENGINE=properdocs" in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_the_public_site_builds_with_this_environments_engine_under_a_pages_sub_path(
    no_engine_running, data_factory, tmp_path
):
    site_url = "https://owner.github.io/repo/"
    ran = run_cli(
        "build", "--audience", "public", "--data", str(data_factory()), "--site-dir", str(tmp_path / "pub"),
        "--site-url", site_url,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr  # check-links resolved every link under /repo/
    built_by = "ProperDocs 1.6.7" if not engine.installed("mkdocs") else f"mkdocs-{metadata.version('mkdocs')}"
    for page, root in (
        (tmp_path / "pub" / "index.html", site_url),
        (tmp_path / "pub" / "en" / "faq" / "index.html", f"{site_url}en/"),
    ):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        assert built_by in soup.find("meta", attrs={"name": "generator"})["content"], page
        assert soup.find("link", rel="canonical")["href"].startswith(root), page
    sitemap = (tmp_path / "pub" / "sitemap.xml").read_text(encoding="utf-8")
    locations = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    assert locations and all(loc.startswith(site_url) for loc in locations)

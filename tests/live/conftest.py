"""Fixtures of the live tests: the pinned LiteLLM proxy answering with mock replies, and a site that points at it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from runbooks.publish import build_site

from ..conftest import ROOT
from .proxy import RunningProxy, litellm_proxy


@pytest.fixture(scope="session")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProxy]:
    """The pinned proxy serving data/litellm/config.yaml with mock replies, stopped at the end of the session."""
    with litellm_proxy(ROOT / "data" / "litellm" / "config.yaml", tmp_path_factory.mktemp("proxy")) as running:
        yield running


@pytest.fixture(scope="session")
def proxy_site(proxy: RunningProxy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built from a copy of data/ whose only change is `server.proxy_url`: the test proxy's address."""
    work = tmp_path_factory.mktemp("proxy-site")
    data_dir = work / "data"
    shutil.copytree(ROOT / "data", data_dir)
    team_file = data_dir / "team.yaml"
    yaml = YAML()
    yaml.width = 4096
    team = yaml.load(team_file.read_text(encoding="utf-8"))
    team["server"]["proxy_url"] = proxy.url
    with team_file.open("w", encoding="utf-8") as out:
        yaml.dump(team, out)
    site_dir = work / "site"
    failed = build_site(site_dir, data_dir, config_file=ROOT / "mkdocs.yml")
    assert failed is None, str(failed)
    return site_dir

"""The after-recharge smoke test, run exactly as the built page shows it, against a real LiteLLM proxy."""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from runbooks.loader import load
from runbooks.schema import LANGUAGES

from ..built_pages import smoke_test_command_on_page
from ..conftest import ROOT
from .proxy import NEEDS_A_SERVICE, RunningProxy, env_references, litellm_proxy, mock_config

DATASET = load(ROOT / "data")
DOCUMENTED_MODELS = [model.name for provider in DATASET.providers.providers.values() for model in provider.models]
COMMAND_LIMIT_S = 120


@dataclass(frozen=True)
class Reply:
    """What running a command printed: the HTTP status curl reported, and the body it wrote to stdout."""

    status: int
    body: str


def run_as_shown(command: str, master_key: str, workdir: Path) -> Reply:
    """Run `command` with bash, with nothing changed but the environment: the master key and curl's config.

    The page's command prints only the response body, so a `.curlrc` in `CURL_HOME` has curl report the HTTP
    status on stderr as well; the command itself is not touched.
    """
    curl_home = workdir / "curl-home"
    curl_home.mkdir(exist_ok=True)
    (curl_home / ".curlrc").write_text('write-out = "%{stderr}%{http_code}"\nmax-time = 60\n', encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(curl_home),
        "CURL_HOME": str(curl_home),
        "NO_PROXY": "127.0.0.1,localhost",
        "LITELLM_MASTER_KEY": master_key,
    }
    result = subprocess.run(
        ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=COMMAND_LIMIT_S, check=False
    )
    assert result.returncode == 0, f"the command failed ({result.returncode}):\n{command}\n{result.stderr}"
    status = re.search(r"(\d{3})$", result.stderr.strip())
    assert status, f"curl reported no HTTP status: {result.stderr!r}"
    return Reply(int(status.group(1)), result.stdout)


def with_model(command: str, model: str) -> str:
    """The page's command with its model swapped for `model`, as the step tells the reader to do."""
    shown = f'"model": "{DATASET.team.server.smoke_test_model}"'
    assert command.count(shown) == 1, f"the command should name the smoke-test model once as {shown}:\n{command}"
    return command.replace(shown, f'"model": "{model}"')


@pytest.fixture(scope="module")
def page_command(proxy_site: Path, dataset) -> str:
    """The smoke-test command of the built after-recharge page (the same in every language)."""
    commands = {lang: smoke_test_command_on_page(proxy_site, dataset, lang) for lang in LANGUAGES}
    assert len(set(commands.values())) == 1, commands
    return commands[LANGUAGES[0]]


def test_the_proxy_under_test_is_the_pinned_release():
    pins = (ROOT / "requirements-litellm.txt").read_text(encoding="utf-8")
    pinned = re.search(r"^litellm==(\S+)$", pins, re.MULTILINE)
    assert pinned, "requirements-litellm.txt pins no litellm version"
    try:
        installed = version("litellm")
    except PackageNotFoundError:
        pytest.fail("litellm is not installed here: run the live tests with `make verify-live`", pytrace=False)
    assert installed == pinned.group(1)


def test_the_mock_config_changes_only_the_replies_and_what_needs_another_service():
    source = ROOT / "data" / "litellm" / "config.yaml"
    original = YAML(typ="safe").load(source.read_text(encoding="utf-8"))
    derived = mock_config(source, "the mock reply")
    assert [d["litellm_params"].pop("mock_response") for d in derived["model_list"]] == ["the mock reply"] * len(
        original["model_list"]
    )
    for setting in NEEDS_A_SERVICE:
        original.get("general_settings", {}).pop(setting, None)
    assert derived == original
    assert "LITELLM_MASTER_KEY" in env_references(derived)
    assert {d["litellm_params"]["api_key"] for d in derived["model_list"]} == {
        f"os.environ/{p.env_var}" for p in DATASET.providers.providers.values()
    }


def test_every_language_shows_the_same_command_for_the_documented_proxy(site, proxy_site, proxy, dataset):
    real = {lang: smoke_test_command_on_page(site, dataset, lang) for lang in LANGUAGES}
    assert len(set(real.values())) == 1, real
    shown = real[LANGUAGES[0]]
    assert shown.startswith(f"curl -sS {dataset.team.server.proxy_url}/v1/chat/completions ")
    assert f"${dataset.team.server.master_key_env}" in shown
    # The page built for the test proxy differs from the real one in the proxy's address and nothing else.
    tested = smoke_test_command_on_page(proxy_site, dataset, LANGUAGES[0])
    assert proxy.url in tested
    assert tested.replace(proxy.url, dataset.team.server.proxy_url) == shown


@pytest.mark.parametrize("model", DOCUMENTED_MODELS)
def test_the_pages_command_gets_a_reply_from_every_documented_model(page_command, proxy, model, tmp_path):
    command = page_command if model == DATASET.team.server.smoke_test_model else with_model(page_command, model)
    reply = run_as_shown(command, proxy.master_key, tmp_path)
    assert reply.status == 200, reply.body
    completion = json.loads(reply.body)
    assert completion["model"] == model
    assert completion["choices"][0]["message"]["content"] == proxy.reply


@pytest.mark.parametrize("key", ["wrong", "empty"])
def test_the_pages_command_is_refused_without_the_master_key(page_command, proxy, key, tmp_path):
    master_key = "sk-" + secrets.token_hex(16) if key == "wrong" else ""
    reply = run_as_shown(page_command, master_key, tmp_path)
    assert reply.status != 200, reply.body
    assert proxy.reply not in reply.body


def test_a_model_the_proxy_does_not_serve_gets_no_reply(page_command, proxy, tmp_path):
    reply = run_as_shown(with_model(page_command, f"undocumented-{secrets.token_hex(4)}"), proxy.master_key, tmp_path)
    assert reply.status != 200
    assert proxy.reply not in reply.body


def test_the_proxy_is_stopped_even_when_the_test_fails(tmp_path):
    config = ROOT / "data" / "litellm" / "config.yaml"
    with pytest.raises(RuntimeError, match="a failing test"), litellm_proxy(config, tmp_path) as running:
        started: RunningProxy = running
        assert started.process.poll() is None
        raise RuntimeError("a failing test")
    assert started.process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(started.process.pid, 0)
    port = int(started.url.rsplit(":", 1)[1])
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("127.0.0.1", port))

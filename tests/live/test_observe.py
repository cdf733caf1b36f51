"""Every documented error observed again through the pinned LiteLLM proxy, compared with data/observations.yaml.

A LiteLLM upgrade that changes what members see, what the log says or how often a provider is asked fails
here, entry by entry; `make observe` then records the new behaviour once the catalog agrees with it.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from runbooks.explain import hide_keys
from runbooks.loader import load
from runbooks.observe import Member, compare, litellm_version, normalize, observe
from runbooks.observe.proxy import observed_config, running_proxy
from runbooks.observe.upstream import FakeUpstream, Reply

from ..conftest import ROOT

CONFIG = ROOT / "data" / "litellm" / "config.yaml"
COMMITTED = ROOT / "data" / "observations.yaml"
DATASET = load(ROOT / "data", observations=False)
KEYS = sorted(YAML(typ="safe").load(COMMITTED.read_text(encoding="utf-8"))["errors"])


@pytest.fixture(scope="module")
def fresh() -> dict[str, Any]:
    """One fresh observation of the whole catalog through the pinned proxy (a few minutes)."""
    return observe(DATASET, CONFIG)


def test_the_observations_were_made_with_the_installed_litellm():
    committed = YAML(typ="safe").load(COMMITTED.read_text(encoding="utf-8"))
    assert committed["litellm"] == litellm_version()


@pytest.mark.parametrize("key", KEYS)
def test_a_fresh_observation_matches_the_committed_one(fresh, key):
    differences = [f for f in compare(COMMITTED, fresh) if f.context.get("entry") == key or f"'{key}'" in f.message]
    assert differences == [], "\n".join(str(f) for f in differences)


def test_nothing_is_observed_that_is_not_committed(fresh):
    assert sorted(fresh["errors"]) == KEYS
    assert compare(COMMITTED, fresh) == []


def test_the_fresh_observation_holds_no_key(fresh):
    text = json.dumps(fresh, default=str, ensure_ascii=False)
    assert hide_keys(text)[1] == 0


# --- The fake provider ---------------------------------------------------------------------------------


def test_the_fake_provider_answers_the_planned_response_and_counts_completions_only():
    with FakeUpstream() as fake:
        fake.answer("zai", Reply(429, b'{"error": {"code": "1113"}}'))
        request = urllib.request.Request(f"{fake.api_base('zai')}/chat/completions", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 429 and json.loads(refused.value.read())["error"]["code"] == "1113"
        with urllib.request.urlopen(f"{fake.api_base('openai')}/models", timeout=5) as listed:
            assert listed.status == 200
        assert fake.hits("zai") == 1 and fake.hits("openai") == 0 and fake.hits() == 1
        fake.reset()
        assert fake.hits() == 0


def test_the_observed_config_changes_only_base_urls_and_what_needs_another_service():
    original = YAML(typ="safe").load(CONFIG.read_text(encoding="utf-8"))
    with FakeUpstream() as fake:
        derived, changed = observed_config(CONFIG, fake)
    for deployment in derived["model_list"]:
        assert deployment["litellm_params"].pop("api_base").startswith(fake.url)
    for deployment in original["model_list"]:
        deployment["litellm_params"].pop("api_base", None)
    for setting in ("database_url", "alerting"):
        original["general_settings"].pop(setting, None)
    assert derived == original
    assert any("database_url" in line for line in changed)


# --- The retries the fix removed, reproduced ------------------------------------------------------------


def _without_the_fix(tmp_path: Path) -> Path:
    yaml = YAML()
    config = yaml.load(CONFIG.read_text(encoding="utf-8"))
    config["router_settings"].pop("retry_policy")
    for deployment in config["model_list"]:
        deployment["litellm_params"].pop("allowed_openai_params", None)
    out = tmp_path / "config-without-the-fix.yaml"
    with out.open("w", encoding="utf-8") as handle:
        yaml.dump(config, handle)
    return out


def test_without_the_retry_policy_billing_errors_are_sent_again_and_again(tmp_path):
    """What the team's config did before: 3 requests for OpenAI's insufficient_quota, 9 for Zhipu's 1113."""
    providers = DATASET.providers.providers
    with FakeUpstream() as fake, running_proxy(_without_the_fix(tmp_path), fake, tmp_path) as proxy:
        member = Member(proxy, DATASET.team, tmp_path)
        counts = {}
        for pid, code in (("openai", "insufficient_quota"), ("zai", "1113")):
            err = next(e for e in providers[pid].errors if e.code == code)
            fake.answer(providers[pid].litellm_prefix, Reply(err.status, err.body.encode("utf-8")))
            fake.reset()
            model = DATASET.team.server.smoke_test_model if pid == "openai" else providers[pid].models[0].name
            saw = member.curl(model, proxy.master_key)
            assert saw["status"] == 429
            counts[pid] = fake.hits(providers[pid].litellm_prefix)
            assert proxy.master_key not in json.dumps(saw)
    assert counts == {"openai": 3, "zai": 9}


def test_every_key_the_proxy_was_given_is_hidden_from_what_is_kept():
    secret = "sk-" + "9" * 32
    kept = normalize(f"Incorrect API key provided: {secret} at 12:00:01 - 127.0.0.1:40123", [secret])
    assert secret not in kept and "<key>" in kept and "127.0.0.1:<port>" in kept


def test_the_proxy_is_stopped_when_the_observation_fails(tmp_path):
    with (
        pytest.raises(RuntimeError, match="a failing observation"),
        FakeUpstream() as fake,
        running_proxy(CONFIG, fake, tmp_path) as proxy,
    ):
        port = int(proxy.url.rsplit(":", 1)[1])
        raise RuntimeError("a failing observation")
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("127.0.0.1", port))

"""The cost-control page: every example is a config check-config accepts or a valid API call, matching the data."""

from __future__ import annotations

import json
import re

import pytest
from ruamel.yaml import YAML

from runbooks.checks.config import check_config
from runbooks.findings import DataError, dotted
from runbooks.loader import load
from runbooks.render import render
from runbooks.schema import LANGUAGES
from runbooks.site import Site

from .conftest import ROOT
from .factory import valid_data, write_data

# The request fields of LiteLLM's management API, as declared in litellm 1.106.2:
# GenerateKeyRequest (litellm/proxy/_types.py: GenerateRequestBase, KeyRequestBase, GenerateKeyRequest) and
# NewTeamRequest (litellm/models/team.py: TeamBase; litellm/proxy/_types.py: NewTeamRequest). Only those the
# page may use are listed; anything else in a body is a typo LiteLLM would ignore.
API_FIELDS = {
    "/key/generate": {
        "key_alias", "team_id", "user_id", "models", "max_budget", "soft_budget", "budget_duration", "rpm_limit",
        "tpm_limit", "metadata", "tags", "duration", "max_parallel_requests", "model_max_budget",
    },
    "/team/new": {
        "team_id", "team_alias", "models", "max_budget", "budget_duration", "rpm_limit", "tpm_limit", "metadata",
        "tags", "members_with_roles", "team_member_budget",
    },
}  # fmt: skip

BLOCK = re.compile(r"^```(\w+)\n(.*?)\n```$", re.M | re.S)
CALL = re.compile(
    r"curl -sS (\S+) \\\n"
    r"  -H \"Authorization: Bearer (\S+)\" \\\n"
    r"  -H \"Content-Type: application/json\" \\\n"
    r"  -d '(.*?)'",
    re.S,
)


def _page(dataset, lang: str) -> str:
    return render(next(p for p in Site.of(dataset).pages if p.kind == "cost-control"), Site.of(dataset), lang)


def _blocks(markdown: str, language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(markdown) if lang == language]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_config_snippet_passes_check_config(dataset, lang, tmp_path):
    snippets = _blocks(_page(dataset, lang), "yaml")
    assert len(snippets) == 5
    for n, snippet in enumerate(snippets):
        config = tmp_path / f"snippet-{n}.yaml"
        config.write_text(snippet + "\n", encoding="utf-8")
        findings = check_config(config, dataset)
        assert [str(f) for f in findings if f.severity == "error"] == [], snippet
        assert {f.reason for f in findings} <= {"unserved_model"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_api_call_uses_litellms_field_names_and_the_data(dataset, lang):
    server = dataset.team.server
    plan = dataset.team.cost_control.proxy
    tiers = {t.id for t in dataset.team.cost_control.tiers}
    calls = [call for body in _blocks(_page(dataset, lang), "bash") for call in CALL.findall(body)]
    routes = []
    for url, token, payload in calls:
        assert url.startswith(server.proxy_url + "/")
        assert token == "$" + server.master_key_env
        route = url.removeprefix(server.proxy_url)
        body = json.loads(payload)
        assert set(body) <= API_FIELDS[route], set(body) - API_FIELDS[route]
        assert set(body["models"]) <= tiers
        routes.append((route, body))
    teams = {b["team_id"]: b for r, b in routes if r == "/team/new"}
    keys = {b["key_alias"]: b for r, b in routes if r == "/key/generate"}
    assert set(teams) == {t.id for t in plan.teams}
    assert set(keys) == {k.alias for k in plan.keys}
    for key in plan.keys:
        body = keys[key.alias]
        assert (body["max_budget"], body["budget_duration"]) == (key.max_budget, key.budget_duration)
        assert (body["rpm_limit"], body["tpm_limit"]) == (key.rpm_limit, key.tpm_limit)
        assert body["team_id"] in teams


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_control_names_its_litellm_feature(dataset, lang):
    markdown = _page(dataset, lang)
    for control in dataset.team.cost_control.controls:
        section = markdown.split(f"{{ #{control.id} }}", 1)[1].split("\n### ", 1)[0]
        assert control.litellm.feature(lang).replace("`", "") in section.replace("`", "")
        assert "```" in section, f"control '{control.id}' shows no example"


def test_the_sample_config_follows_the_plan(dataset):
    """data/litellm/config.yaml is the plan on the page: access groups, tier limits, budget, defaults, retries."""
    config = YAML(typ="safe").load((ROOT / "data" / "litellm" / "config.yaml").read_text(encoding="utf-8"))
    cost = dataset.team.cost_control
    tiers = {t.id: t for t in cost.tiers}
    model_tier = {m.name: m.tier for p in dataset.providers.providers.values() for m in p.models}
    # A deployment of a model group (data/team.yaml model_groups) has its member's tier, found by its route.
    route_tier = {p.route(m): m.tier for p in dataset.providers.providers.values() for m in p.models}
    for entry in config["model_list"]:
        tier = tiers[model_tier.get(entry["model_name"]) or route_tier[entry["litellm_params"]["model"]]]
        assert entry["model_info"]["access_groups"] == [tier.id]
        limits = {k: entry["litellm_params"][k] for k in ("rpm", "tpm") if k in entry["litellm_params"]}
        assert limits == ({"rpm": tier.limits.rpm, "tpm": tier.limits.tpm} if tier.expensive else {})
    settings = config["litellm_settings"]
    assert (settings["max_budget"], settings["budget_duration"]) == (
        cost.proxy.budget.max_budget,
        cost.proxy.budget.budget_duration,
    )
    assert settings["default_key_generate_params"]["models"] == cost.proxy.default_key_tiers
    assert config["router_settings"]["num_retries"] == cost.proxy.num_retries
    assert config["general_settings"]["alert_types"] == cost.proxy.alerting.types


# --- The plan's own rules ---------------------------------------------------------------------------


def _proxy(d):
    return d["team"]["cost_control"]["proxy"]


@pytest.mark.parametrize(
    ("mutate", "path", "message"),
    [
        (
            lambda d: d["team"]["cost_control"]["tiers"][1].pop("limits"),
            "cost_control.tiers[1].expensive",
            "expensive tier 'premium' needs limits",
        ),
        (
            lambda d: _proxy(d)["default_key_tiers"].append("premium"),
            "cost_control.proxy.default_key_tiers[1]",
            "expensive tier",
        ),
        (
            lambda d: _proxy(d)["default_key_tiers"].append("gold"),
            "cost_control.proxy.default_key_tiers[1]",
            "unknown tier 'gold'",
        ),
        (
            lambda d: _proxy(d)["teams"][0]["tiers"].append("gold"),
            "cost_control.proxy.teams[0].tiers[2]",
            "unknown tier 'gold'",
        ),
        (lambda d: _proxy(d)["keys"][0].update(team="staging"), "cost_control.proxy.keys[0].team", "names no team"),
        (lambda d: _proxy(d)["keys"][0].update(owner="intern"), "cost_control.proxy.keys[0].owner", "names no role"),
        (
            lambda d: _proxy(d)["keys"][0].update(soft_budget=30),
            "cost_control.proxy.keys[0].soft_budget",
            "below max_budget",
        ),
        (
            lambda d: _proxy(d)["keys"].append(dict(_proxy(d)["keys"][0])),
            "cost_control.proxy.keys[1].alias",
            "used twice",
        ),
        (
            lambda d: _proxy(d)["budget"].update(budget_duration="monthly"),
            "cost_control.proxy.budget.budget_duration",
            "does not match",
        ),
        (lambda d: _proxy(d)["budget"].update(max_budget=0), "cost_control.proxy.budget.max_budget", "greater than 0"),
        (
            lambda d: _proxy(d)["alerting"]["types"].append("budget"),
            "cost_control.proxy.alerting.types[1]",
            "input should be",
        ),
        (
            lambda d: d["team"]["cost_control"]["controls"][0]["litellm"].update(examples=["screenshots"]),
            "cost_control.controls[0].litellm.examples[0]",
            "input should be",
        ),
        (
            lambda d: d["team"]["cost_control"]["controls"][0].pop("litellm"),
            "cost_control.controls[0].litellm",
            "field required",
        ),
    ],
    ids=[
        "expensive-without-limits",
        "default-expensive",
        "default-unknown",
        "team-tier-unknown",
        "key-team-unknown",
        "key-owner-unknown",
        "soft-over-max",
        "alias-twice",
        "duration-form",
        "zero-budget",
        "alert-type",
        "example-kind",
        "control-without-litellm",
    ],
)
def test_plan_rules(tmp_path, mutate, path, message):
    data = valid_data()
    mutate(data)
    with pytest.raises(DataError) as caught:
        load(write_data(tmp_path, data))
    (problem,) = caught.value.findings
    assert problem.file == "data/team.yaml"
    assert dotted(problem.path) == path
    assert message in problem.message
    assert problem.line > 1

"""The error catalog against data/observations.yaml: every entry observed and agreeing, shown, and never retried."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from runbooks.checks.cost import lint_cost
from runbooks.explain import hide_keys
from runbooks.findings import DataError
from runbooks.loader import load
from runbooks.render import render
from runbooks.rules import replay_digest
from runbooks.schema import LANGUAGES, observation_key
from runbooks.site import Site

from .cli import run_cli
from .conftest import ROOT

PINNED = re.search(r"^litellm(?:\[[^\]]*\])?==(\S+)$", (ROOT / "requirements-litellm.txt").read_text(), re.M)


# --- The committed observations ------------------------------------------------------------------


def test_observations_are_committed_and_stamped_with_the_pinned_litellm(dataset):
    assert PINNED, "requirements-litellm.txt pins no litellm version"
    assert dataset.observations is not None, "data/observations.yaml is missing; run `make observe`"
    assert dataset.observations.litellm == PINNED.group(1)
    assert dataset.observations.observed_on <= dt.date.today()


def test_every_provider_error_and_every_observable_proxy_error_is_observed(dataset):
    observed = set(dataset.observations.errors)
    for pid, provider in dataset.providers.providers.items():
        for err in provider.errors:
            assert observation_key(pid, err.code) in observed, (pid, err.code)
            assert err.source and err.body and err.member_status and err.match, (pid, err.code)
    for perr in dataset.proxy_errors.errors:
        assert (observation_key("proxy", perr.id) in observed) == (perr.scenario is not None), perr.id


def test_what_the_brief_found_wrong_is_now_stated_as_observed(dataset):
    """The facts that made the catalog untrustworthy, read from the observations rather than restated."""
    obs = dataset.observations.errors
    gemini = dataset.providers.providers["gemini"]
    key_invalid = next(e for e in gemini.errors if e.code == "API_KEY_INVALID")
    assert key_invalid.status == 400 and obs["gemini/API_KEY_INVALID"].member.status == key_invalid.member_status
    for key, code in (("openai/insufficient_quota", "insufficient_quota"), ("zai/1113", "1113")):
        assert code not in obs[key].member.message and obs[key].member.code != code


def test_billing_errors_reach_the_provider_once(dataset):
    """The retry fix, as observed: one curl request is one request to the provider for every billing error."""
    billing = [(pid, err) for pid, p in dataset.providers.providers.items() for err in p.errors if err.billing]
    assert len(billing) >= 5
    for pid, err in billing:
        assert dataset.observations.errors[observation_key(pid, err.code)].attempts == 1, (pid, err.code)


def test_the_observations_hold_no_key(dataset):
    text = (ROOT / "data" / "observations.yaml").read_text(encoding="utf-8")
    assert hide_keys(text)[1] == 0
    assert "LITELLM_MASTER_KEY=" not in text


# --- The rules: a factory data set with observations -----------------------------------------------

BODY = '{"error": {"message": "The balance is gone", "type": "billing"}}'
VERSION = "1.106.2"


def observed(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with every provider error sourced and observed as the proxy would pass it on."""
    data = copy.deepcopy(data)
    errors = {}
    for pid, provider in data["providers"]["providers"].items():
        domain = provider["domains"][0]
        for err in provider["errors"]:
            err.update(
                source=f"https://docs.{domain}/errors",
                body=BODY,
                member_status=err["status"],
                match=["The balance is gone"],
                billing=True,
            )
            errors[f"{pid}/{err['code']}"] = {
                "replayed": replay_digest(err["status"], BODY),
                "attempts": 1,
                "member": {
                    "status": err["status"],
                    "type": "invalid_request_error",
                    "code": str(err["status"]),
                    "message": f"litellm.BadRequestError: {pid.title()}Exception - The balance is gone",
                },
                "log": ["LiteLLM Proxy:ERROR: common_request_processing.py:1 - The balance is gone"],
            }
    data["observations"] = {
        "litellm": VERSION,
        "observed_on": dt.date(2026, 1, 20),
        "config": "data/litellm/config.yaml",
        "errors": errors,
    }
    return data


def problems(data_factory, mutate) -> list:
    def apply(data: dict[str, Any]) -> None:
        data.update(observed(data))
        mutate(data)

    with pytest.raises(DataError) as caught:
        load(data_factory(apply))
    return caught.value.findings


def test_an_observed_factory_set_is_valid(data_factory):
    loaded = load(data_factory(lambda d: d.update(observed(d))))
    assert set(loaded.observations.errors) == {"acme/402", "globex/402"}


def test_without_observations_nothing_is_claimed_and_nothing_is_required(data_factory):
    loaded = load(data_factory())
    assert loaded.observations is None and loaded.proxy_errors is None


def test_a_status_the_observation_contradicts_fails_with_its_line(data_factory):
    def lie(d):
        d["observations"]["errors"]["acme/402"]["member"]["status"] = 401

    (finding,) = problems(data_factory, lie)
    assert finding.reason == "contradicted_by_observation"
    assert finding.path == ("providers", "acme", "errors", 0, "member_status")
    assert finding.file.endswith("providers.yaml") and finding.line > 1
    assert "HTTP 402" in finding.message and "HTTP 401" in finding.message and VERSION in finding.message


def test_a_phrase_members_never_see_fails(data_factory):
    def hope(d):
        d["providers"]["providers"]["acme"]["errors"][0]["match"].append("insufficient_quota")

    (finding,) = problems(data_factory, hope)
    assert finding.reason == "contradicted_by_observation"
    assert finding.path == ("providers", "acme", "errors", 0, "match", 1)


def test_an_unobserved_entry_fails(data_factory):
    (finding,) = problems(data_factory, lambda d: d["observations"]["errors"].pop("globex/402"))
    assert finding.reason == "unobserved_error" and finding.path[:3] == ("providers", "globex", "errors")
    assert "make observe" in finding.message


def test_a_body_changed_since_the_observation_fails(data_factory):
    def edit(d):
        d["providers"]["providers"]["acme"]["errors"][0]["body"] = '{"error": {"message": "The balance is gone!"}}'

    (finding,) = problems(data_factory, edit)
    assert finding.reason == "stale_observation" and finding.path[-1] == "body"


def test_an_observation_of_no_entry_fails(data_factory):
    def extra(d):
        d["observations"]["errors"]["acme/999"] = d["observations"]["errors"]["acme/402"]

    (finding,) = problems(data_factory, extra)
    assert finding.reason == "stale_observation" and finding.path == ("errors", "acme/999")
    assert finding.file.endswith("observations.yaml")


def test_a_source_off_the_providers_domains_fails(data_factory):
    def elsewhere(d):
        d["providers"]["providers"]["acme"]["errors"][0]["source"] = "https://blog.example.org/acme-errors"

    (finding,) = problems(data_factory, elsewhere)
    assert finding.reason == "off_domain_source" and finding.path[-1] == "source"


def test_an_observed_entry_without_its_documented_response_fails(data_factory):
    def unsourced(d):
        err = d["providers"]["providers"]["acme"]["errors"][0]
        del err["source"], err["body"]

    found = problems(data_factory, unsourced)
    assert [f.reason for f in found] == ["unsourced_error"]
    assert "source" in found[0].message and "body" in found[0].message


def test_a_body_that_is_not_json_fails(data_factory):
    def prose(d):
        d["providers"]["providers"]["acme"]["errors"][0]["body"] = "The balance is gone"

    found = problems(data_factory, prose)
    assert "body" in [f.path[-1] for f in found]
    assert any("JSON" in f.message for f in found)


def test_a_proxy_error_needs_a_scenario_or_the_reason_it_has_none(data_factory):
    def proxy_errors(d):
        d["proxy_errors"] = {
            "domains": ["litellm.ai"],
            "errors": [
                {
                    "id": "mystery",
                    "title": {"zh": "谜", "en": "Mystery"},
                    "match": ["mystery"],
                    "source": "https://docs.litellm.ai/docs/proxy/health",
                    "cause": {"zh": "不明。", "en": "Unknown."},
                    "check": {"zh": "日志。", "en": "The log."},
                    "fix": {"zh": "重启。", "en": "Restart."},
                }
            ],
            "verified_on": dt.date(2026, 1, 20),
        }

    (finding,) = problems(data_factory, proxy_errors)
    assert finding.file.endswith("proxy_errors.yaml") and finding.path == ("errors", 0, "scenario")


def test_the_command_names_file_line_and_path_without_a_traceback(data_factory, tmp_path):
    def lie(d):
        d.update(observed(d))
        d["observations"]["errors"]["acme/402"]["member"]["status"] = 401

    data_dir = data_factory(lie)
    result = run_cli("validate", "--data", str(data_dir))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.search(
        r"providers\.yaml:\d+: contradicted_by_observation: providers\.acme\.errors\[0\]\.member_status:", result.stderr
    )


def test_the_real_catalog_fails_when_an_observation_is_edited(tmp_path):
    """The gate on the real data: a changed observation of one real entry is caught and located."""
    data_dir = tmp_path / "data"
    import shutil

    shutil.copytree(ROOT / "data", data_dir)
    yaml = YAML()
    yaml.width = 4096
    path = data_dir / "observations.yaml"
    doc = yaml.load(path.read_text(encoding="utf-8"))
    doc["errors"]["gemini/API_KEY_INVALID"]["member"]["status"] = 400
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(doc, out)
    with pytest.raises(DataError) as caught:
        load(data_dir)
    (finding,) = caught.value.findings
    assert finding.path == ("providers", "gemini", "errors", 0, "member_status")


# --- The pages show what was observed ----------------------------------------------------------------


@pytest.fixture(scope="module")
def real_site(dataset) -> Site:
    return Site.of(dataset)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_entry_shows_the_observed_message_and_log_in_both_languages(real_site, dataset, lang):
    errors_page = render(real_site.page("errors.md"), real_site, lang)
    for pid, provider in dataset.providers.providers.items():
        page = render(real_site.page(f"providers/{pid}.md"), real_site, lang)
        for err in provider.errors:
            obs = dataset.observations.errors[observation_key(pid, err.code)]
            for out in (page, errors_page):
                assert obs.member.message in out, (lang, pid, err.code)
                assert obs.log[0] in out, (lang, pid, err.code)
                assert f"HTTP {obs.member.status}" in out
    for perr in dataset.proxy_errors.errors:
        obs = dataset.observations.errors.get(observation_key("proxy", perr.id))
        assert f"{{ #proxy-{perr.id} }}" in errors_page
        if obs is None:
            assert perr.not_observed(lang) in errors_page
            continue
        for text in [*(obs.log or []), *obs.health.values(), *([obs.member.message] if obs.member else [])]:
            assert text in errors_page, (lang, perr.id)


def test_the_chinese_pages_quote_what_members_really_see(real_site):
    page = render(real_site.page("providers/openai.md"), real_site, "zh")
    assert "You exceeded your current quota" in page
    assert "`insufficient_quota`" in page


def test_the_pages_follow_the_observations(real_site, dataset):
    """Change an observation and the page changes with it: nothing observed is written by hand."""
    key = "openai/insufficient_quota"
    obs = dataset.observations.errors[key]
    member = obs.member.model_copy(update={"message": "a message LiteLLM 9 would send"})
    errors = {**dataset.observations.errors, key: obs.model_copy(update={"member": member, "attempts": 7})}
    changed = dataclasses.replace(dataset, observations=dataset.observations.model_copy(update={"errors": errors}))
    site = Site.of(changed)
    for lang in LANGUAGES:
        page = render(site.page("providers/openai.md"), site, lang)
        assert "a message LiteLLM 9 would send" in page and obs.member.message not in page
        assert "7" in page


def test_a_provider_code_that_never_reaches_members_is_said_to_be_hidden(real_site, dataset):
    page = render(real_site.page("providers/zai.md"), real_site, "en")
    entry = page[page.index("{ #error-1113 }") : page.index("{ #error-1302 }")]
    assert "`1113` reaches neither members nor the log" in entry
    gemini = render(real_site.page("providers/gemini.md"), real_site, "en")
    assert "`API_KEY_INVALID` reaches neither" not in gemini


def test_every_error_source_is_shown_and_on_the_providers_domains(real_site, dataset):
    for pid, provider in dataset.providers.providers.items():
        page = render(real_site.page(f"providers/{pid}.md"), real_site, "en")
        for err in provider.errors:
            assert f"<{err.source}>" in page
            host = re.match(r"https://([^/]+)/", err.source).group(1)
            assert any(host == d or host.endswith("." + d) for d in provider.domains)


# --- Retries of billing errors -----------------------------------------------------------------------


def test_the_config_carries_the_teams_retry_policy(dataset):
    config = YAML(typ="safe").load((ROOT / "data" / "litellm" / "config.yaml").read_text(encoding="utf-8"))
    policy = config["router_settings"]["retry_policy"]
    assert policy == dataset.team.cost_control.proxy.retry_policy
    assert policy["RateLimitErrorRetries"] == 0 and policy["BadRequestErrorRetries"] == 0


def _config_without(tmp_path: Path, change) -> Path:
    yaml = YAML()
    config = yaml.load((ROOT / "data" / "litellm" / "config.yaml").read_text(encoding="utf-8"))
    change(config)
    out = tmp_path / "config.yaml"
    with out.open("w", encoding="utf-8") as handle:
        yaml.dump(config, handle)
    return out


def test_the_real_config_retries_no_billing_error(dataset):
    findings = lint_cost(ROOT / "data" / "litellm" / "config.yaml", dataset)
    assert [f for f in findings if f.reason == "billing_errors_retried"] == []


def test_without_a_retry_policy_billing_429s_are_retried(dataset, tmp_path):
    config = _config_without(tmp_path, lambda c: c["router_settings"].pop("retry_policy"))
    (finding,) = [f for f in lint_cost(config, dataset) if f.reason == "billing_errors_retried"]
    assert "RateLimitError" in finding.message and "sent 3 times" in finding.message
    assert "insufficient_quota" in finding.message and "RateLimitErrorRetries: 0" in finding.message
    assert finding.severity == "warning"


def test_a_default_retry_count_retries_the_400_and_402_billing_errors_too(dataset, tmp_path):
    def default_only(c):
        c["router_settings"]["retry_policy"] = {"DefaultRetries": 2}

    config = _config_without(tmp_path, default_only)
    found = {f.context["key"] for f in lint_cost(config, dataset) if f.reason == "billing_errors_retried"}
    assert {
        "router_settings.retry_policy.RateLimitErrorRetries",
        "router_settings.retry_policy.BadRequestErrorRetries",
    } <= found


def test_a_zhipu_deployment_that_keeps_the_sdk_retries_is_named(dataset, tmp_path):
    def drop(c):
        for deployment in c["model_list"]:
            deployment["litellm_params"].pop("allowed_openai_params", None)

    config = _config_without(tmp_path, drop)
    named = {f.context.get("model_name") for f in lint_cost(config, dataset) if f.reason == "billing_errors_retried"}
    deployments = YAML(typ="safe").load(config.read_text(encoding="utf-8"))["model_list"]
    zai = {d["model_name"] for d in deployments if d["litellm_params"]["model"].startswith("zai/")}
    assert zai and named == zai


def test_strict_makes_a_retried_billing_error_fail(tmp_path):
    config = _config_without(tmp_path, lambda c: c["router_settings"].pop("retry_policy"))
    result = run_cli("lint-cost", str(config), "--strict", "--format", "json")
    assert result.returncode == 1
    reasons = [f["reason"] for f in json.loads(result.stdout)["findings"]]
    assert "billing_errors_retried" in reasons


# --- What `make verify-live` compares -------------------------------------------------------------------


def _committed() -> dict[str, Any]:
    return YAML(typ="safe").load((ROOT / "data" / "observations.yaml").read_text(encoding="utf-8"))


def test_an_identical_observation_is_no_difference():
    from runbooks.observe import compare

    fresh = _committed()
    fresh["observed_on"] = dt.date.today()
    assert compare(ROOT / "data" / "observations.yaml", fresh) == []


def test_a_litellm_that_behaves_differently_is_reported_per_entry_and_field():
    from runbooks.observe import compare

    fresh = _committed()
    fresh["errors"]["zai/1113"]["attempts"] = 3
    fresh["errors"]["openai/insufficient_quota"]["log"][0] += " LiteLLM Retried: 2 times"
    findings = compare(ROOT / "data" / "observations.yaml", fresh)
    assert {(f.context["entry"], f.context["field"]) for f in findings} == {
        ("zai/1113", "attempts"),
        ("openai/insufficient_quota", "log[0]"),
    }
    text = (ROOT / "data" / "observations.yaml").read_text(encoding="utf-8").splitlines()
    for finding in findings:
        assert finding.reason == "observation_changed" and finding.file == "data/observations.yaml"
        assert text[finding.line - 1].strip().startswith(finding.context["field"].split("[")[0])


def test_another_litellm_version_and_a_lost_entry_are_reported():
    from runbooks.observe import compare

    fresh = _committed()
    fresh["litellm"] = "1.200.0"
    del fresh["errors"]["proxy/proxy-down"]
    reasons = sorted(f.reason for f in compare(ROOT / "data" / "observations.yaml", fresh))
    assert reasons == ["observation_changed", "observed_other_version"]

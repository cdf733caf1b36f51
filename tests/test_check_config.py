"""The LiteLLM config gate: the real config passes; each fixture gets its verdict, reasons, files and lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbooks.checks import Report
from runbooks.checks.config import check_config
from runbooks.findings import Finding, Unreadable
from runbooks.proxy_config import read_proxy_config

from .conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "configs"
UNSERVED = "unserved_model"


def run(config: Path, dataset, **kwargs) -> Report:
    """Check `config` and file the outcome the way a command reports it."""
    report = Report()
    try:
        report.add(check_config(config, dataset, **kwargs))
    except Unreadable as exc:
        report.unreadable = True
        report.findings = exc.findings
    return report


def line_of(file: Path, needle: str, *, after: str | None = None) -> int:
    """1-based number of the first line of `file` containing `needle` (after the line containing `after`)."""
    lines = file.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def only(findings: list[Finding], reason: str) -> Finding:
    matching = [f for f in findings if f.reason == reason]
    assert len(matching) == 1, matching
    return matching[0]


def test_real_config_passes_clean(dataset):
    report = run(ROOT / "data" / "litellm" / "config.yaml", dataset, display_root=ROOT)
    assert report.verdict == "pass"
    assert report.findings == []
    assert report.warnings == []


# (fixture, verdict, reasons of the failures, reasons of the warnings)
CASES = [
    # clean, and every way of getting there
    ("clean.yaml", "pass", set(), set()),
    ("anchors_merge.yaml", "pass", set(), set()),
    ("include_nested/config.yaml", "pass", set(), set()),
    ("bare_openai_anthropic.yaml", "pass", set(), {UNSERVED}),
    ("custom_llm_provider.yaml", "pass", set(), {UNSERVED}),
    ("openai_default_env.yaml", "pass", set(), {UNSERVED}),
    ("credentials_good.yaml", "pass", set(), {UNSERVED}),
    ("environment_harmless.yaml", "pass", set(), {UNSERVED}),
    ("alias_ok.yaml", "pass", set(), {UNSERVED}),
    ("openai_base_deepseek.yaml", "pass", set(), {UNSERVED}),
    ("load_balance_ok.yaml", "pass", set(), {UNSERVED}),
    # passes, with something to look at
    ("unserved_model.yaml", "pass", set(), {UNSERVED}),
    ("wildcard_provider.yaml", "pass", set(), {"catch_all_route", UNSERVED}),
    ("gemini_default_env.yaml", "pass", set(), {"env_var_mismatch", UNSERVED}),
    # providers
    ("undocumented_provider.yaml", "fail", {"undocumented_provider"}, {UNSERVED}),
    ("bare_gemini.yaml", "fail", {"undocumented_provider"}, {UNSERVED}),
    ("openai_base_unknown.yaml", "fail", {"undocumented_provider"}, {UNSERVED}),
    ("load_balance_mixed.yaml", "fail", {"undocumented_provider"}, {UNSERVED}),
    ("wildcard_undocumented.yaml", "fail", {"undocumented_provider"}, {UNSERVED}),
    ("zhipu_prefix.yaml", "fail", {"unresolvable_provider"}, {UNSERVED}),
    ("bare_unroutable.yaml", "fail", {"unresolvable_provider"}, {UNSERVED}),
    ("include_finding/config.yaml", "fail", {"unresolvable_provider"}, {UNSERVED}),
    # models
    ("undocumented_model_name.yaml", "fail", {"undocumented_model"}, {UNSERVED}),
    ("model_under_other_provider.yaml", "fail", {"undocumented_model"}, {UNSERVED}),
    ("upstream_mismatch.yaml", "fail", {"undocumented_model"}, {UNSERVED}),
    ("catch_all.yaml", "fail", {"catch_all_route"}, {UNSERVED}),
    # keys
    ("env_var_mismatch.yaml", "fail", {"env_var_mismatch"}, {UNSERVED}),
    ("anchors_merge_wrong_var.yaml", "fail", {"env_var_mismatch"}, {UNSERVED}),
    ("zai_default_env.yaml", "fail", {"env_var_mismatch"}, {UNSERVED}),
    ("openai_base_default_key.yaml", "fail", {"env_var_mismatch"}, {UNSERVED}),
    ("credentials_wrong_var.yaml", "fail", {"env_var_mismatch"}, {UNSERVED}),
    ("credentials_missing.yaml", "fail", {"env_var_mismatch"}, {UNSERVED}),
    # secrets
    ("literal_api_key.yaml", "fail", {"literal_secret"}, {UNSERVED}),
    ("literal_master_key.yaml", "fail", {"literal_secret"}, {UNSERVED}),
    ("literal_credential.yaml", "fail", {"literal_secret"}, {UNSERVED}),
    ("environment_secret.yaml", "fail", {"literal_secret"}, {UNSERVED}),
    # aliases
    ("alias_dangling.yaml", "fail", {"dangling_alias"}, {UNSERVED}),
    # unreadable
    ("syntax_error.yaml", "error", {"parse_error"}, set()),
    ("not_a_mapping.yaml", "error", {"parse_error"}, set()),
    ("include_not_list.yaml", "error", {"parse_error"}, set()),
    ("include_missing/config.yaml", "error", {"parse_error"}, set()),
    ("include_cycle/config.yaml", "error", {"parse_error"}, set()),
    ("include_subdir/config.yaml", "error", {"parse_error"}, set()),
]


@pytest.mark.parametrize(("fixture", "verdict", "reasons", "warnings"), CASES, ids=[c[0] for c in CASES])
def test_fixture_verdict(dataset, fixture, verdict, reasons, warnings):
    report = run(FIXTURES / fixture, dataset, display_root=ROOT)
    assert report.verdict == verdict, [str(f) for f in report.findings]
    assert {f.reason for f in report.findings} == reasons, [str(f) for f in report.findings]
    assert {f.reason for f in report.warnings} == warnings, [str(f) for f in report.warnings]
    assert all(f.severity == "error" for f in report.findings)
    assert all(f.file and f.line >= 1 for f in report.findings + report.warnings)


def test_every_fixture_has_a_case():
    mains = {p.relative_to(FIXTURES).as_posix() for p in FIXTURES.glob("*.yaml")}
    mains |= {p.relative_to(FIXTURES).as_posix() for p in FIXTURES.glob("*/config.yaml")}
    assert mains == {c[0] for c in CASES}
    assert len(mains) >= 20


# --- Where findings point ------------------------------------------------------------------------------


def test_file_is_relative_to_display_root_or_as_passed(dataset):
    fixture = FIXTURES / "env_var_mismatch.yaml"
    assert only(check_config(fixture, dataset, display_root=ROOT), "env_var_mismatch").file == (
        "tests/fixtures/configs/env_var_mismatch.yaml"
    )
    assert only(check_config(fixture, dataset), "env_var_mismatch").file == str(fixture)


def test_env_var_mismatch_points_at_the_api_key(dataset):
    fixture = FIXTURES / "env_var_mismatch.yaml"
    finding = only(check_config(fixture, dataset), "env_var_mismatch")
    assert finding.line == line_of(fixture, "os.environ/OPENAI_KEY")
    assert finding.context["model_name"] == "gpt-5.1"
    assert finding.context["provider"] == "openai"
    assert finding.context["key"] == "OPENAI_KEY"
    assert "OPENAI_API_KEY" in finding.message


def test_merged_key_is_reported_where_the_anchor_writes_it(dataset):
    fixture = FIXTURES / "anchors_merge_wrong_var.yaml"
    findings = [f for f in check_config(fixture, dataset) if f.reason == "env_var_mismatch"]
    assert {f.context["model_name"] for f in findings} == {"glm-4.7", "glm-4.5-flash"}
    assert {f.line for f in findings} == {line_of(fixture, "api_key: os.environ/ZAI_API_KEY")}


def test_finding_in_an_included_file_names_that_file_and_its_line(dataset):
    included = FIXTURES / "include_finding" / "glm.yaml"
    finding = only(
        check_config(FIXTURES / "include_finding" / "config.yaml", dataset, display_root=ROOT), "unresolvable_provider"
    )
    assert finding.file == "tests/fixtures/configs/include_finding/glm.yaml"
    assert finding.line == line_of(included, "model: zhipu/glm-4.5-flash")


def test_dangling_aliases_point_at_each_alias(dataset):
    fixture = FIXTURES / "alias_dangling.yaml"
    findings = [f for f in check_config(fixture, dataset) if f.reason == "dangling_alias"]
    assert {(f.context["model_name"], f.line) for f in findings} == {
        ("gpt-5.1", line_of(fixture, "smart: gpt-5.1")),
        ("claude-sonnet-4.5", line_of(fixture, "sonnet:")),
    }
    assert {f.context["key"] for f in findings} == {
        "router_settings.model_group_alias.smart",
        "router_settings.model_group_alias.sonnet",
    }


def test_syntax_error_gives_line_and_column(dataset):
    fixture = FIXTURES / "syntax_error.yaml"
    with pytest.raises(Unreadable) as caught:
        check_config(fixture, dataset)
    (finding,) = caught.value.findings
    line = line_of(fixture, "     api_key:")
    assert finding.reason == "parse_error"
    assert finding.line == line
    assert f"line {line}, column 6" in finding.message


def test_missing_config_is_unreadable(dataset, tmp_path):
    with pytest.raises(Unreadable) as caught:
        check_config(tmp_path / "absent.yaml", dataset)
    assert [f.reason for f in caught.value.findings] == ["parse_error"]


# --- What the findings say -------------------------------------------------------------------------------


def test_zhipu_prefix_names_the_right_one(dataset):
    finding = only(check_config(FIXTURES / "zhipu_prefix.yaml", dataset), "unresolvable_provider")
    assert "LiteLLM has no 'zhipu/' prefix; Zhipu GLM models use 'zai/'" in finding.message
    assert finding.context["model_name"] == "glm-4.7"


def test_bare_gemini_name_is_vertex_not_gemini(dataset):
    finding = only(check_config(FIXTURES / "bare_gemini.yaml", dataset), "undocumented_provider")
    assert finding.context["provider"] == "vertex_ai"
    assert "vertex_ai" in finding.message
    assert "not the documented Gemini API" in finding.message
    assert "gemini/gemini-2.5-pro" in finding.message


def test_bare_unroutable_name_and_missing_model(dataset):
    fixture = FIXTURES / "bare_unroutable.yaml"
    findings = check_config(fixture, dataset)
    by_name = {f.context["model_name"]: f for f in findings if f.reason == "unresolvable_provider"}
    assert "bare model name 'glm-4.7'" in by_name["glm-4.7"].message
    assert "zai/glm-4.7" in by_name["glm-4.7"].message
    assert "no litellm_params.model" in by_name["deepseek-chat"].message
    assert by_name["deepseek-chat"].line == line_of(fixture, "litellm_params:", after="model_name: deepseek-chat")


def test_zai_default_variable_is_inferred(dataset):
    finding = only(check_config(FIXTURES / "zai_default_env.yaml", dataset), "env_var_mismatch")
    assert "no api_key: LiteLLM reads ZAI_API_KEY by default, but the team keeps this key in ZHIPU_API_KEY" in (
        finding.message
    )
    assert finding.context["key"] == "ZAI_API_KEY"
    assert finding.context["inferred"] is True


def test_gemini_default_variable_warns_that_google_api_key_wins(dataset):
    findings = check_config(FIXTURES / "gemini_default_env.yaml", dataset)
    warning = only(findings, "env_var_mismatch")
    assert warning.severity == "warning"
    assert "GOOGLE_API_KEY before GEMINI_API_KEY" in warning.message


def test_openai_base_url_to_unknown_host_names_the_host(dataset):
    finding = only(check_config(FIXTURES / "openai_base_unknown.yaml", dataset), "undocumented_provider")
    assert finding.context["host"] == "llm-relay.example.net"
    assert "'llm-relay.example.net'" in finding.message


def test_openai_base_url_without_key_would_send_the_openai_key(dataset):
    finding = only(check_config(FIXTURES / "openai_base_default_key.yaml", dataset), "env_var_mismatch")
    assert finding.context["provider"] == "deepseek"
    assert "reads OPENAI_API_KEY by default" in finding.message


def test_undocumented_models_say_what_is_expected(dataset):
    other = only(check_config(FIXTURES / "model_under_other_provider.yaml", dataset), "undocumented_model")
    assert "documented under zai" in other.message
    assert "zai/glm-4.7" in other.message
    upstream = only(check_config(FIXTURES / "upstream_mismatch.yaml", dataset), "undocumented_model")
    assert "expected anthropic/claude-sonnet-4-5" in upstream.message
    unknown = only(check_config(FIXTURES / "undocumented_model_name.yaml", dataset), "undocumented_model")
    assert unknown.context == {"model_name": "gpt-4o", "provider": "openai", "entry": "model_list[0]"}


def test_credentials(dataset):
    wrong = only(check_config(FIXTURES / "credentials_wrong_var.yaml", dataset), "env_var_mismatch")
    assert wrong.context["key"] == "CLAUDE_API_KEY"
    assert "credential 'anthropic-main'" in wrong.message
    missing_fixture = FIXTURES / "credentials_missing.yaml"
    missing = only(check_config(missing_fixture, dataset), "env_var_mismatch")
    assert "no credential named 'anthropic-primary'" in missing.message
    assert missing.line == line_of(missing_fixture, "litellm_credential_name: anthropic-primary")


def test_each_deployment_of_a_balanced_group_is_checked(dataset):
    finding = only(check_config(FIXTURES / "load_balance_mixed.yaml", dataset), "undocumented_provider")
    assert finding.context == {
        "model_name": "claude-sonnet-4.5",
        "provider": "openrouter",
        "entry": "model_list[1]",
    }


def test_catch_all_fails_and_provider_wildcard_warns(dataset):
    star = only(check_config(FIXTURES / "catch_all.yaml", dataset), "catch_all_route")
    assert star.severity == "error"
    wildcard = only(check_config(FIXTURES / "wildcard_provider.yaml", dataset), "catch_all_route")
    assert wildcard.severity == "warning"
    assert "any openai model" in wildcard.message


def test_unserved_model_names_model_and_provider(dataset):
    findings = check_config(FIXTURES / "unserved_model.yaml", dataset)
    warning = only(findings, UNSERVED)
    assert warning.severity == "warning"
    assert warning.context == {"model_name": "glm-4.5-flash", "provider": "zai"}


def test_literal_secrets_are_located(dataset):
    master = FIXTURES / "literal_master_key.yaml"
    finding = only(check_config(master, dataset), "literal_secret")
    assert finding.context == {"key": "general_settings.master_key"}
    assert finding.line == line_of(master, "master_key:")
    environment = only(check_config(FIXTURES / "environment_secret.yaml", dataset), "literal_secret")
    assert environment.context == {"key": "environment_variables.LANGFUSE_SECRET_KEY"}


# --- Includes ----------------------------------------------------------------------------------------------


def test_includes_are_concatenated_in_litellm_order():
    proxy = read_proxy_config(FIXTURES / "include_nested" / "config.yaml", display_root=FIXTURES)
    files = [d.file for d in proxy.items("model_list")]
    assert (
        files
        == ["include_nested/config.yaml"] * 3
        + ["include_nested/gemini.yaml"] * 2
        + ["include_nested/more.yaml"] * 2
        + ["include_nested/chinese.yaml"] * 4
    )
    assert proxy.mapping("general_settings").file == "include_nested/config.yaml"


def test_include_errors_say_why(dataset):
    with pytest.raises(Unreadable) as missing:
        check_config(FIXTURES / "include_missing" / "config.yaml", dataset, display_root=ROOT)
    (finding,) = missing.value.findings
    assert finding.file == "tests/fixtures/configs/include_missing/config.yaml"
    assert finding.line == line_of(FIXTURES / "include_missing" / "config.yaml", "- missing.yaml")
    assert "missing.yaml" in finding.message

    with pytest.raises(Unreadable) as cycle:
        check_config(FIXTURES / "include_cycle" / "config.yaml", dataset)
    assert "include cycle" in cycle.value.findings[0].message

    with pytest.raises(Unreadable) as subdir:
        check_config(FIXTURES / "include_subdir" / "config.yaml", dataset)
    assert "against the main config's directory" in subdir.value.findings[0].message


def test_model_list_that_is_not_a_list_is_unreadable(dataset, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("model_list:\n  gpt-5.1: openai/gpt-5.1\n", encoding="utf-8")
    with pytest.raises(Unreadable) as caught:
        check_config(config, dataset)
    assert caught.value.findings[0].reason == "parse_error"


# --- Secrets never leak into the output ------------------------------------------------------------------


def test_secret_values_are_masked_everywhere(dataset, tmp_path):
    api_key = "sk-" + "proj-" + "x" * 40
    master_key = "sk-" + "m" * 30
    credential = "qv-" + "c" * 30
    environment = "lf-" + "e" * 30
    redis = "pw-" + "r" * 20
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""\
credential_list:
  - credential_name: openai-main
    credential_values:
      api_key: {credential}
environment_variables:
  LANGFUSE_SECRET_KEY: {environment}
model_list:
  - model_name: gpt-5.1
    litellm_params:
      model: openai/gpt-5.1
      api_key: {api_key}
  - model_name: gpt-5-mini
    litellm_params:
      model: openai/gpt-5-mini
      litellm_credential_name: openai-main
router_settings:
  redis_password: {redis}
general_settings:
  master_key: {master_key}
""",
        encoding="utf-8",
    )
    findings = check_config(config, dataset, display_root=tmp_path)
    secrets = [f for f in findings if f.reason == "literal_secret"]
    assert {f.context["key"] for f in secrets} == {
        "credential_list[0].credential_values.api_key",
        "environment_variables.LANGFUSE_SECRET_KEY",
        "model_list[0].litellm_params.api_key",
        "router_settings.redis_password",
        "general_settings.master_key",
    }
    for finding in findings:
        output = [str(finding), finding.message, repr(finding.context), repr(finding.to_json())]
        for value in (api_key, master_key, credential, environment, redis):
            assert all(value not in text for text in output), finding
            assert all(value[:4] not in text for text in output[1:3]), finding


# --- api_base ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "api_base", "reason"),
    [
        ("zai/glm-4.7", "https://api.z.ai/api/paas/v4", None),
        ("zai/glm-4.7", "https://open.bigmodel.cn/api/paas/v4", None),
        ("zai/glm-4.7", "https://api.deepseek.com/v1", "undocumented_provider"),
        ("openai/glm-4.7", "https://open.bigmodel.cn/api/paas/v4", None),
        ("openai/glm-4.7", "os.environ/GLM_API_BASE", "undocumented_provider"),
        ("zai/glm-4.7", "os.environ/GLM_API_BASE", None),
    ],
)
def test_api_base_host_decides_the_provider(dataset, tmp_path, model, api_base, reason):
    config = tmp_path / "config.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: glm-4.7\n"
        "    litellm_params:\n"
        f"      model: {model}\n"
        f"      api_base: {api_base}\n"
        "      api_key: os.environ/ZHIPU_API_KEY\n",
        encoding="utf-8",
    )
    failures = [f.reason for f in check_config(config, dataset) if f.severity == "error"]
    assert failures == ([reason] if reason else [])

"""The LiteLLM config gate: the real config passes; each fixture gets its verdict, reasons, files and lines.

The fixtures are the configs LiteLLM 1.106.2 reads one way and a hand-written reading another; the live
differential test (tests/live/test_config_differential.py) runs the same fixtures through LiteLLM itself.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from runbooks import litellm_tables
from runbooks.checks import Report
from runbooks.checks.config import (
    API_BASES,
    DEFAULT_KEY_VARIABLES,
    UNDOCUMENTED,
    Route,
    check_config,
    looks_like_secret,
    route_model,
    secret_settings,
)
from runbooks.findings import Finding, Unreadable
from runbooks.loader import load
from runbooks.proxy_config import MAX_DEPTH, MAX_EXPANDED_NODES, read_proxy_config
from runbooks.rules import host_of

from .cli import run_cli
from .conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "configs"
UNSERVED = "unserved_model"
NO_ENV: dict[str, str] = {}


def run(config: Path, dataset, **kwargs) -> Report:
    """Check `config` and file the outcome the way a command reports it."""
    report = Report()
    kwargs.setdefault("environ", NO_ENV)
    try:
        report.add(check_config(config, dataset, **kwargs))
    except Unreadable as exc:
        report.unreadable = True
        report.findings = exc.findings
    return report


def check(config: Path, dataset, **kwargs) -> list[Finding]:
    return check_config(config, dataset, environ=kwargs.pop("environ", NO_ENV), **kwargs)


def line_of(file: Path, needle: str, *, after: str | None = None) -> int:
    """1-based number of the first line of `file` containing `needle` (after the line containing `after`)."""
    lines = file.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def only(findings: list[Finding], reason: str) -> Finding:
    matching = [f for f in findings if f.reason == reason]
    assert len(matching) == 1, matching
    return matching[0]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def deployment(name: str, model: str, *extra: str) -> str:
    lines = [f"  - model_name: {name}", "    litellm_params:", f"      model: {model}"]
    return "\n".join(lines + [f"      {line}" for line in extra]) + "\n"


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
    ("cost_fields.yaml", "pass", set(), {UNSERVED}),
    ("group_cross_provider.yaml", "pass", set(), {UNSERVED}),
    # includes as LiteLLM resolves them: next to the declaring file, else next to the main config; once each
    ("include_cycle/config.yaml", "pass", set(), {UNSERVED}),
    ("include_subdir/config.yaml", "pass", set(), {UNSERVED}),
    ("include_root_fallback/config.yaml", "pass", set(), {"include_resolution", UNSERVED}),
    ("include_declaring_dir/config.yaml", "fail", {"undocumented_provider"}, {"include_resolution", UNSERVED}),
    # passes, with something to look at
    ("unserved_model.yaml", "pass", set(), {UNSERVED}),
    ("wildcard_provider.yaml", "pass", set(), {"catch_all_route", UNSERVED}),
    ("gemini_default_env.yaml", "pass", set(), {"env_var_mismatch", UNSERVED}),
    ("duplicate_top_level.yml", "fail", {"undocumented_provider"}, {"duplicate_key", UNSERVED}),
    # providers
    ("undocumented_provider.yaml", "fail", {"undocumented_provider"}, {UNSERVED}),
    ("bare_gemini.yaml", "fail", {"undocumented_provider"}, {UNSERVED}),
    ("openai_base_unknown.yaml", "fail", {"undocumented_provider"}, {UNSERVED}),
    ("load_balance_mixed.yaml", "fail", {"undocumented_provider"}, {UNSERVED}),
    ("wildcard_undocumented.yaml", "fail", {"undocumented_provider"}, {UNSERVED}),
    ("providers_of_the_pinned_version.yaml", "fail", {"undocumented_provider"}, {UNSERVED}),
    ("zhipu_prefix.yaml", "fail", {"unresolvable_provider"}, {UNSERVED}),
    ("bare_unroutable.yaml", "fail", {"unresolvable_provider"}, {UNSERVED}),
    ("include_finding/config.yaml", "fail", {"unresolvable_provider"}, {UNSERVED}),
    # models and groups
    ("undocumented_model_name.yaml", "fail", {"undocumented_model"}, {UNSERVED}),
    ("model_under_other_provider.yaml", "fail", {"undocumented_model"}, {UNSERVED}),
    ("upstream_mismatch.yaml", "fail", {"undocumented_model"}, {UNSERVED}),
    ("bare_known_name.yaml", "fail", {"undocumented_model"}, {UNSERVED}),
    ("group_undocumented.yaml", "fail", {"undocumented_model"}, {UNSERVED}),
    ("group_wrong_member.yaml", "fail", {"undocumented_model"}, {UNSERVED}),
    ("catch_all.yaml", "fail", {"catch_all_route"}, {UNSERVED}),
    # keys and where they work
    ("env_var_mismatch.yaml", "fail", {"env_var_mismatch"}, {UNSERVED}),
    ("anchors_merge_wrong_var.yaml", "fail", {"env_var_mismatch"}, {UNSERVED}),
    ("zai_default_env.yaml", "fail", {"env_var_mismatch"}, {UNSERVED}),
    ("openai_base_default_key.yaml", "fail", {"env_var_mismatch"}, {UNSERVED}),
    ("credentials_wrong_var.yaml", "fail", {"env_var_mismatch"}, {UNSERVED}),
    ("credentials_missing.yaml", "fail", {"env_var_mismatch"}, {UNSERVED}),
    ("zai_default_base.yaml", "fail", {"key_platform_mismatch"}, {UNSERVED}),
    ("zai_international_base.yaml", "fail", {"key_platform_mismatch"}, {UNSERVED}),
    # secrets
    ("literal_api_key.yaml", "fail", {"literal_secret"}, {UNSERVED}),
    ("literal_master_key.yaml", "fail", {"literal_secret"}, {UNSERVED}),
    ("literal_credential.yaml", "fail", {"literal_secret"}, {UNSERVED}),
    ("environment_secret.yaml", "fail", {"literal_secret"}, {UNSERVED}),
    # aliases
    ("alias_dangling.yaml", "fail", {"dangling_alias"}, {UNSERVED}),
    # what LiteLLM refuses to load
    ("syntax_error.yaml", "error", {"parse_error"}, set()),
    ("not_a_mapping.yaml", "error", {"parse_error"}, set()),
    ("include_not_list.yaml", "error", {"parse_error"}, set()),
    ("include_missing/config.yaml", "error", {"parse_error"}, set()),
    ("python_tag.yaml", "error", {"parse_error"}, set()),
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
    # A config LiteLLM reads but ruamel refuses (a duplicate key) is a .yml, which the reader tests leave out.
    mains = {p.relative_to(FIXTURES).as_posix() for p in [*FIXTURES.glob("*.yaml"), *FIXTURES.glob("*.yml")]}
    mains |= {p.relative_to(FIXTURES).as_posix() for p in FIXTURES.glob("*/config.yaml")}
    assert mains == {c[0] for c in CASES}
    assert len(mains) >= 20


# --- Where findings point ------------------------------------------------------------------------------


def test_file_is_relative_to_display_root_or_as_passed(dataset):
    fixture = FIXTURES / "env_var_mismatch.yaml"
    assert only(check(fixture, dataset, display_root=ROOT), "env_var_mismatch").file == (
        "tests/fixtures/configs/env_var_mismatch.yaml"
    )
    assert only(check(fixture, dataset), "env_var_mismatch").file == str(fixture)


def test_env_var_mismatch_points_at_the_api_key(dataset):
    fixture = FIXTURES / "env_var_mismatch.yaml"
    finding = only(check(fixture, dataset), "env_var_mismatch")
    assert finding.line == line_of(fixture, "os.environ/OPENAI_KEY")
    assert finding.context["model_name"] == "gpt-5.1"
    assert finding.context["provider"] == "openai"
    assert finding.context["key"] == "OPENAI_KEY"
    assert "OPENAI_API_KEY" in finding.message


def test_merged_key_is_reported_where_the_anchor_writes_it(dataset):
    fixture = FIXTURES / "anchors_merge_wrong_var.yaml"
    findings = [f for f in check(fixture, dataset) if f.reason == "env_var_mismatch"]
    assert {f.context["model_name"] for f in findings} == {"glm-4.7", "glm-4.5-flash"}
    assert {f.line for f in findings} == {line_of(fixture, "api_key: os.environ/ZAI_API_KEY")}


def test_finding_in_an_included_file_names_that_file_and_its_line(dataset):
    included = FIXTURES / "include_finding" / "glm.yaml"
    finding = only(
        check(FIXTURES / "include_finding" / "config.yaml", dataset, display_root=ROOT), "unresolvable_provider"
    )
    assert finding.file == "tests/fixtures/configs/include_finding/glm.yaml"
    assert finding.line == line_of(included, "model: zhipu/glm-4.5-flash")


def test_dangling_aliases_point_at_each_alias(dataset):
    fixture = FIXTURES / "alias_dangling.yaml"
    findings = [f for f in check(fixture, dataset) if f.reason == "dangling_alias"]
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
        check(fixture, dataset)
    (finding,) = caught.value.findings
    line = line_of(fixture, "     api_key:")
    assert finding.reason == "parse_error"
    assert finding.line == line
    assert f"line {line}, column 6" in finding.message


def test_missing_config_is_unreadable(dataset, tmp_path):
    with pytest.raises(Unreadable) as caught:
        check(tmp_path / "absent.yaml", dataset)
    assert [f.reason for f in caught.value.findings] == ["parse_error"]


def test_an_empty_config_is_refused_as_litellm_refuses_it(dataset, tmp_path):
    with pytest.raises(Unreadable) as caught:
        check(write(tmp_path / "config.yaml", "# nothing but a comment\n"), dataset)
    assert "empty" in caught.value.findings[0].message


# --- What the findings say -------------------------------------------------------------------------------


def test_zhipu_prefix_names_the_right_one(dataset):
    finding = only(check(FIXTURES / "zhipu_prefix.yaml", dataset), "unresolvable_provider")
    assert "LiteLLM has no 'zhipu/' prefix; Zhipu GLM models use 'zai/'" in finding.message
    assert finding.context["model_name"] == "glm-4.7"


def test_bare_gemini_name_is_vertex_not_gemini(dataset):
    finding = only(check(FIXTURES / "bare_gemini.yaml", dataset), "undocumented_provider")
    assert finding.context["provider"] == "vertex_ai"
    assert "vertex_ai" in finding.message
    assert "not the documented Gemini API" in finding.message
    assert "gemini/gemini-2.5-pro" in finding.message


def test_bare_unroutable_name_and_missing_model(dataset):
    fixture = FIXTURES / "bare_unroutable.yaml"
    findings = check(fixture, dataset)
    by_name = {f.context["model_name"]: f for f in findings if f.reason == "unresolvable_provider"}
    assert "bare model name 'glm-4.7'" in by_name["glm-4.7"].message
    assert "zai/glm-4.7" in by_name["glm-4.7"].message
    assert "no litellm_params.model" in by_name["deepseek-chat"].message
    assert by_name["deepseek-chat"].line == line_of(fixture, "litellm_params:", after="model_name: deepseek-chat")


def test_zai_default_variable_is_inferred(dataset):
    finding = only(check(FIXTURES / "zai_default_env.yaml", dataset), "env_var_mismatch")
    assert "no api_key: LiteLLM reads ZAI_API_KEY by default, but the team keeps this key in ZHIPU_API_KEY" in (
        finding.message
    )
    assert finding.context["key"] == "ZAI_API_KEY"
    assert finding.context["inferred"] is True


def test_gemini_default_variable_warns_that_google_api_key_wins(dataset):
    findings = check(FIXTURES / "gemini_default_env.yaml", dataset)
    warning = only(findings, "env_var_mismatch")
    assert warning.severity == "warning"
    assert "GOOGLE_API_KEY before GEMINI_API_KEY" in warning.message


def test_openai_base_url_to_unknown_host_names_the_host(dataset):
    finding = only(check(FIXTURES / "openai_base_unknown.yaml", dataset), "undocumented_provider")
    assert finding.context["host"] == "llm-relay.example.net"
    assert "'llm-relay.example.net'" in finding.message


def test_openai_base_url_without_key_would_send_the_openai_key(dataset):
    finding = only(check(FIXTURES / "openai_base_default_key.yaml", dataset), "env_var_mismatch")
    assert finding.context["provider"] == "deepseek"
    assert "reads OPENAI_API_KEY by default" in finding.message


def test_undocumented_models_say_what_is_expected(dataset):
    other = only(check(FIXTURES / "model_under_other_provider.yaml", dataset), "undocumented_model")
    assert "documented under zai" in other.message
    assert "zai/glm-4.7" in other.message
    upstream = only(check(FIXTURES / "upstream_mismatch.yaml", dataset), "undocumented_model")
    assert "expected anthropic/claude-sonnet-4-5" in upstream.message
    unknown = only(check(FIXTURES / "undocumented_model_name.yaml", dataset), "undocumented_model")
    assert unknown.context == {"model_name": "gpt-4o", "provider": "openai", "entry": "model_list[0]"}


def test_credentials(dataset):
    wrong = only(check(FIXTURES / "credentials_wrong_var.yaml", dataset), "env_var_mismatch")
    assert wrong.context["key"] == "CLAUDE_API_KEY"
    assert "credential 'anthropic-main'" in wrong.message
    missing_fixture = FIXTURES / "credentials_missing.yaml"
    missing = only(check(missing_fixture, dataset), "env_var_mismatch")
    assert "no credential named 'anthropic-primary'" in missing.message
    assert missing.line == line_of(missing_fixture, "litellm_credential_name: anthropic-primary")


def test_a_credentials_api_base_counts_as_the_deployments(dataset, tmp_path):
    body = "credential_list:\n  - credential_name: zai-main\n    credential_values:\n"
    body += "      api_key: os.environ/ZHIPU_API_KEY\n      api_base: {base}\nmodel_list:\n"
    body += deployment("glm-4.7", "zai/glm-4.7", "litellm_credential_name: zai-main")
    good = write(tmp_path / "good.yaml", body.format(base="https://open.bigmodel.cn/api/paas/v4"))
    assert [f for f in check(good, dataset) if f.severity == "error"] == []
    bad = write(tmp_path / "bad.yaml", body.format(base="https://api.z.ai/api/paas/v4"))
    finding = only(check(bad, dataset), "key_platform_mismatch")
    assert "credential 'zai-main'" in finding.message


def test_each_deployment_of_a_balanced_group_is_checked(dataset):
    finding = only(check(FIXTURES / "load_balance_mixed.yaml", dataset), "undocumented_provider")
    assert finding.context == {
        "model_name": "claude-sonnet-4.5",
        "provider": "openrouter",
        "entry": "model_list[1]",
    }


def test_catch_all_fails_and_provider_wildcard_warns(dataset):
    star = only(check(FIXTURES / "catch_all.yaml", dataset), "catch_all_route")
    assert star.severity == "error"
    wildcard = only(check(FIXTURES / "wildcard_provider.yaml", dataset), "catch_all_route")
    assert wildcard.severity == "warning"
    assert "any openai model" in wildcard.message


def test_unserved_model_names_model_and_provider(dataset):
    findings = check(FIXTURES / "unserved_model.yaml", dataset)
    warnings = [f for f in findings if f.reason == UNSERVED]
    assert {f.context["model_name"] for f in warnings} == {"glm-4.5-flash", "fast"}
    model = next(f for f in warnings if f.context["model_name"] == "glm-4.5-flash")
    assert model.severity == "warning"
    assert model.context == {"model_name": "glm-4.5-flash", "provider": "zai"}
    group = next(f for f in warnings if f.context["model_name"] == "fast")
    assert "model group 'fast'" in group.message


def test_literal_secrets_are_located(dataset):
    master = FIXTURES / "literal_master_key.yaml"
    finding = only(check(master, dataset), "literal_secret")
    assert finding.context == {"key": "general_settings.master_key"}
    assert finding.line == line_of(master, "master_key:")
    environment = only(check(FIXTURES / "environment_secret.yaml", dataset), "literal_secret")
    assert environment.context == {"key": "environment_variables.LANGFUSE_SECRET_KEY"}


# --- Providers and bare names: the pinned version's tables -------------------------------------------------


def test_the_tables_are_generated_from_the_pinned_litellm():
    pins = (ROOT / "requirements-litellm.txt").read_text(encoding="utf-8")
    assert re.search(rf"^litellm=={re.escape(litellm_tables.VERSION)}$", pins, re.MULTILINE)
    source = Path(litellm_tables.__file__).read_text(encoding="utf-8")
    assert "make sync-litellm" in source.split('"""', 2)[1]
    assert len(litellm_tables.PROVIDERS) > 99  # the hand-typed table had 99
    for name in litellm_tables.PROVIDERS | litellm_tables.JSON_PROVIDERS:
        assert re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name), name
    routed_to = set(litellm_tables.KNOWN_NAMES.values()) | {p for _, p in litellm_tables.ROUTING_RULES}
    routed_to |= {p for _, p in litellm_tables.COMPATIBLE_ENDPOINTS if p}
    assert routed_to <= litellm_tables.PROVIDERS | litellm_tables.JSON_PROVIDERS | {"anyscale"}
    for pattern, _ in litellm_tables.ROUTING_RULES:
        re.compile(pattern)
    assert litellm_tables.MODEL_NAME_PROVIDERS <= litellm_tables.PROVIDERS
    assert litellm_tables.AUTHENTICATING_PROVIDERS <= litellm_tables.PROVIDERS


def test_every_documented_prefix_is_a_provider_of_the_pinned_version(dataset):
    for provider in dataset.providers.providers.values():
        assert provider.litellm_prefix in litellm_tables.PROVIDERS
        for model in provider.models:
            assert route_model(provider.route(model)) is not None


@pytest.mark.parametrize("prefix", ["chatgpt", "minimax", "nano-gpt", "moonshot", "xiaomi_mimo"])
def test_a_prefix_of_the_pinned_version_routes(prefix):
    assert prefix in litellm_tables.PROVIDERS | litellm_tables.JSON_PROVIDERS
    route = route_model(f"{prefix}/some-model")
    assert route is not None and route.litellm == prefix and route.upstream == "some-model"


def test_prefixes_litellm_has_none_for_do_not_route():
    for prefix in ("zhipu", "siliconflow", "google", "claude"):
        assert prefix not in litellm_tables.PROVIDERS | litellm_tables.JSON_PROVIDERS
        assert route_model(f"{prefix}/some-model") is None


def test_pinned_providers_are_undocumented_not_unroutable(dataset):
    findings = check(FIXTURES / "providers_of_the_pinned_version.yaml", dataset)
    providers = {f.context["provider"] for f in findings if f.reason == "undocumented_provider"}
    assert providers == {"chatgpt", "minimax", "nano-gpt"}
    assert not [f for f in findings if "has no" in f.message]


def test_bare_names_route_as_get_llm_provider_routes_them(dataset):
    assert litellm_tables.KNOWN_NAMES["computer-use-preview"] == "openai"
    assert route_model("computer-use-preview") == Route("openai", "computer-use-preview")
    finding = only(check(FIXTURES / "bare_known_name.yaml", dataset), "undocumented_model")
    assert finding.context["provider"] == "openai"
    assert "not a documented openai model" in finding.message
    # Rules rather than lists: fine-tuned ids, image models, the price map's routing rules.
    assert route_model("ft:gpt-4o-mini:acme::abc123").litellm == "openai"
    assert route_model("gpt-image-9").litellm == "openai"
    assert route_model("claude-newfamily-5").litellm == "anthropic"
    assert route_model("us.anthropic.claude-future-9").litellm == "bedrock"
    assert route_model("no-such-model-anywhere") is None
    assert route_model("openai") is None  # a provider's name is no model


def test_an_api_base_on_a_known_endpoint_names_the_provider():
    assert route_model("deepseek-chat", api_base="https://api.deepseek.com/v1").litellm == "deepseek"
    assert route_model("deepseek-chat", api_base="https://api.deepseek.com/v1/").litellm == "deepseek"
    # Parsed URLs, not substrings: another host that merely contains the endpoint is no match.
    assert route_model("deepseek-chat", api_base="https://attacker.example/api.deepseek.com/v1") is None
    # A prefix wins over the endpoint.
    assert route_model("openai/deepseek-chat", api_base="https://api.deepseek.com/v1").litellm == "openai"


def test_custom_llm_provider_is_prefixed_as_litellm_does():
    assert route_model("glm-4.7", custom="zai") == route_model("zai/glm-4.7")
    assert route_model("zai/glm-4.7", custom="zai").upstream == "glm-4.7"


# --- Includes, duplicate keys and loading as LiteLLM does ---------------------------------------------------


def test_includes_are_concatenated_in_litellm_order():
    proxy = read_proxy_config(FIXTURES / "include_nested" / "config.yaml", display_root=FIXTURES)
    files = [d.file for d in proxy.items("model_list")]
    assert (
        files
        == ["include_nested/config.yaml"] * 5
        + ["include_nested/gemini.yaml"] * 2
        + ["include_nested/more.yaml"] * 2
        + ["include_nested/chinese.yaml"] * 4
    )
    assert proxy.mapping("general_settings").file == "include_nested/config.yaml"


def test_a_nested_include_is_read_next_to_the_file_that_declares_it(dataset):
    root = FIXTURES / "include_declaring_dir"
    proxy = read_proxy_config(root / "config.yaml", display_root=FIXTURES)
    assert [d.file for d in proxy.items("model_list")] == [
        "include_declaring_dir/config.yaml",
        "include_declaring_dir/sub/models.yaml",
    ]
    finding = only(check(root / "config.yaml", dataset, display_root=ROOT), "undocumented_provider")
    assert finding.file == "tests/fixtures/configs/include_declaring_dir/sub/models.yaml"
    assert finding.context["provider"] == "openrouter"
    warning = only(proxy.warnings, "include_resolution")
    assert warning.file == "include_declaring_dir/sub/a.yaml"
    assert warning.line == line_of(root / "sub" / "a.yaml", "- models.yaml")
    assert "matches two files" in warning.message


def test_a_nested_include_found_only_beside_the_main_config_is_read_with_a_warning():
    root = FIXTURES / "include_root_fallback"
    proxy = read_proxy_config(root / "config.yaml", display_root=FIXTURES)
    assert [d.file for d in proxy.items("model_list")] == [
        "include_root_fallback/sub/a.yaml",
        "include_root_fallback/models.yaml",
    ]
    warning = only(proxy.warnings, "include_resolution")
    assert warning.severity == "warning"
    assert "next to the main config" in warning.message


def test_a_cycle_of_includes_reads_each_file_once():
    proxy = read_proxy_config(FIXTURES / "include_cycle" / "config.yaml", display_root=FIXTURES)
    assert [t.file for t in proxy.trees] == ["include_cycle/config.yaml", "include_cycle/models.yaml"]
    assert len(proxy.items("model_list")) == 1


def test_include_errors_say_why(dataset):
    with pytest.raises(Unreadable) as missing:
        check(FIXTURES / "include_missing" / "config.yaml", dataset, display_root=ROOT)
    (finding,) = missing.value.findings
    assert finding.file == "tests/fixtures/configs/include_missing/config.yaml"
    assert finding.line == line_of(FIXTURES / "include_missing" / "config.yaml", "- missing.yaml")
    assert "missing.yaml" in finding.message


def test_an_empty_include_value_is_refused_as_litellm_refuses_it(dataset, tmp_path):
    with pytest.raises(Unreadable) as caught:
        check(write(tmp_path / "config.yaml", "include:\nmodel_list: []\n"), dataset)
    assert "'include' must be a list" in caught.value.findings[0].message


def test_an_empty_included_file_adds_nothing(dataset, tmp_path):
    write(tmp_path / "empty.yaml", "# nothing yet\n")
    config = write(tmp_path / "config.yaml", "include:\n  - empty.yaml\nmodel_list: []\n")
    assert [f for f in check(config, dataset) if f.severity == "error"] == []


def test_a_list_replaced_by_an_include_is_a_warning(dataset, tmp_path):
    write(tmp_path / "later.yaml", "model_list:\n")
    config = write(
        tmp_path / "config.yaml",
        "include:\n  - later.yaml\nmodel_list:\n" + deployment("gpt-5.1", "openai/gpt-5.1"),
    )
    proxy = read_proxy_config(config)
    assert proxy.items("model_list") == []
    assert "replaces the 1 item(s)" in only(proxy.warnings, "include_resolution").message


def test_duplicate_top_level_keys_keep_the_last_block_and_warn(dataset):
    fixture = FIXTURES / "duplicate_top_level.yml"
    proxy = read_proxy_config(fixture)
    settings = proxy.mapping("litellm_settings")
    assert dict(settings.node) == {"num_retries": 2}
    assert settings.line == line_of(fixture, "litellm_settings:", after="model_list:")
    warning = only(check(fixture, dataset), "duplicate_key")
    assert warning.line == line_of(fixture, "litellm_settings:")
    assert warning.context == {"key": "litellm_settings"}
    assert f"line {settings.line}" in warning.message


def test_a_duplicate_key_inside_a_deployment_keeps_the_last_value(dataset, tmp_path):
    config = write(
        tmp_path / "config.yaml",
        "model_list:\n" + deployment("gpt-5.1", "openrouter/openai/gpt-5.1", "model: openai/gpt-5.1"),
    )
    findings = check(config, dataset)
    assert not [f for f in findings if f.reason in UNDOCUMENTED]
    assert only(findings, "duplicate_key").line == 4


def test_yaml_1_1_is_read_as_pyyaml_reads_it(tmp_path):
    config = write(tmp_path / "config.yaml", "litellm_settings:\n  drop_params: yes\n  ratio: 1e-6\n  n: 0o17\n")
    node = read_proxy_config(config).mapping("litellm_settings").node
    assert node["drop_params"] is True
    assert node["ratio"] == "1e-6"  # YAML 1.1 floats need a dot
    assert node["n"] == "0o17"


def test_a_merge_key_keeps_the_keys_written_beside_it(tmp_path):
    config = write(
        tmp_path / "config.yaml",
        "base: &base {model: openai/gpt-5-mini, rpm: 1}\nmodel_list:\n"
        "  - model_name: gpt-5.1\n    litellm_params:\n      <<: *base\n      model: openai/gpt-5.1\n",
    )
    proxy = read_proxy_config(config)
    params = proxy.items("model_list")[0].node["litellm_params"]
    assert dict(params) == {"model": "openai/gpt-5.1", "rpm": 1}
    assert proxy.warnings == []


# --- Secrets: what looks like one -----------------------------------------------------------------------------


NO_SECRETS = [0.00000125, 3, True, None, "0.0000025", "1e-6", "os.environ/OPENAI_API_KEY", "none", "EMPTY"]
NO_SECRETS += ["fake-key", "not-needed", "any-api-key-will-do", "********", "xxxxxxxx", "a", "two words", "dummy"]


@pytest.mark.parametrize("value", NO_SECRETS)
def test_values_that_are_no_secret(value):
    assert not looks_like_secret(value)


@pytest.mark.parametrize("value", ["sk-1234", "hunter22", "pw-" + "r" * 20, "fake-key-" + "7f3a9c" * 3])
def test_values_that_are_secrets(value):
    assert looks_like_secret(value)


def test_cost_fields_are_never_secrets(dataset, tmp_path):
    fields = [f"{kind}_cost_per_token: 0.00000{n}25" for n in range(1, 10) for kind in ("input", "output")]
    fields += [f"cache_read_input_token_cost: 1.{n}e-07" for n in range(3)]
    body = "model_list:\n" + "".join(
        deployment(f"gpt-{n}", "openai/gpt-5.1", "api_key: os.environ/OPENAI_API_KEY", *fields) for n in range(8)
    )
    config = write(tmp_path / "config.yaml", body)
    assert sum(1 for line in body.splitlines() if "_token" in line) > 145
    assert [f for f in check(config, dataset) if f.reason == "literal_secret"] == []


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
    findings = check(config, dataset, display_root=tmp_path)
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


def test_the_secret_walk_visits_a_shared_node_once(tmp_path):
    config = write(
        tmp_path / "config.yaml",
        "a: &a {redis_password: pw-" + "q" * 20 + "}\nb: [*a, *a, *a]\nc: {x: *a, y: *a}\n",
    )
    tree = read_proxy_config(config).main.node
    assert [path for path, *_ in secret_settings(tree)] == ["a.redis_password"]


# --- api_base: the platform the keys come from --------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "api_base", "reason"),
    [
        ("zai/glm-4.7", "https://open.bigmodel.cn/api/paas/v4", None),
        ("zai/glm-4.7", "https://api.z.ai/api/paas/v4", "key_platform_mismatch"),
        ("zai/glm-4.7", "https://api.deepseek.com/v1", "key_platform_mismatch"),
        ("openai/glm-4.7", "https://open.bigmodel.cn/api/paas/v4", None),
        ("openai/glm-4.7", "https://api.z.ai/api/paas/v4", "undocumented_provider"),
        ("openai/glm-4.7", "os.environ/GLM_API_BASE", "undocumented_model"),
        ("zai/glm-4.7", "os.environ/GLM_API_BASE", "key_platform_mismatch"),
    ],
)
def test_api_base_decides_the_provider_and_the_platform(dataset, tmp_path, model, api_base, reason):
    config = tmp_path / "config.yaml"
    write(config, "model_list:\n" + deployment("glm-4.7", model, f"api_base: {api_base}", "api_key: os.environ/X"))
    failures = {f.reason for f in check(config, dataset) if f.severity == "error"} - {"env_var_mismatch"}
    assert failures == ({reason} if reason else set())


def test_the_platform_finding_says_what_to_set(dataset):
    fixture = FIXTURES / "zai_default_base.yaml"
    finding = only(check(fixture, dataset), "key_platform_mismatch")
    assert finding.line == line_of(fixture, "model: zai/glm-4.7")
    assert finding.context["host"] == "api.z.ai"
    assert "https://api.z.ai/api/paas/v4" in finding.message
    assert "ZAI_API_BASE is unset" in finding.message
    assert "write api_base: https://open.bigmodel.cn/api/paas/v4" in finding.message
    assert "ZAI_API_BASE=https://open.bigmodel.cn/api/paas/v4" in finding.message
    explicit = only(check(FIXTURES / "zai_international_base.yaml", dataset), "key_platform_mismatch")
    assert explicit.line == line_of(FIXTURES / "zai_international_base.yaml", "api_base:")
    assert "ZAI_API_BASE=" not in explicit.message


def test_the_variable_litellm_reads_decides_where_a_deployment_without_api_base_goes(dataset, tmp_path):
    fixture = FIXTURES / "zai_default_base.yaml"
    assert check(fixture, dataset, environ={"ZAI_API_BASE": "https://open.bigmodel.cn/api/paas/v4"}) == [
        f for f in check(fixture, dataset) if f.reason == UNSERVED
    ]
    elsewhere = only(
        check(fixture, dataset, environ={"ZAI_API_BASE": "https://relay.example/v4"}), "key_platform_mismatch"
    )
    assert "relay.example" in elsewhere.message
    assert "ZAI_API_BASE, as the deployment has no api_base" in elsewhere.message
    # The config's own environment_variables are what the proxy runs with.
    config = write(
        tmp_path / "config.yaml",
        fixture.read_text(encoding="utf-8")
        + "environment_variables:\n  ZAI_API_BASE: https://open.bigmodel.cn/api/paas/v4\n",
    )
    assert not [f for f in check(config, dataset) if f.reason == "key_platform_mismatch"]


def test_a_documented_api_base_is_on_its_platform_and_agrees_with_litellm(dataset):
    for pid, provider in dataset.providers.providers.items():
        assert provider.key_platform is not None and provider.litellm_api_base is not None, pid
        assert host_of(provider.key_platform.api_base) in provider.api_hosts
        variables, default = API_BASES[provider.litellm_prefix]
        assert provider.litellm_api_base.env == variables[0]
        assert provider.litellm_api_base.default == default
        assert provider.litellm_prefix in DEFAULT_KEY_VARIABLES
    zai = dataset.providers.providers["zai"]
    assert zai.needs_api_base
    assert [pid for pid, p in dataset.providers.providers.items() if p.needs_api_base] == ["zai"]


def test_every_documented_model_is_sent_to_its_key_platform_by_the_sample_config(dataset):
    """The sample config, read as LiteLLM reads it, sends every documented model to the platform issuing its keys."""
    proxy = read_proxy_config(ROOT / "data" / "litellm" / "config.yaml")
    served = {}
    for entry in proxy.items("model_list"):
        served.setdefault(entry.node["model_name"], []).append(entry.node["litellm_params"])
    for provider in dataset.providers.providers.values():
        for model in provider.models:
            for params in served[model.name]:
                default = API_BASES[provider.litellm_prefix][1]
                assert host_of(params.get("api_base") or default) in provider.api_hosts


# --- Model groups in the data -------------------------------------------------------------------------------


def test_a_documented_group_accepts_exactly_its_members(dataset):
    group = only(check(FIXTURES / "group_wrong_member.yaml", dataset), "undocumented_model")
    assert group.context["group"] == "fast"
    assert group.line == line_of(FIXTURES / "group_wrong_member.yaml", "model: gemini/gemini-2.5-pro")
    assert "none of its members" in group.message
    assert "gemini-2.5-flash (gemini/gemini-2.5-flash)" in group.message


def test_an_undocumented_group_says_how_to_document_it(dataset):
    findings = [f for f in check(FIXTURES / "group_undocumented.yaml", dataset) if f.reason == "undocumented_model"]
    assert [f.context["entry"] for f in findings] == ["model_list[0]", "model_list[1]"]
    for finding in findings:
        assert finding.context["group"] == "quick"
        assert "model_groups in data/team.yaml" in finding.message
        assert "name: quick, members: [gemini-2.5-flash, glm-4.5-flash]" in finding.message


def _group(data, **changes):
    group = {
        "name": "fast",
        "members": ["acme-small", "globex-chat"],
        "purpose": {"zh": "便宜又快的请求。", "en": "Cheap, quick requests."},
    }
    data["team"]["model_groups"] = [{**group, **changes}]


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"name": "acme-small"}, "model_groups[0].name", "already a model of provider 'acme'"),
        ({"members": ["acme-small", "nope"]}, "model_groups[0].members[1]", "'nope' is not a documented model"),
        ({"members": ["acme-small", "acme-small"]}, "model_groups[0].members[1]", "listed twice"),
        ({"members": ["acme-small"]}, "model_groups[0].members", "at least 2"),
    ],
)
def test_group_rules(data_factory, changes, path, message):
    data_dir = data_factory(lambda d: _group(d, **changes))
    result = run_cli("validate", "--data", str(data_dir))
    assert result.returncode == 1, result.stdout + result.stderr
    assert path in result.stderr and message in result.stderr, result.stderr


def test_a_valid_group_loads(data_factory):
    dataset = load(data_factory(_group))
    assert [g.members for g in dataset.team.model_groups] == [["acme-small", "globex-chat"]]


def test_a_key_platform_must_be_on_the_providers_api_hosts(data_factory):
    def mutate(d):
        acme = d["providers"]["providers"]["acme"]
        acme["key_platform"] = {"name": {"zh": "平台", "en": "Platform"}, "api_base": "https://elsewhere.example/v1"}
        acme["litellm_api_base"] = {"env": "ACME_API_BASE", "default": "https://api.acme.example/v1"}

    result = run_cli("validate", "--data", str(data_factory(mutate)))
    assert result.returncode == 1
    assert "providers.acme.key_platform.api_base" in result.stderr
    assert "'elsewhere.example' is not one of api_hosts" in result.stderr


def test_a_key_platform_comes_with_litellms_default(data_factory):
    def mutate(d):
        acme = d["providers"]["providers"]["acme"]
        acme["key_platform"] = {"name": {"zh": "平台", "en": "Platform"}, "api_base": "https://api.acme.example/v1"}

    result = run_cli("validate", "--data", str(data_factory(mutate)))
    assert result.returncode == 1
    assert "add litellm_api_base" in result.stderr


# --- The command line ---------------------------------------------------------------------------------------


def test_providers_option_reads_the_named_file(data_factory, tmp_path):
    data = data_factory()
    renamed = data / "my-providers.yaml"
    (data / "providers.yaml").rename(renamed)
    text = renamed.read_text(encoding="utf-8").replace("name: acme-large", "name: acme-renamed", 1)
    renamed.write_text(text, encoding="utf-8")
    config = str(data / "litellm" / "config.yaml")
    result = run_cli("check-config", config, "--providers", str(renamed), "--format", "json")
    assert result.returncode == 1, result.stderr
    assert "acme-renamed" in result.stdout
    # A problem in the named file is reported under its own name.
    renamed.write_text(text.replace("tier: economy", "tier: luxury", 1), encoding="utf-8")
    broken = run_cli("check-config", config, "--providers", str(renamed))
    assert broken.returncode == 1
    assert f"{renamed}:" in broken.stderr and "luxury" in broken.stderr
    missing = run_cli("check-config", config, "--providers", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2
    assert "nope.yaml" in missing.stderr


# --- Hostile configs: one finding naming file and line, no traceback, no hang -----------------------------


def run_command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m runbooks ARGS` in a process of its own, stopped if it runs longer than a minute."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "runbooks", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def hostile(data_factory, tmp_path):
    """Run check-config on tmp_path/config.yaml; assert exit 2 and one message at `expect_file:expect_line`."""
    providers = data_factory() / "providers.yaml"
    work = tmp_path / "work"
    work.mkdir()

    def run_it(expect_file: str, expect_line: int) -> str:
        result = run_command("check-config", "config.yaml", "--providers", str(providers), cwd=work)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        problems = [line for line in result.stderr.splitlines() if ": parse_error: " in line]
        assert len(problems) == 1, result.stderr
        assert problems[0].startswith(f"{expect_file}:{expect_line}: "), problems[0]
        return problems[0]

    run_it.dir = work  # type: ignore[attr-defined]
    return run_it


def test_hostile_an_include_that_is_a_symlink_loop(hostile):
    (hostile.dir / "loop.yaml").symlink_to(hostile.dir / "loop.yaml")
    write(hostile.dir / "config.yaml", "model_list: []\ninclude:\n  - loop.yaml\n")
    assert "symlink loop" in hostile("config.yaml", 3)


def test_hostile_an_include_that_is_a_directory(hostile):
    (hostile.dir / "models").mkdir()
    write(hostile.dir / "config.yaml", "include:\n  - models\n")
    assert "names a directory" in hostile("config.yaml", 2)


def test_hostile_an_include_that_is_a_fifo(hostile):
    os.mkfifo(hostile.dir / "models.yaml")
    write(hostile.dir / "config.yaml", "include:\n  - models.yaml\n")
    assert "not a regular file" in hostile("config.yaml", 2)


def test_hostile_an_error_in_an_included_file_names_the_include(hostile):
    write(hostile.dir / "sub" / "models.yaml", "model_list:\n  - model_name: x\n     bad: indent\n")
    write(hostile.dir / "sub" / "a.yaml", "include:\n  - models.yaml\n")
    write(hostile.dir / "config.yaml", "# main\ninclude:\n  - sub/a.yaml\n")
    message = hostile("sub/models.yaml", 3)
    assert "included from sub/a.yaml:2 ← config.yaml:3" in message


def test_hostile_a_python_tag(hostile):
    write(hostile.dir / "config.yaml", "general_settings:\n  master_key: !!python/object/apply:os.system [true]\n")
    message = hostile("config.yaml", 2)
    assert "yaml.safe_load" in message and "python/object/apply" in message


def test_hostile_an_alias_bomb(hostile):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 10)]
    write(hostile.dir / "config.yaml", "\n".join(lines) + "\nmodel_list: []\n")
    message = hostile("config.yaml", 6)
    assert f"more than {MAX_EXPANDED_NODES:,} nodes" in message


def test_hostile_deep_nesting_in_general_settings(hostile):
    depth = 5000
    write(hostile.dir / "config.yaml", "model_list: []\ngeneral_settings: " + "{a: " * depth + "1" + "}" * depth + "\n")
    message = hostile("config.yaml", 2)
    assert f"more than {MAX_DEPTH} levels" in message


def test_hostile_a_self_referencing_alias(hostile):
    write(hostile.dir / "config.yaml", "model_list: []\ngeneral_settings: &g\n  again: *g\n")
    assert "refers to the node that contains it" in hostile("config.yaml", 2)


def test_nesting_within_the_bound_is_read_and_walked(dataset, tmp_path):
    depth = MAX_DEPTH - 2
    body = "general_settings: " + "{a: " * depth + "{master_key: sk-" + "z" * 20 + "}" + "}" * depth + "\n"
    findings = check(write(tmp_path / "config.yaml", "model_list: []\n" + body), dataset)
    assert only(findings, "literal_secret").context["key"].count(".a") == depth


# --- The pages: key platform, API base and its variable, model groups --------------------------------------


@pytest.fixture(scope="module")
def pages(dataset):
    from runbooks.render import render
    from runbooks.site import Site

    site = Site.of(dataset)
    return lambda path, lang: render(site.page(path), site, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_provider_pages_show_the_key_platform_the_api_base_and_its_variable(dataset, pages, lang):
    for pid, provider in dataset.providers.providers.items():
        facts = pages(f"providers/{pid}.md", lang).split("{ #facts }", 1)[1].split("\n## ", 1)[0]
        assert provider.key_platform.name(lang) in facts
        assert f"`{provider.key_platform.api_base}`" in facts
        assert f"`{provider.litellm_api_base.env}`" in facts
        assert f"`{provider.litellm_api_base.default}`" in facts
        needed = "`config.yaml`" in facts.split(f"`{provider.key_platform.api_base}`", 1)[1].split("\n", 1)[0]
        assert needed == provider.needs_api_base, (pid, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_members_provider_pages_and_the_config_map_show_each_group(dataset, pages, lang):
    (group,) = dataset.team.model_groups
    owners = {pid for pid, p in dataset.providers.providers.items() for m in p.models if m.name in group.members}
    for pid in dataset.providers.providers:
        shown = f"`{group.name}`" in pages(f"providers/{pid}.md", lang).split("{ #models }", 1)[1].split("\n## ", 1)[0]
        assert shown == (pid in owners), (pid, lang)
    config_map = pages("config-map.md", lang)
    groups = config_map.split("{ #model-groups }", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in groups.splitlines() if line.startswith(f"| `{group.name}` |"))
    assert group.purpose(lang).split("。")[0].split(".")[0] in row
    for member in group.members:
        assert f"`{member}`" in row
    zai = dataset.providers.providers["zai"]
    glm = next(line for line in config_map.splitlines() if line.startswith("| `glm-4.7` |"))
    assert f"`{zai.key_platform.api_base}`" in glm
    gpt = next(line for line in config_map.splitlines() if line.startswith("| `gpt-5.1` |"))
    assert "https://" not in gpt.split("|")[4]


def test_each_key_page_is_on_its_key_platform(dataset):
    for pid, provider in dataset.providers.providers.items():
        key_page = host_of(provider.urls.api_keys)
        assert key_page in provider.key_platform.name("zh") and key_page in provider.key_platform.name("en"), pid

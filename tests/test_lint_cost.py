"""The cost lint: the real config is clean; each fixture gets its reasons, lines, severity and exit code."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from runbooks.checks.config import check_config
from runbooks.checks.cost import lint_cost
from runbooks.findings import Unreadable
from runbooks.proxy_config import read_proxy_config

from .cli import run_cli
from .conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "cost"

# (fixture, reasons of the warnings)
CASES = [
    ("clean.yaml", set()),
    ("budget_for_new_keys.yaml", set()),
    ("unbounded_expensive.yaml", {"unbounded_expensive_model"}),
    ("limits_not_enforced.yaml", {"rate_limits_not_enforced"}),
    ("no_budget.yaml", {"no_budget"}),
    ("open_to_all_keys.yaml", {"expensive_model_open_to_all_keys"}),
    ("default_key_reaches_premium.yaml", {"expensive_model_open_to_all_keys"}),
    ("no_retries.yaml", {"unbounded_retries"}),
    ("too_many_retries.yaml", {"unbounded_retries"}),
    ("cheap_only.yaml", {"no_budget", "unbounded_retries"}),
    ("include/config.yaml", {"unbounded_expensive_model"}),
    ("billing_retried.yaml", {"billing_errors_retried"}),
]


def line_of(file: Path, needle: str) -> int:
    return next(n for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_real_config_is_clean(dataset):
    assert lint_cost(ROOT / "data" / "litellm" / "config.yaml", dataset) == []


@pytest.mark.parametrize(("fixture", "reasons"), CASES, ids=[c[0] for c in CASES])
def test_fixture_reasons(dataset, fixture, reasons):
    findings = lint_cost(FIXTURES / fixture, dataset, display_root=ROOT)
    assert {f.reason for f in findings} == reasons, [str(f) for f in findings]
    assert all(f.severity == "warning" for f in findings)
    assert all(f.file.startswith("tests/fixtures/cost/") and f.line >= 1 for f in findings)


@pytest.mark.parametrize("fixture", [c[0] for c in CASES])
def test_fixtures_differ_only_in_cost(dataset, fixture):
    """Every fixture is a config check-config accepts, so lint-cost is what tells them apart."""
    assert [f for f in check_config(FIXTURES / fixture, dataset) if f.severity == "error"] == []


@pytest.mark.parametrize("fixture", [c[0] for c in CASES])
def test_both_checks_find_the_same_in_a_config_read_once(dataset, fixture):
    # `check` reads the proxy config once and hands it to both.
    path = FIXTURES / fixture
    proxy = read_proxy_config(path, display_root=ROOT)
    assert lint_cost(proxy, dataset) == lint_cost(path, dataset, display_root=ROOT)
    assert check_config(proxy, dataset) == check_config(path, dataset, display_root=ROOT)


def test_every_fixture_has_a_case():
    mains = {p.relative_to(FIXTURES).as_posix() for p in FIXTURES.glob("*.yaml")}
    mains |= {p.relative_to(FIXTURES).as_posix() for p in FIXTURES.glob("*/config.yaml")}
    assert mains == {c[0] for c in CASES}


def test_strict_makes_every_risk_an_error(dataset):
    findings = lint_cost(FIXTURES / "no_budget.yaml", dataset, strict=True)
    assert [f.severity for f in findings] == ["error"]


def test_unbounded_model_points_at_its_deployment_and_names_what_is_missing(dataset):
    fixture = FIXTURES / "unbounded_expensive.yaml"
    (finding,) = lint_cost(fixture, dataset)
    assert finding.line == line_of(fixture, "model_name: gemini-2.5-pro")
    assert finding.context == {"model_name": "gemini-2.5-pro", "tier": "premium"}
    assert "no tpm" in finding.message and "no rpm" not in finding.message


def test_finding_in_an_included_file_names_that_file(dataset):
    (finding,) = lint_cost(FIXTURES / "include" / "config.yaml", dataset, display_root=ROOT)
    assert finding.file == "tests/fixtures/cost/include/models.yaml"
    assert finding.line == line_of(FIXTURES / "include" / "models.yaml", "model_name: gpt-5.1")


def test_default_key_finding_points_at_the_defaults(dataset):
    fixture = FIXTURES / "default_key_reaches_premium.yaml"
    (finding,) = lint_cost(fixture, dataset)
    assert finding.line == line_of(fixture, "models: [economy, premium]")
    assert "'premium'" in finding.message


def test_too_many_retries_names_the_setting(dataset):
    fixture = FIXTURES / "too_many_retries.yaml"
    (finding,) = lint_cost(fixture, dataset)
    assert finding.line == line_of(fixture, "num_retries: 10")
    assert finding.context["key"] == "litellm_settings.num_retries"


def test_expensive_tiers_come_from_the_data(dataset):
    """With no tier marked expensive, the same unlimited deployment is no longer a risk."""
    cost = dataset.team.cost_control
    tiers = [t.model_copy(update={"expensive": False}) for t in cost.tiers]
    team = dataset.team.model_copy(update={"cost_control": cost.model_copy(update={"tiers": tiers})})
    cheap = dataclasses.replace(dataset, team=team)
    assert lint_cost(FIXTURES / "open_to_all_keys.yaml", dataset) != []
    assert lint_cost(FIXTURES / "open_to_all_keys.yaml", cheap) == []


def test_unreadable_config_raises(dataset, tmp_path):
    with pytest.raises(Unreadable):
        lint_cost(tmp_path / "missing.yaml", dataset)


# --- The command ------------------------------------------------------------------------------------


def test_command_warns_and_exits_0_then_fails_with_strict():
    fixture = "tests/fixtures/cost/no_retries.yaml"
    warn = run_cli("lint-cost", fixture)
    assert warn.returncode == 0
    assert f"{fixture}:1: warning: unbounded_retries:" in warn.stdout
    assert "lint-cost: pass (0 finding(s), 1 warning(s))" in warn.stdout
    strict = run_cli("lint-cost", fixture, "--strict")
    assert strict.returncode == 1
    assert f"{fixture}:1: unbounded_retries:" in strict.stderr


def test_command_json_output():
    result = run_cli("lint-cost", "tests/fixtures/cost/unbounded_expensive.yaml", "--format", "json")
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert report["verdict"] == "pass" and report["findings"] == []
    (warning,) = report["warnings"]
    assert warning["reason"] == "unbounded_expensive_model"
    assert warning["model_name"] == "gemini-2.5-pro" and warning["tier"] == "premium"


def test_command_on_a_missing_file_exits_2_without_traceback(tmp_path):
    result = run_cli("lint-cost", str(tmp_path / "nowhere.yaml"))
    assert result.returncode == 2
    assert "file not found" in result.stderr and "Traceback" not in result.stderr


def test_command_help_explains_the_risks():
    result = run_cli("lint-cost", "--help")
    assert result.returncode == 0
    for words in ("rpm", "budget", "num_retries", "--strict", "expensive"):
        assert words in result.stdout

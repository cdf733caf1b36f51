"""The schema and loader: real data loads; each broken variant fails at the right file, line and path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runbooks.findings import DataError, Unreadable, dotted
from runbooks.loader import load

from .cli import run_cli


def test_real_data_loads(dataset):
    assert set(dataset.providers.providers) == {"openai", "gemini", "anthropic", "deepseek", "zai"}
    assert {p.litellm_prefix for p in dataset.providers.providers.values()} == {
        "openai",
        "gemini",
        "anthropic",
        "deepseek",
        "zai",
    }


def test_factory_data_is_valid(data_factory):
    loaded = load(data_factory())
    assert list(loaded.providers.providers) == ["acme", "globex"]


def _line(text: str, needle: str, *, after: str | None = None) -> int:
    """1-based number of the first line containing `needle` (after the line containing `after`)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def _acme(data: dict[str, Any]) -> dict[str, Any]:
    return data["providers"]["providers"]["acme"]


def _future() -> dt.date:
    return dt.date.today() + dt.timedelta(days=30)


Variant = tuple[str, Callable[[dict[str, Any]], None], str, tuple[str, str | None], str, str]

# Each variant: (id, change to the valid data, file, (text on the expected line, searched after), path, message).
VARIANTS: list[Variant] = [
    (
        "missing-translation",
        lambda d: _acme(d)["summary"].pop("en"),
        "providers.yaml",
        ("summary:", "acme:"),
        "providers.acme.summary.en",
        "field required",
    ),
    (
        "empty-translation",
        lambda d: _acme(d)["name"].update(zh="   "),
        "providers.yaml",
        ("zh: '   '", "acme:"),
        "providers.acme.name.zh",
        "at least 1 character",
    ),
    (
        "unknown-key",
        lambda d: _acme(d).update(colour="red"),
        "providers.yaml",
        ("colour: red", None),
        "providers.acme.colour",
        "unknown key 'colour' (allowed here: name, summary,",
    ),
    (
        "missing-upstream",
        lambda d: _acme(d)["models"][1].pop("upstream"),
        "providers.yaml",
        ("name: acme-large", None),
        "providers.acme.models[1].upstream",
        "field required",
    ),
    (
        "duplicate-model",
        lambda d: d["providers"]["providers"]["globex"]["models"][0].update(name="acme-large"),
        "providers.yaml",
        ("name: acme-large", "globex:"),
        "providers.globex.models[0].name",
        "'acme-large' is already documented under provider 'acme'",
    ),
    (
        "http-url",
        lambda d: _acme(d)["urls"].update(billing="http://console.acme.example/billing"),
        "providers.yaml",
        ("billing: http://", None),
        "providers.acme.urls.billing",
        "must be an https:// URL",
    ),
    (
        "foreign-payment-host",
        lambda d: _acme(d)["urls"].update(billing="https://acme-billing.example/pay"),
        "providers.yaml",
        ("billing: https://acme-billing.example", None),
        "providers.acme.urls.billing",
        "host 'acme-billing.example' is not one of this provider's domains (acme.example)",
    ),
    (
        "lookalike-host",
        lambda d: _acme(d)["urls"].update(console="https://console.acme.example.evil.example"),
        "providers.yaml",
        ("console: https://console.acme.example.evil", None),
        "providers.acme.urls.console",
        "is not one of this provider's domains",
    ),
    (
        "bad-date",
        lambda d: _acme(d).update(verified_on="2026-13-01"),
        "providers.yaml",
        ("verified_on: '2026-13-01'", None),
        "providers.acme.verified_on",
        "valid date",
    ),
    (
        "future-date",
        lambda d: d["team"].update(verified_on=_future()),
        "team.yaml",
        ("verified_on:", None),
        "verified_on",
        "is in the future",
    ),
    (
        "bad-env-var",
        lambda d: _acme(d).update(env_var="acme_key"),
        "providers.yaml",
        ("env_var: acme_key", None),
        "providers.acme.env_var",
        "does not match the expected form",
    ),
    (
        "duplicate-faq-id",
        lambda d: _acme(d)["faqs"][0].update(id="insufficient-quota"),
        "providers.yaml",
        ("id: insufficient-quota", None),
        "providers.acme.faqs[0].id",
        "FAQ id 'insufficient-quota' is used twice",
    ),
    (
        "unknown-related-faq",
        lambda d: d["team"]["faqs"][0]["related"].append("no-such-faq"),
        "team.yaml",
        ("- no-such-faq", None),
        "faqs[0].related[1]",
        "'no-such-faq' names no FAQ",
    ),
    (
        "unknown-tier",
        lambda d: _acme(d)["models"][0].update(tier="luxury"),
        "providers.yaml",
        ("tier: luxury", None),
        "providers.acme.models[0].tier",
        "unknown tier 'luxury'; data/team.yaml defines: economy, premium",
    ),
    (
        "undocumented-smoke-test-model",
        lambda d: d["team"]["server"].update(smoke_test_model="gpt-unknown"),
        "team.yaml",
        ("smoke_test_model: gpt-unknown", None),
        "server.smoke_test_model",
        "'gpt-unknown' is not a documented model",
    ),
    (
        "duplicate-env-var",
        lambda d: d["providers"]["providers"]["globex"].update(env_var="ACME_API_KEY"),
        "providers.yaml",
        ("env_var: ACME_API_KEY", "globex:"),
        "providers.globex.env_var",
        "'ACME_API_KEY' is already used by provider 'acme'",
    ),
    (
        "uppercase-provider-id",
        lambda d: d["providers"]["providers"].update(Initech=d["providers"]["providers"].pop("globex")),
        "providers.yaml",
        ("Initech:", None),
        "providers.Initech",
        "does not match the expected form",
    ),
    (
        "wrong-type",
        lambda d: _acme(d)["errors"][0].update(status="four-oh-two"),
        "providers.yaml",
        ("status: four-oh-two", None),
        "providers.acme.errors[0].status",
        "valid integer",
    ),
    (
        "no-models",
        lambda d: _acme(d).update(models=[]),
        "providers.yaml",
        ("models: []", None),
        "providers.acme.models",
        "at least 1 item",
    ),
    (
        "unknown-step-link",
        lambda d: _acme(d)["recharge_steps"][0].update(link="checkout"),
        "providers.yaml",
        ("link: checkout", None),
        "providers.acme.recharge_steps[0].link",
        "'console', 'billing', 'api_keys' or 'usage'",
    ),
    (
        "proxy-url-not-loopback",
        lambda d: d["team"]["server"].update(proxy_url="http://10.0.0.8:4001"),
        "team.yaml",
        ("proxy_url: http://10.0.0.8:4001", None),
        "server.proxy_url",
        "loopback host",
    ),
]


@pytest.mark.parametrize("variant", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_broken_variant_is_located(data_factory, variant: Variant):
    _, mutate, file, (needle, after), path, message = variant
    data_dir = data_factory(mutate)
    text = (data_dir / file).read_text(encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load(data_dir)
    expected = (f"data/{file}", _line(text, needle, after=after), path)
    reported = [(f.file, f.line, dotted(f.path), f.message) for f in caught.value.findings]
    assert any(r[:3] == expected and message in r[3] for r in reported), reported
    # As a YAML author reads it: file:line: reason: path: message.
    assert any(str(f).startswith(f"data/{file}:{expected[1]}: {f.reason}: {path}: ") for f in caught.value.findings)


def test_every_problem_is_reported_at_once(data_factory):
    def two_problems(d):
        _acme(d)["summary"].pop("en")
        d["team"]["account"].pop("email")

    with pytest.raises(DataError) as caught:
        load(data_factory(two_problems))
    paths = {(p.file, dotted(p.path)) for p in caught.value.findings}
    assert {("data/providers.yaml", "providers.acme.summary.en"), ("data/team.yaml", "account.email")} <= paths


def test_yaml_syntax_error_names_line_and_column(data_factory):
    data_dir = data_factory()
    team = data_dir / "team.yaml"
    lines = team.read_text(encoding="utf-8").splitlines()
    lines.insert(3, "  broken: [unclosed")
    team.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(Unreadable) as caught:
        load(data_dir)
    (problem,) = caught.value.findings
    assert problem.file == "data/team.yaml"
    assert problem.line >= 4 and problem.column is not None
    assert "YAML syntax error" in problem.message


def test_duplicate_yaml_key_is_a_syntax_error(data_factory):
    data_dir = data_factory()
    providers = data_dir / "providers.yaml"
    text = providers.read_text(encoding="utf-8")
    providers.write_text(text + "  acme:\n    name: {zh: 重复, en: Duplicate}\n", encoding="utf-8")
    with pytest.raises(Unreadable) as caught:
        load(data_dir)
    (problem,) = caught.value.findings
    assert "duplicate key" in problem.message
    assert problem.line == len(text.splitlines()) + 1


def test_missing_file(data_factory):
    data_dir = data_factory()
    (data_dir / "team.yaml").unlink()
    with pytest.raises(Unreadable) as caught:
        load(data_dir)
    (finding,) = caught.value.findings
    assert (finding.file, finding.line, finding.message) == ("data/team.yaml", 0, "file not found")


@pytest.mark.parametrize(
    ("mutate", "code", "needle"),
    [
        (None, 0, "validate: pass (0 finding(s), 0 warning(s))"),
        (lambda d: _acme(d)["models"][1].pop("upstream"), 1, "providers.acme.models[1].upstream: field required"),
    ],
    ids=["valid", "invalid"],
)
def test_validate_command(data_factory, mutate, code, needle):
    data_dir = data_factory(mutate)
    result = run_cli("validate", "--data", str(data_dir))
    assert result.returncode == code
    assert needle in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_validate_command_unreadable_input_exits_2(tmp_path: Path):
    result = run_cli("validate", "--data", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "file not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_command_on_real_data():
    result = run_cli("validate")
    assert result.returncode == 0, result.stderr
    assert "validate: pass" in result.stdout

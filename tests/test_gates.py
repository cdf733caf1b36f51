"""The remaining gates (links, freshness, payment links) and the `python -m runbooks` command line."""

from __future__ import annotations

import datetime as dt
import json
import random
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runbooks import cli, publish
from runbooks.audience import AUDIENCES
from runbooks.checks import Report
from runbooks.checks.config import check_config
from runbooks.checks.cost import lint_cost
from runbooks.checks.freshness import check_freshness
from runbooks.checks.links import check_links
from runbooks.cli import Gate, site_gates
from runbooks.loader import Dataset, load

from .cli import run_cli
from .conftest import ROOT, SITE_URL
from .factory import dump_yaml, routable_proxy_config, valid_data, write_data


def _page(site: Path, url: str, body: str) -> None:
    path = site / url / "index.html" if not url.endswith(".html") else site / url
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<html><body>\n{body}\n</body></html>\n", encoding="utf-8")


@pytest.fixture
def small_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    _page(site, "", '<a href="faq/#quota">FAQ</a>\n<a href="/en/faq/">English</a>\n<link href="style.css">')
    _page(
        site,
        "faq",
        '<h2 id="quota">Quota</h2>\n<a href="../#top">home</a>\n<a href="https://platform.openai.com">x</a>',
    )
    _page(site, "en/faq", '<h2 id="quota">Quota</h2>\n<a href="/faq/#quota">zh</a>')
    (site / "style.css").write_text("body {}", encoding="utf-8")
    (site / "index.html").write_text(
        (site / "index.html").read_text(encoding="utf-8").replace("<body>", '<body id="top">'), encoding="utf-8"
    )
    return site


def test_links_clean_site_passes(small_site):
    assert check_links(small_site, site_url=SITE_URL) == []


@pytest.mark.parametrize(
    ("href", "reason"),
    [
        ("missing/", "broken_link"),
        ("../faq/#no-such-anchor", "broken_anchor"),
        ("/en/faq/#nowhere", "broken_anchor"),
        ("/en/gone/", "broken_link"),
        ("javascript:alert(1)", "unsafe_link"),
        ("http://127.0.0.1:8000/faq/#missing", "broken_anchor"),
    ],
)
def test_links_broken_link_is_located(small_site, href, reason):
    _page(small_site, "bad", f'<p>intro</p>\n<a href="{href}">x</a>')
    findings = check_links(small_site, site_url=SITE_URL, display_root=small_site.parent)
    assert [(f.reason, f.file, f.line) for f in findings] == [(reason, "site/bad/index.html", 3)]


def test_links_respect_a_site_url_with_a_path(small_site):
    _page(small_site, "sub", '<a href="/docs/faq/#quota">ok</a>')
    assert [f.reason for f in check_links(small_site, site_url="https://example.org/docs/")] == ["broken_link"] * 2


def test_links_of_the_real_site_resolve(site):
    assert check_links(site, site_url=SITE_URL) == []


def test_freshness(data_factory):
    dataset = load(data_factory())
    day = dt.date(2026, 1, 15)
    assert check_freshness(dataset, today=day + dt.timedelta(days=180)) == []
    stale = check_freshness(dataset, today=day + dt.timedelta(days=181))
    assert {f.severity for f in stale} == {"warning"}
    assert {f.context["provider"] for f in stale} == {"acme", "globex", None}
    acme = next(f for f in stale if f.context["provider"] == "acme")
    assert dataset.where("providers", ("providers", "acme", "verified_on"))[0] == "data/providers.yaml"
    assert acme.line > 1
    strict = check_freshness(dataset, max_age_days=30, strict=True, today=day + dt.timedelta(days=31))
    assert {f.severity for f in strict} == {"error"} and len(strict) == 3


def test_python_m_runbooks_runs_the_command_and_exits_with_its_code():
    """The real entry point, once; every other test of the command line runs it in this process."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "runbooks", *args]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)

    passed = run("validate")
    assert passed.returncode == 0, passed.stderr
    assert "validate: pass" in passed.stdout
    unreadable = run("validate", "--data", "no-such-directory")
    assert unreadable.returncode == 2
    assert "file not found" in unreadable.stderr and "Traceback" not in unreadable.stderr


def test_every_command_has_help():
    top = run_cli("--help")
    assert top.returncode == 0
    for command in ("validate", "check-config", "scan-secrets", "check-links", "check-freshness", "check"):
        assert command in top.stdout
        result = run_cli(command, "--help")
        assert result.returncode == 0 and "Exit codes" in result.stdout, command


def test_check_passes_on_the_real_repository(dataset, site, public_site):
    """What `check` runs on the repository, on the session's builds of each audience instead of two more."""
    config = ROOT / "data" / "litellm" / "config.yaml"
    report = Report()
    validated = run_cli("validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    report.add(check_config(config, dataset, display_root=ROOT))
    report.add(lint_cost(config, dataset, display_root=ROOT))
    report.add(check_freshness(dataset))
    for audience, built in (("internal", site), ("public", public_site)):
        for gate in site_gates(audience, dataset, site_url=SITE_URL):
            report.add(gate(built))
    assert report.verdict == "pass", [str(f) for f in report.findings]


def test_check_passes_on_valid_data_after_building_and_gating_each_audience(tmp_path, monkeypatch):
    """The `check` command itself, end to end, on a small data set with a config LiteLLM can route."""
    data = valid_data()
    data_dir = write_data(tmp_path, data)
    config = tmp_path / "config.yaml"
    config.write_text(dump_yaml(routable_proxy_config(data)), encoding="utf-8")
    gated: list[str] = []

    def recorded(audience: str, dataset: Dataset, **options: Any) -> list[Gate]:
        gated.append(audience)
        return site_gates(audience, dataset, **options)

    monkeypatch.setattr(cli, "site_gates", recorded)
    result = run_cli("check", "--data", str(data_dir), "--config", str(config), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["verdict"] == "pass"
    assert gated == list(AUDIENCES)


def test_check_config_on_the_real_config():
    result = run_cli("check-config", "data/litellm/config.yaml")
    assert result.returncode == 0, result.stderr
    assert "check-config: pass" in result.stdout


def test_check_config_exit_codes(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("model_list:\n  - model_name: glm-4.7\n    litellm_params:\n      model: zhipu/glm-4.7\n")
    result = run_cli("check-config", str(bad), "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["verdict"] == "fail"
    assert report["findings"][0]["reason"] == "unresolvable_provider"
    assert report["findings"][0]["line"] == 4
    missing = run_cli("check-config", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("model_list: [\n")
    result = run_cli("check-config", str(broken))
    assert result.returncode == 2
    assert "parse_error" in result.stderr and "Traceback" not in result.stderr


def test_payment_link_to_a_foreign_host_fails_check(tmp_path):
    data = valid_data()
    data["providers"]["providers"]["acme"]["urls"]["billing"] = "https://acme-billing.example/pay"
    data_dir = write_data(tmp_path, data)
    result = run_cli("check", "--data", str(data_dir), "--format", "json")
    assert result.returncode == 1
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["reason"] == "payment_link"
    assert "providers.acme.urls.billing" in finding["message"]


def test_stale_facts_warn_and_fail_when_strict(tmp_path):
    data = valid_data()
    data_dir = write_data(tmp_path, data)
    warn = run_cli("check-freshness", "--data", str(data_dir), "--max-age-days", "1", "--format", "json")
    assert warn.returncode == 0
    assert {w["reason"] for w in json.loads(warn.stdout)["warnings"]} == {"stale"}
    strict = run_cli("check-freshness", "--data", str(data_dir), "--max-age-days", "1", "--strict-freshness")
    assert strict.returncode == 1 and "stale" in strict.stderr


def _fake_key() -> str:
    rng = random.Random(7)
    return "sk-" + "proj-" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(48))


def test_a_secret_in_the_data_fails_build_and_check_and_keeps_the_previous_site(tmp_path):
    key = _fake_key()
    data = valid_data()
    data["team"]["faqs"][0]["answer"]["en"] += f" For example {key}."
    data_dir = write_data(tmp_path, data)
    previous = tmp_path / "site"
    previous.mkdir()
    (previous / "index.html").write_text("previous build", encoding="utf-8")
    build = run_cli("build", "--data", str(data_dir), "--site-dir", str(previous))
    assert build.returncode == 1
    assert "secret" in build.stderr and "not_published" in build.stdout
    assert key not in build.stderr + build.stdout
    assert [p.name for p in previous.iterdir()] == ["index.html"]
    assert (previous / "index.html").read_text(encoding="utf-8") == "previous build"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "site"], "the temporary build was not removed"
    result = run_cli("check", "--data", str(data_dir))
    assert result.returncode == 1
    assert key not in result.stdout + result.stderr


def test_build_replaces_the_previous_site_when_every_gate_passes(tmp_path):
    previous = tmp_path / "site"
    (previous / "stale").mkdir(parents=True)
    build = run_cli("build", "--data", str(write_data(tmp_path, valid_data())), "--site-dir", str(previous))
    assert build.returncode == 0, build.stderr
    assert not (previous / "stale").exists()
    assert (previous / "index.html").is_file() and (previous / "en" / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "site"]


def test_invalid_data_keeps_the_previous_site(tmp_path):
    data = valid_data()
    data["providers"]["providers"]["acme"]["models"][0]["tier"] = "no-such-tier"
    previous = tmp_path / "site"
    previous.mkdir()
    (previous / "index.html").write_text("previous build", encoding="utf-8")
    build = run_cli("build", "--data", str(write_data(tmp_path, data)), "--site-dir", str(previous))
    assert build.returncode == 1
    assert "providers.acme.models[0].tier" in build.stderr
    assert (previous / "index.html").read_text(encoding="utf-8") == "previous build"


def test_a_build_of_invalid_data_stops_mkdocs_without_waiting_for_it(tmp_path, monkeypatch):
    """What is wrong with the data is the report: MkDocs, which would only say it again, is stopped at once."""
    data = valid_data()
    data["providers"]["providers"]["acme"]["models"][0]["tier"] = "no-such-tier"
    started = []

    def start_build(site, data_dir, **options):
        build = publish.start_build(site, data_dir, **options)
        calls = []
        started.append((build, calls))
        monkeypatch.setattr(build, "wait", lambda: calls.append("wait") or None)
        real_stop = build.stop
        monkeypatch.setattr(build, "stop", lambda: calls.append("stop") or real_stop())
        return build

    monkeypatch.setattr(cli, "start_build", start_build)
    built = run_cli("build", "--data", str(write_data(tmp_path, data)), "--site-dir", str(tmp_path / "site"))
    assert built.returncode == 1 and "providers.acme.models[0].tier" in built.stderr
    [(build, calls)] = started
    assert calls == ["stop"], "the build was waited for"
    assert build._process.returncode is not None  # ended, not left running
    assert not (tmp_path / "site").exists()


def test_env_file_values_are_caught_in_check(tmp_path):
    rng = random.Random(3)
    value = "".join(rng.choice(string.ascii_letters) for _ in range(24))
    env_file = tmp_path / "api_keys.env"
    env_file.write_text(f"TEAM_WEBHOOK_TOKEN={value}\n", encoding="utf-8")
    data = valid_data()
    data["team"]["faqs"][0]["answer"]["zh"] += f" 参考值 {value}。"
    result = run_cli("check", "--data", str(write_data(tmp_path, data)), "--env-file", str(env_file))
    assert result.returncode == 1
    assert "TEAM_WEBHOOK_TOKEN" in result.stdout + result.stderr
    assert value not in result.stdout + result.stderr


def test_validate_json_output(tmp_path):
    data = valid_data()
    data["providers"]["providers"]["acme"]["models"][0]["tier"] = "luxury"
    result = run_cli("validate", "--data", str(write_data(tmp_path, data)), "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["verdict"] == "fail"
    assert report["findings"][0]["file"].endswith("providers.yaml")
    assert report["findings"][0]["reason"] == "invalid_data"


def test_links_are_resolved_as_urljoin_resolves_them():
    """The quick path of check-links, against the standard library's urljoin on made-up links of a served page."""
    from urllib.parse import urljoin, urlsplit

    from runbooks.checks.links import _join_path, _relative_reference

    rng = random.Random(11)
    segments = ["", ".", "..", "faq", "en", "a b", "x.html", "%2e%2e", "..a", "a:b", "?q=1", "#top", "#", ";p", "\t"]
    bases = ["/", "/faq/", "/en/providers/acme/", "/docs/", "/docs/en/404.html", "/sitemap.xml"]
    quick = 0
    for _ in range(5000):
        target = "/".join(rng.choice(segments) for _ in range(rng.randint(1, 5)))
        target = rng.choice(["", "/", "./", "../"]) + target + rng.choice(["", "#frag", "?v=2#x", "/"])
        for base in bases:
            reference = _relative_reference(target)
            if reference is None:
                continue
            quick += 1
            expected = urlsplit(urljoin("http://127.0.0.1:8000" + base, target))
            assert (_join_path(base, reference[0]), reference[1]) == (expected.path, expected.fragment), (base, target)
    assert quick > 10_000  # most made-up links take the quick path; the others are left to urljoin

"""Two audiences from one source: visibility rules, the public build, the leak gate and safe publishing."""

from __future__ import annotations

import copy
import gzip
import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from runbooks.checks.public import check_public
from runbooks.findings import DataError, Finding, dotted
from runbooks.loader import load
from runbooks.publish import publish
from runbooks.schema import INTERNAL, PUBLIC
from runbooks.site import Site
from runbooks.visibility import Withheld, WithheldError, facts, internal_values, public_view

from .cli import run_cli
from .conftest import ROOT, SITE_URL, mkdocs_build
from .factory import valid_data, write_data

TEAM_ONLY_PAGES = ("after-recharge", "roles")


def _all_text(site: Path) -> str:
    """Every text file of a build, gunzipped, JSON escapes and search word breaks undone."""
    out = []
    for path in sorted(site.rglob("*")):
        if not path.is_file() or path.suffix in (".png", ".woff", ".woff2", ".ico", ".svg"):
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        text = data.decode("utf-8", errors="replace")
        if path.suffix == ".json":
            text = json.dumps(json.loads(text), ensure_ascii=False)
        out.append(text.replace("\u200b", ""))
    return "\n".join(out)


def _set(tree: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        tree = tree[part]
    tree[path[-1]] = value


# --- Canaries -------------------------------------------------------------------------------------


def _canary_value(n: int, value: str) -> tuple[str, str]:
    """A value that still passes the schema for its field, and the unique marker it holds."""
    marker = f"canary{n}marker"
    if value.startswith("/"):
        return f"/{marker}{value}", marker
    if "@" in value:
        return f"{marker}.{value}", marker
    if value.startswith("http"):
        return f"http://127.0.0.1:{41000 + n}", f"127.0.0.1:{41000 + n}"
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", value):
        return f"{marker.upper()}_{value}", marker
    return f"{marker.title()} {value}", marker


def _plant_canaries(data: dict, scratch: Path) -> tuple[dict, dict[str, tuple]]:
    """Put a canary into every internal fact of the data set that is not an identifier or a public value."""
    planted = copy.deepcopy(data)
    dataset = load(write_data(scratch, data))
    public_values = {f.value for f in facts(dataset) if f.visibility == PUBLIC}
    canaries: dict[str, tuple] = {}
    for n, fact in enumerate(facts(dataset)):
        if fact.visibility != INTERNAL or fact.identifier or fact.value in public_values:
            continue
        value, marker = _canary_value(n, fact.value)
        _set(planted[fact.file], fact.path, value)
        canaries[marker] = (fact.file, *fact.path)
    return planted, canaries


@pytest.fixture(scope="module")
def canary_builds(tmp_path_factory):
    """The factory data set with a canary in every internal fact, built for both audiences."""
    root = tmp_path_factory.mktemp("canaries")
    data, canaries = _plant_canaries(valid_data(), root / "source")
    data_dir = write_data(root, data)
    builds = {}
    for audience in ("internal", "public"):
        result = mkdocs_build(data_dir, root / f"site-{audience}", audience)
        assert result.returncode == 0, result.stderr
        builds[audience] = root / f"site-{audience}"
    return data_dir, canaries, builds


def test_every_internal_field_kind_carries_a_canary(canary_builds):
    _, canaries, _ = canary_builds
    sections = {path[1] for path in canaries.values() if path[0] == "team"}
    assert {"account", "server", "never_share", "after_recharge", "roles"} <= sections


def test_no_canary_reaches_the_public_build(canary_builds):
    _, canaries, builds = canary_builds
    text = _all_text(builds["public"]).lower()
    leaked = [path for marker, path in canaries.items() if marker.lower() in text]
    assert leaked == []


def test_the_team_build_shows_what_the_public_one_withholds(canary_builds):
    _, canaries, builds = canary_builds
    text = _all_text(builds["internal"]).lower()
    shown = {path[1] for marker, path in canaries.items() if marker.lower() in text}
    assert {"server", "never_share", "after_recharge", "roles"} <= shown


def test_check_public_passes_the_public_build_and_fails_the_team_build(canary_builds):
    data_dir, _, builds = canary_builds
    dataset = load(data_dir)
    assert check_public(builds["public"], dataset) == []
    findings = check_public(builds["internal"], dataset)
    assert findings and {f.reason for f in findings} == {"internal_leak"}
    assert any("server.keys_file" in f.message and f.line > 0 for f in findings)


def test_removing_one_visibility_marker_makes_the_gate_fail(tmp_path):
    data = valid_data()
    secret_faq = copy.deepcopy(data["team"]["faqs"][0])
    secret_faq.update(id="internal-escalation", visibility="internal")
    secret_faq["answer"] = {
        "zh": "找值班负责人老王处理升级事宜。",
        "en": "Escalate to the on-call owner, Wang, directly.",
    }
    data["team"]["faqs"].append(secret_faq)
    marked = load(write_data(tmp_path / "marked", data))
    assert "Escalate to the on-call owner, Wang, directly." in internal_values(marked)

    result = mkdocs_build(write_data(tmp_path / "marked", data), tmp_path / "site-ok", "public")
    assert result.returncode == 0, result.stderr
    assert check_public(tmp_path / "site-ok", marked) == []

    del data["team"]["faqs"][-1]["visibility"]
    result = mkdocs_build(write_data(tmp_path / "unmarked", data), tmp_path / "site-leak", "public")
    assert result.returncode == 0, result.stderr
    findings = check_public(tmp_path / "site-leak", marked)
    assert findings and all(f.reason == "internal_leak" for f in findings)
    assert any("faqs[1].answer.en" in f.message for f in findings)
    assert any(f.file.endswith("faq.json") for f in findings)
    assert any(f.file.endswith("llms.txt") for f in findings)


# --- Visibility rules -----------------------------------------------------------------------------


def test_defaults_per_field_kind(dataset):
    by_section = {}
    for fact in facts(dataset):
        key = (fact.file, fact.path[0] if fact.file == "team" else fact.path[2])
        by_section.setdefault(key, set()).add(fact.visibility)
    for section in ("account", "never_share", "after_recharge", "roles"):
        assert by_section[("team", section)] == {INTERNAL}, section
    server = {f.path[1]: f.visibility for f in facts(dataset) if f.file == "team" and f.path[0] == "server"}
    assert {k for k, v in server.items() if v == INTERNAL} == {
        "keys_file",
        "config_file",
        "reload_script",
        "proxy_url",
        "chat_ui",
    }
    assert {k for k, v in server.items() if v == PUBLIC} == {"master_key_env", "smoke_test_model"}
    for section in ("faqs", "cost_control", "verified_on"):
        assert by_section[("team", section)] == {PUBLIC}, section
    for field in ("urls", "recharge_steps", "faqs", "errors", "models"):
        assert by_section[("providers", field)] == {PUBLIC}, field


def test_an_explicit_marker_overrides_the_field_default(data_factory):
    def mark(data):
        data["team"]["roles"][0]["visibility"] = "public"
        data["providers"]["providers"]["acme"]["faqs"][0]["visibility"] = "internal"

    dataset = load(data_factory(mark))
    visibility = {f.path: f.visibility for f in facts(dataset)}
    assert visibility[("roles", 0, "name", "en")] == PUBLIC
    assert visibility[("roles", 0, "holds", "en")] == PUBLIC
    assert visibility[("providers", "acme", "faqs", 0, "answer", "en")] == INTERNAL
    view = public_view(dataset)
    assert [r.id for r in view.team.roles] == [dataset.team.roles[0].id]
    assert view.providers.providers["acme"].faqs == []
    assert all("acme-new-key" not in faq.related for faq in view.team.faqs)


def test_an_unknown_visibility_is_refused_with_its_path(data_factory):
    with pytest.raises(DataError) as err:
        load(data_factory(lambda d: d["team"]["faqs"][0].update(visibility="secret")))
    assert [dotted(p.path) for p in err.value.findings] == ["faqs[0].visibility"]


def test_the_public_view_withholds_team_facts_and_their_pages(dataset):
    view = public_view(dataset)
    assert not view.team.account and not view.team.server.keys_file and list(view.team.roles) == []
    assert view.team.server.master_key_env == dataset.team.server.master_key_env
    assert view.team.server.visibility is None
    kinds = {page.kind for page in Site.of(view).pages}
    assert not kinds & set(TEAM_ONLY_PAGES)
    assert {"home", "provider", "faq", "errors", "cost-control"} <= kinds
    with pytest.raises(WithheldError, match=r"server\.keys_file is internal"):
        str(view.team.server.keys_file)
    with pytest.raises(WithheldError, match="account is internal"):
        _ = view.team.account.email
    assert "Withheld" in repr(Withheld("team.server"))


def test_a_public_page_that_needs_an_internal_fact_fails_the_build_clearly(tmp_path):
    data = valid_data()
    data["providers"]["providers"]["acme"]["summary"]["visibility"] = "internal"
    result = mkdocs_build(write_data(tmp_path, data), tmp_path / "site", "public")
    assert result.returncode != 0
    assert "providers.acme.summary is internal" in result.stderr
    assert "Traceback" not in result.stderr


# --- The two builds of the real data --------------------------------------------------------------


def test_the_team_build_is_not_for_indexing(site):
    assert (site / "robots.txt").read_text(encoding="utf-8").splitlines()[-1] == "Disallow: /"
    for name in ("sitemap.xml", "sitemap.xml.gz", "llms.txt", "llms-full.txt", "en/llms.txt", "en/sitemap.xml"):
        assert not (site / name).exists(), name
    for page in site.rglob("index.html"):
        robots = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select_one('meta[name="robots"]')
        assert robots is not None and "noindex" in robots["content"], page


def test_the_public_build_invites_crawlers_and_has_no_team_pages(public_site, dataset):
    site = public_site
    assert "Sitemap: " + SITE_URL + "sitemap.xml" in (site / "robots.txt").read_text(encoding="utf-8")
    assert (site / "llms.txt").is_file() and (site / "en" / "llms.txt").is_file()
    text = _all_text(site)
    for kind in TEAM_ONLY_PAGES:
        for lang_root in (site, site / "en"):
            assert not (lang_root / kind).exists() and not (lang_root / f"{kind}.md").exists()
        assert f"/{kind}/" not in text and f"{kind}.md" not in text, kind
    for page in site.rglob("index.html"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        assert soup.select_one('meta[name="robots"]') is None, page
    assert check_public(site, dataset) == []


# --- Safe publishing ------------------------------------------------------------------------------


def _previous(target: Path) -> Path:
    target.mkdir()
    (target / "index.html").write_text("previous", encoding="utf-8")
    return target


def _good_build(site: Path) -> Finding | None:
    site.mkdir()
    (site / "index.html").write_text("new", encoding="utf-8")
    return None


def test_publish_swaps_in_a_build_that_passes(tmp_path):
    target = _previous(tmp_path / "site-public")
    assert publish(target, _good_build, [lambda site: []]) == []
    assert (target / "index.html").read_text(encoding="utf-8") == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["site-public"]


@pytest.mark.parametrize(
    ("build", "gates"),
    [
        (lambda site: Finding("build_failed", "invalid data", "mkdocs.yml"), []),
        (_good_build, [lambda site: [Finding("internal_leak", "leak", "x.html", 3)]]),
    ],
    ids=["failed build", "gate finding"],
)
def test_a_failed_build_or_gate_leaves_the_previous_site_untouched(tmp_path, build, gates):
    target = _previous(tmp_path / "site-public")
    findings = publish(target, build, gates)
    assert findings and findings[0].severity == "error"
    assert (target / "index.html").read_text(encoding="utf-8") == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["site-public"], "the temporary build was left behind"


def test_a_crashing_gate_leaves_the_previous_site_untouched(tmp_path):
    target = _previous(tmp_path / "site")

    def crash(site: Path) -> list[Finding]:
        raise OSError("disk full")

    with pytest.raises(OSError):
        publish(target, _good_build, [crash])
    assert (target / "index.html").read_text(encoding="utf-8") == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_make_public_target_publishes_into_site_public(tmp_path, monkeypatch):
    """`make public` runs the public build into site-public: its command, run here, publishes the public site."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    dry = subprocess.run(
        ["make", "--dry-run", "public"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert dry.returncode == 0, dry.stderr
    [command] = [shlex.split(line) for line in dry.stdout.splitlines() if " -m runbooks " in line]
    args = command[command.index("runbooks") + 1 :]
    assert args == ["build", "--audience", "public", "--site-dir", "site-public"]
    # The same command, with its site directory under tmp_path rather than in the work tree.
    monkeypatch.setenv("SITE_URL", SITE_URL)
    published = tmp_path / args[-1]
    result = run_cli(*args[:-1], str(published))
    assert result.returncode == 0, result.stdout + result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["site-public"]
    assert "Sitemap: " + SITE_URL + "sitemap.xml" in (published / "robots.txt").read_text(encoding="utf-8")
    for lang_root in (published, published / "en"):
        assert (lang_root / "index.html").is_file()
        assert not any((lang_root / kind).exists() for kind in TEAM_ONLY_PAGES)


# --- Hostile data ---------------------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "[click](javascript:alert(3))",
    "{{ 7 * 7 }} {% if true %}x{% endif %}",
    "<!-- --> ]]> ' \" &amp;",
]


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d, v: d["providers"]["providers"]["acme"]["urls"].update(console=v), "urls.console"),
        (lambda d, v: d["providers"]["providers"]["acme"]["models"][0].update(name=v), "models[0].name"),
        (lambda d, v: d["providers"]["providers"]["acme"].update(env_var=v), "env_var"),
        (lambda d, v: d["providers"]["providers"]["acme"].update(domains=[v]), "domains[0]"),
        (lambda d, v: d["providers"]["providers"]["acme"]["faqs"][0].update(id=v), "faqs[0].id"),
        (lambda d, v: d["team"]["server"].update(keys_file="/srv/" + v), "server.keys_file"),
        (lambda d, v: d["team"]["server"].update(proxy_url=v), "server.proxy_url"),
        (lambda d, v: d["team"]["account"].update(email=v + "@team.example"), "account.email"),
    ],
)
@pytest.mark.parametrize("payload", HOSTILE)
def test_typed_fields_refuse_hostile_values(data_factory, mutate, path, payload):
    with pytest.raises(DataError) as err:
        load(data_factory(lambda d: mutate(d, payload)))
    assert any(dotted(p.path).endswith(path) for p in err.value.findings), [str(p) for p in err.value.findings]


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "http://console.acme.example/billing"]
)
@pytest.mark.parametrize("kind", ["console", "billing", "api_keys", "usage"])
def test_provider_links_must_be_https(data_factory, url, kind):
    with pytest.raises(DataError) as err:
        load(data_factory(lambda d: d["providers"]["providers"]["acme"]["urls"].update({kind: url})))
    assert [dotted(p.path) for p in err.value.findings] == [f"providers.acme.urls.{kind}"]


def test_hostile_text_in_every_text_field_is_shown_as_typed(tmp_path):
    data = valid_data()
    acme = data["providers"]["providers"]["acme"]
    targets = [
        acme["name"],
        acme["summary"],
        acme["models"][0].setdefault("notes", {"zh": "备注", "en": "note"}),
        acme["recharge_steps"][0]["text"],
        acme["payment_notes"][0],
        acme["faqs"][0]["question"],
        acme["faqs"][0]["basis"],
        acme["errors"][0]["cause"],
        data["team"]["faqs"][0]["boundary"],
        data["team"]["cost_control"]["intro"],
    ]
    for n, text in enumerate(targets):
        for lang in ("zh", "en"):
            text[lang] = f"{text[lang]} {HOSTILE[n % len(HOSTILE)]}"
    result = mkdocs_build(write_data(tmp_path, data), tmp_path / "site", "public")
    assert result.returncode == 0, result.stderr
    for page in (tmp_path / "site").rglob("*.html"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        article = soup.select_one("article") or soup
        assert not article.select("script"), page
        assert not soup.select("[onerror]"), page
        assert not soup.select('a[href^="javascript:"]'), page
        assert "49" not in article.get_text().split(), page
    shown = BeautifulSoup((tmp_path / "site" / "en" / "providers" / "acme" / "index.html").read_text(), "html.parser")
    article_text = shown.select_one("article").get_text()
    for payload in HOSTILE[:3]:
        assert payload in article_text
    assert "{{ 7 * 7 }}" in _all_text(tmp_path / "site")

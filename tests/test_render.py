"""Pure render functions, tested on small data sets without building a site."""

from __future__ import annotations

import copy
import json
import re
import shlex
from typing import Any

import markdown
import pytest
from bs4 import BeautifulSoup

from runbooks.loader import load
from runbooks.render import error_anchor, error_catalog, join_text, md, render, smoke_test_command
from runbooks.schema import LANGUAGES
from runbooks.site import Page, Site

from .factory import many_providers, valid_data, write_data

EXTENSIONS = ["admonition", "attr_list", "tables", "toc", "pymdownx.superfences", "pymdownx.details"]


def to_html(text: str) -> BeautifulSoup:
    return BeautifulSoup(markdown.markdown(text, extensions=EXTENSIONS), "html.parser")


def visible(text: str) -> str:
    return " ".join(to_html(text).get_text(" ").split())


@pytest.fixture
def small(tmp_path):
    return load(write_data(tmp_path, valid_data()))


def _page(dataset, kind: str, **context: Any) -> Page:
    return next(
        p for p in Site.of(dataset).pages if p.kind == kind and all(p.context.get(k) == v for k, v in context.items())
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_provider_page_has_every_fact(small, lang):
    provider = small.providers.providers["acme"]
    out = render(_page(small, "provider", pid="acme"), Site.of(small), lang)
    text = visible(out)
    for url in provider.urls.model_dump(exclude={"visibility"}).values():
        assert url in out
    assert "ACME_API_KEY" in text
    for model in provider.models:
        assert model.name in text and model.upstream in text
    for step in provider.recharge_steps:
        assert step.text(lang) in text
    assert provider.verified_on.isoformat() in text


def test_pages_are_in_their_own_language(small):
    zh = visible(render(_page(small, "provider", pid="globex"), Site.of(small), "zh"))
    en = visible(render(_page(small, "provider", pid="globex"), Site.of(small), "en"))
    assert "添加付款方式并充值。" in zh and "添加付款方式并充值。" not in en
    assert "Add a payment method and top up." in en and "Add a payment method and top up." not in zh


def test_every_page_renders_in_every_language(small):
    kinds = [p.kind for p in Site.of(small).pages]
    assert kinds.count("provider") == 2
    assert {"home", "after-recharge", "roles", "config-map", "faq", "errors", "cost-control"} <= set(kinds)
    for page in Site.of(small).pages:
        for lang in LANGUAGES:
            assert render(page, Site.of(small), lang).startswith("# ")


def test_unknown_language_is_refused(small):
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        render(Site.of(small).pages[0], Site.of(small), "fr")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_nav_lists_every_page_once(small, lang):
    def paths(entries):
        for entry in entries:
            for value in entry.values():
                yield from paths(value) if isinstance(value, list) else [value]

    listed = list(paths(Site.of(small).nav(lang)))
    assert sorted(listed) == sorted(p.path for p in Site.of(small).pages)
    titles = [next(iter(e)) for e in Site.of(small).nav(lang)]
    assert ("服务商" in titles) == (lang == "zh")
    assert ("Providers" in titles) == (lang == "en")


def test_links_between_pages_are_relative(small):
    out = render(_page(small, "provider", pid="acme"), Site.of(small), "en")
    assert "](../after-recharge.md)" in out
    assert "](../errors.md#error-402)" in out
    home = render(_page(small, "home"), Site.of(small), "en")
    assert "](providers/acme.md)" in home


def test_smoke_test_command_is_a_valid_shell_command(small):
    command = smoke_test_command(small.team)
    argv = shlex.split(command.replace("\\\n", " "))
    assert argv[:3] == ["curl", "-sS", "http://127.0.0.1:4001/v1/chat/completions"]
    assert "Authorization: Bearer $LITELLM_MASTER_KEY" in argv
    body = json.loads(argv[argv.index("-d") + 1])
    assert body["model"] == "acme-small"
    assert (
        json.loads(shlex.split(smoke_test_command(small.team, "globex-chat").replace("\\\n", " "))[-1])["model"]
        == "globex-chat"
    )


def test_after_recharge_page_shows_the_commands(small):
    out = render(_page(small, "after-recharge"), Site.of(small), "zh")
    assert smoke_test_command(small.team) in out
    assert "nano /srv/proxy/api_keys.env" in out
    assert "!!! danger" in out


def test_error_catalog_groups_codes_across_providers(small):
    catalog = dict(error_catalog(small.providers.providers))
    assert [pid for pid, _ in catalog["402"]] == ["acme", "globex"]


def test_error_anchors_are_stable_and_ascii():
    assert error_anchor("insufficient_quota") == "error-insufficient-quota"
    assert error_anchor("invalid x-api-key") == "error-invalid-x-api-key"
    assert error_anchor("余额不足").startswith("error-") and error_anchor("余额不足").isascii()
    assert error_anchor("余额不足") != error_anchor("额度不足")


@pytest.mark.parametrize(
    ("text", "html_must_not_contain"),
    [
        ("<script>alert(1)</script>", "<script"),
        ('"><img src=x onerror=alert(1)>', "<img"),
        ("[click](javascript:alert(1))", "<a"),
        ("![x](https://evil.example/x.png)", "<img"),
        ("text{: onclick=alert(1) }", 'onclick="'),
        ("*bold* _it_ | pipe", "<em"),
        ("# heading", "<h1"),
        ("- not a list", "<li"),
        ("1. not a list", "<ol"),
    ],
)
def test_md_escapes_markup(text, html_must_not_contain):
    html = str(to_html(md(text)))
    assert html_must_not_contain not in html
    assert visible(md(text)) == " ".join(text.split())


def test_md_keeps_code_spans():
    assert md("set `OPENAI_API_KEY` in `api_keys.env`") == "set `OPENAI_API_KEY` in `api_keys.env`"
    assert "<code>&lt;b&gt;</code>" in str(to_html(md("`<b>`")))


HOSTILE = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "[pay here](javascript:alert(1))",
    "{{ config }} {% raw %}",
    "text{: onmouseover=alert(1) }",
]


def _poison(node: Any) -> Any:
    """Append every hostile string to every bilingual text in the data."""
    if isinstance(node, dict):
        if set(node) == {"zh", "en"}:
            return {lang: f"{value} {' '.join(HOSTILE)}" for lang, value in node.items()}
        return {k: _poison(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_poison(v) for v in node]
    return node


@pytest.mark.parametrize("lang", LANGUAGES)
def test_hostile_text_in_every_field_renders_as_text(tmp_path, lang):
    data = _poison(copy.deepcopy(valid_data()))
    dataset = load(write_data(tmp_path, data))
    for page in Site.of(dataset).pages:
        soup = to_html(render(page, Site.of(dataset), lang))
        assert not soup.find_all(["script", "img", "iframe"]), page.path
        for tag in soup.find_all(True):
            assert not any(a.startswith("on") for a in tag.attrs), (page.path, tag)
            assert not str(tag.get("href", "")).startswith("javascript:"), (page.path, tag)
        assert "{{ config }}" in soup.get_text(), page.path


@pytest.mark.parametrize(
    ("parts", "joined"),
    [
        (("Top up.", "Open: <https://x.example>"), "Top up. Open: <https://x.example>"),
        (("充值。", "打开：<https://x.example>"), "充值。打开：<https://x.example>"),
        (("`KEY`", "（写在文件中）"), "`KEY`（写在文件中）"),
        (("`KEY`", "(in the file)"), "`KEY` (in the file)"),
        (("only", ""), "only"),
    ],
)
def test_join_text_spaces_latin_but_not_cjk(parts, joined):
    assert join_text(*parts) == joined


def test_nav_lists_providers_one_by_one_up_to_the_limit_then_the_index_only(tmp_path):
    from runbooks.site import PROVIDERS_LISTED_MAX

    def listed(dataset, lang):
        out = []
        for entry in Site.of(dataset).nav(lang):
            for value in entry.values():
                out += [next(iter(v.values())) for v in value] if isinstance(value, list) else [value]
        return out

    at_limit = load(write_data(tmp_path / "few", many_providers(PROVIDERS_LISTED_MAX)))
    assert sorted(listed(at_limit, "en")) == sorted(p.path for p in Site.of(at_limit).pages)
    beyond = load(write_data(tmp_path / "many", many_providers(PROVIDERS_LISTED_MAX + 1)))
    for lang in LANGUAGES:
        paths = listed(beyond, lang)
        assert "providers/index.md" in paths
        assert not any(p.startswith("providers/provider-") for p in paths)
    left_out = [p for p in Site.of(beyond).pages if not Site.of(beyond).in_nav(p)]
    assert len(left_out) == PROVIDERS_LISTED_MAX + 1 and {p.kind for p in left_out} == {"provider"}
    index = render(_page(beyond, "providers"), Site.of(beyond), "en")
    for pid in beyond.providers.providers:
        assert f"]({pid}.md)" in index and f"]({pid}.md#recharge)" in index
    home = render(_page(beyond, "home"), Site.of(beyond), "en")
    assert "](providers/index.md)" in home and "providers/provider-0001.md" not in home
    assert "](providers/acme.md)" not in home
    small_home = render(_page(at_limit, "home"), Site.of(at_limit), "zh")
    assert "providers/provider-0001.md" in small_home


def test_a_large_site_keeps_each_providers_details_on_its_page(tmp_path):
    from runbooks.site import PROVIDERS_LISTED_MAX

    at_limit = load(write_data(tmp_path / "few", many_providers(PROVIDERS_LISTED_MAX)))
    beyond = load(write_data(tmp_path / "many", many_providers(PROVIDERS_LISTED_MAX + 1)))
    first, provider = next(iter(beyond.providers.providers.items()))
    team_faq, provider_faq = beyond.team.faqs[0], provider.faqs[0]
    for lang in LANGUAGES:
        # At the limit the shared pages gather every provider's details, as on the team's real site.
        small_faq = render(_page(at_limit, "faq"), Site.of(at_limit), lang)
        assert f"{{ #{provider_faq.id} }}" in small_faq
        assert f"](../faq.md#{provider_faq.id})" in render(
            _page(at_limit, "provider", pid=first), Site.of(at_limit), lang
        )
        assert provider.models[0].name in render(_page(at_limit, "config-map"), Site.of(at_limit), lang)
        assert provider.models[0].name in render(_page(at_limit, "cost-control"), Site.of(at_limit), lang)
        assert "### " in render(_page(at_limit, "errors"), Site.of(at_limit), lang)
        # Beyond it, each provider's FAQ is answered in full on its page, under the same anchor.
        faq = render(_page(beyond, "faq"), Site.of(beyond), lang)
        assert f"{{ #{team_faq.id} }}" in faq and f"{{ #{provider_faq.id} }}" not in faq
        assert "](providers/index.md)" in faq
        page = render(_page(beyond, "provider", pid=first), Site.of(beyond), lang)
        assert f"### {provider_faq.question(lang)} {{ #{provider_faq.id} }}" in page
        assert provider_faq.basis(lang) in page and provider_faq.boundary(lang) in page
        # The errors page names the providers of each code and links to their errors section.
        errors = render(_page(beyond, "errors"), Site.of(beyond), lang)
        assert "### " not in errors and provider.errors[0].cause(lang) not in errors
        for pid in beyond.providers.providers:
            assert f"](providers/{pid}.md#errors)" in errors
        # The config map and cost control leave the per-model tables to the provider pages.
        config_map = render(_page(beyond, "config-map"), Site.of(beyond), lang)
        cost = render(_page(beyond, "cost-control"), Site.of(beyond), lang)
        for text in (config_map, cost):
            assert provider.models[0].name not in text and "](providers/index.md)" in text
        assert all(p.env_var in config_map for p in beyond.providers.providers.values())
        total = sum(len(p.models) for p in beyond.providers.providers.values())
        counts = [int(n) for n in re.findall(r"\| (\d+)(?: 个| models)", cost)]
        assert sum(counts) == total and counts


@pytest.mark.parametrize("lang", LANGUAGES)
def test_providers_index_lists_every_provider_with_its_facts(small, lang):
    out = render(_page(small, "providers"), Site.of(small), lang)
    text = visible(out)
    for pid, provider in small.providers.providers.items():
        assert provider.name(lang) in text and provider.env_var in text
        assert f"]({pid}.md#errors)" in out
        assert provider.urls.console in out
    assert ("全部服务商" in text) == (lang == "zh")


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("index.md", "faq.md"),
        ("index.md", "providers/openai.md"),
        ("providers/openai.md", "faq.md"),
        ("providers/openai.md", "providers/index.md"),
        ("providers/openai.md", "providers/anthropic.md"),
        ("a/b/c.md", "a/d/e.md"),
        ("a/b/c.md", "x.md"),
        ("x.md", "a/b/c.md"),
        ("a/b.md", "a/b/c.md"),
    ],
)
def test_links_between_pages_are_the_relative_paths_posixpath_computes(source, target):
    import posixpath

    from runbooks.render import _link

    expected = posixpath.relpath(target, posixpath.dirname(source) or ".")
    assert _link(source, target) == expected
    assert _link(source, target, "models") == expected + "#models"
    assert _link(source, source, "models") == "#models"


def test_compiled_templates_are_reused_but_never_stale(tmp_path):
    import jinja2

    from runbooks.bytecode import bytecode_cache

    cache = bytecode_cache()
    template = tmp_path / "page.md.j2"

    def fresh_render() -> str:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)), bytecode_cache=cache)
        return env.get_template("page.md.j2").render(name="x")

    def kept(source: str) -> bool:
        key = cache.get_cache_key("page.md.j2", str(template))
        bucket = jinja2.bccache.Bucket(jinja2.Environment(), key, cache.get_source_checksum(source))
        cache.load_bytecode(bucket)
        return bucket.code is not None

    template.write_text("first {{ name }}", encoding="utf-8")
    assert fresh_render() == "first x"
    assert kept("first {{ name }}")  # the next environment loads it instead of compiling
    template.write_text("second {{ name }}", encoding="utf-8")
    assert not kept("second {{ name }}")
    assert fresh_render() == "second x"
    assert kept("second {{ name }}")

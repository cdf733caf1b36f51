"""The real site, built once: every page in both languages, with its facts and a working language switch."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pydantic import BaseModel

from runbooks.schema import LANGUAGES, Text
from runbooks.site import Site

from .conftest import mkdocs_build
from .factory import valid_data, write_data

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")


def _html(site: Path, lang: str, url: str) -> BeautifulSoup:
    base = site if lang == LANGUAGES[0] else site / lang
    path = base / url / "index.html"
    assert path.is_file(), f"{path} was not built"
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _article(soup: BeautifulSoup) -> str:
    return " ".join(soup.select_one("article").get_text(" ").split())


def _prose(soup: BeautifulSoup) -> str:
    """The article without its code: messages quoted verbatim (a provider's Chinese error text) are code."""
    article = copy.copy(soup.select_one("article"))
    for code in article.select("code, pre"):
        code.decompose()
    return " ".join(article.get_text(" ").split())


def _texts(node: object) -> Iterator[Text]:
    if isinstance(node, Text):
        yield node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _texts(getattr(node, name))
    elif isinstance(node, dict):
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _texts(value)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_is_built_in_every_language(site, dataset, lang):
    for page in Site.of(dataset).pages:
        soup = _html(site, lang, page.url)
        assert soup.html["lang"] == lang
        assert soup.select_one("article h1"), page.path


@pytest.mark.parametrize("lang", LANGUAGES)
def test_provider_pages_carry_their_facts(site, dataset, lang):
    for pid, provider in dataset.providers.providers.items():
        soup = _html(site, lang, f"providers/{pid}/")
        text = _article(soup)
        squeezed = re.sub(r"\s+", "", text)
        hrefs = {a.get("href") for a in soup.select("article a")}
        assert provider.urls.console in hrefs
        assert provider.urls.billing in hrefs
        assert provider.env_var in text
        assert provider.verified_on.isoformat() in text
        for model in provider.models:
            assert model.name in text and model.upstream in text, (pid, model.name)
        for step in provider.recharge_steps:
            assert re.sub(r"\s+|`", "", step.text(lang)) in squeezed, (pid, step.text(lang))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_language_switch_leads_to_the_same_page(site, dataset, lang):
    for page in Site.of(dataset).pages:
        soup = _html(site, lang, page.url)
        links = {a["hreflang"]: a["href"] for a in soup.select("a.md-select__link")}
        assert set(links) == set(LANGUAGES), page.path
        for other, href in links.items():
            expected = "/" + ("" if other == LANGUAGES[0] else f"{other}/") + page.url
            assert href == expected, (page.path, other, href)
            target = site / href.lstrip("/") / "index.html"
            assert target.is_file(), href


def test_no_page_carries_the_other_languages_text(site, dataset):
    texts = [t for t in _texts(dataset.providers) if t.zh != t.en] + [t for t in _texts(dataset.team) if t.zh != t.en]
    assert len(texts) > 100
    for page in Site.of(dataset).pages:
        zh, en = (_prose(_html(site, lang, page.url)) for lang in LANGUAGES)
        assert not CJK.search(en), (page.path, CJK.search(en).group(), en[max(0, CJK.search(en).start() - 40) :][:80])
        for t in texts:
            plain_en = " ".join(t.en.replace("`", "").split())
            if len(plain_en) >= 16:
                assert plain_en not in zh, (page.path, plain_en)


def test_code_copy_and_admonitions_are_rendered(site):
    soup = _html(site, "zh", "after-recharge/")
    assert soup.select("article .admonition.danger")
    assert soup.select("article pre code"), "the commands are shown as code blocks"
    # Material adds a copy button to every code block of a page whose config turns content.code.copy on.
    for lang in LANGUAGES:
        config = json.loads(_html(site, lang, "after-recharge/").select_one("script#__config").string)
        assert "content.code.copy" in config["features"], lang
        assert config["translations"]["clipboard.copy"], lang


def test_invalid_data_fails_the_build_and_keeps_the_old_site(tmp_path):
    data = valid_data()
    del data["providers"]["providers"]["acme"]["models"][1]["upstream"]
    data_dir = write_data(tmp_path, data)
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    (site_dir / "index.html").write_text("previous build", encoding="utf-8")
    result = mkdocs_build(data_dir, site_dir)
    assert result.returncode != 0
    assert re.search(
        r"providers\.yaml:\d+: invalid_data: providers\.acme\.models\[1\]\.upstream: field required", result.stderr
    )
    assert "Traceback" not in result.stderr
    assert (site_dir / "index.html").read_text(encoding="utf-8") == "previous build"


def test_hostile_data_is_shown_as_text_in_the_built_site(tmp_path):
    data = valid_data()
    payload = "<script>alert(1)</script>"
    data["providers"]["providers"]["acme"]["summary"]["en"] += " " + payload
    data["team"]["faqs"][0]["answer"]["zh"] += " " + payload
    result = mkdocs_build(write_data(tmp_path, data), tmp_path / "site")
    assert result.returncode == 0, result.stderr
    for page, lang in (("en/providers/acme", "en"), ("faq", "zh")):
        soup = BeautifulSoup((tmp_path / "site" / page / "index.html").read_text(encoding="utf-8"), "html.parser")
        assert payload in soup.select_one("article").get_text(), lang
        assert not soup.select("article script")

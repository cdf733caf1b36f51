"""The built site in a real browser: language switch, search, FAQ anchors, copy button, screenshots."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import expect

from runbooks.schema import LANGUAGES
from runbooks.screenshots import shots, take_screenshots
from runbooks.site import Site

from ..built_pages import page_file, page_url, smoke_test_command_on_page, smoke_test_step_id
from ..conftest import ROOT
from .pages import PHONE

SEARCHES = [("zh", "充值"), ("en", "recharge")]
TOP_RESULTS = 5


def url_of(origin: str, lang: str, url: str) -> str:
    """The served address of the page at `url` in `lang`."""
    return origin + "/" + ("" if lang == LANGUAGES[0] else f"{lang}/") + url


def test_the_language_switch_leads_from_the_chinese_to_the_english_openai_runbook(page, origin, site, dataset):
    provider = dataset.providers.providers["openai"]
    page.goto(url_of(origin, "zh", ""))
    page.locator("article").get_by_role("link", name=provider.name("zh"), exact=True).first.click()
    page.wait_for_url(url_of(origin, "zh", "providers/openai/"))
    assert _heading(page) == provider.name("zh")

    page.locator(".md-header .md-select").hover()
    page.locator('.md-header a.md-select__link[hreflang="en"]').click()
    page.wait_for_url(url_of(origin, "en", "providers/openai/"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert _heading(page) == provider.name("en")
    assert _squeezed(provider.summary("en")) in _squeezed(page.locator("article").inner_text())


def _heading(page) -> str:
    return page.locator("article h1").inner_text().strip().removesuffix("¶").strip()


def _squeezed(text: str) -> str:
    return re.sub(r"[\s`]", "", text)


def _search(page, origin: str, site: Path, lang: str, query: str) -> list[list[str]]:
    """Type `query` into the search box of the home page in `lang`; return the links of each result, in order."""
    page.goto(url_of(origin, lang, ""))
    meta = "document.querySelector('.md-search-result__meta').textContent.trim()"
    # The box says "initializing" until the search worker has loaded the index; type only after that.
    soup = BeautifulSoup(page_file(site, lang, "").read_text(encoding="utf-8"), "html.parser")
    initializing = soup.select_one(".md-search-result__meta").get_text().strip()
    page.wait_for_function(f"text => {meta} !== text", arg=initializing)
    ready = page.evaluate(f"() => {meta}")
    box = page.locator("input.md-search__input")
    box.click()
    # The whole query at once, as an input method commits it, then the keyup the search listens to: one search
    # for the full query, not one per letter whose results could be read while the next ones replace them.
    box.fill(query)
    box.press("End")
    page.wait_for_function(f"text => {meta} !== text", arg=ready)
    results = []
    for item in page.locator(".md-search-result__list > li.md-search-result__item").all():
        hrefs = item.locator("a.md-search-result__link").evaluate_all("links => links.map(a => a.href)")
        # Drop the `?h=` highlight parameter the search adds; keep the page and its anchor.
        results.append([urlsplit(href)._replace(query="").geturl() for href in hrefs])
    return results


@pytest.mark.parametrize(("lang", "query"), SEARCHES)
def test_search_puts_the_recharge_runbooks_first(page, origin, site, dataset, lang, query):
    results = _search(page, origin, site, lang, query)[:TOP_RESULTS]
    assert results, f"searching {query!r} found nothing"
    links = [link for result in results for link in result]
    recharge_steps = {url_of(origin, lang, f"providers/{pid}/#recharge") for pid in dataset.providers.providers}
    after_recharge = url_of(origin, lang, page_url(dataset, "after-recharge"))
    faq = url_of(origin, lang, page_url(dataset, "faq"))
    assert recharge_steps & set(links), f"no provider's recharge steps among the first results: {results}"
    assert any(link == after_recharge or link.startswith(faq) for link in links), (
        f"neither the after-recharge runbook nor an FAQ entry among the first results: {results}"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_search_for_nonsense_finds_nothing(page, origin, site, lang):
    assert _search(page, origin, site, lang, "qqxzzyv") == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_faq_link_with_an_anchor_shows_its_question(browser, origin, dataset, lang):
    faqs = list(Site.of(dataset).faqs.values())
    for faq in (faqs[0], faqs[len(faqs) // 2], faqs[-1]):
        page = browser.new_page()
        try:
            page.goto(url_of(origin, lang, page_url(dataset, "faq")) + f"#{faq.id}")
            question = page.locator(f"article [id='{faq.id}']")
            expect(question).to_be_in_viewport()
            assert _squeezed(faq.question(lang)) in _squeezed(question.inner_text())
            header_bottom = page.locator(".md-header").bounding_box()["height"]
            assert question.bounding_box()["y"] >= header_bottom, f"#{faq.id} is hidden under the header"
        finally:
            page.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_copy_button_copies_the_smoke_test_command(page, origin, site, dataset, lang):
    page.set_viewport_size(PHONE)
    page.goto(url_of(origin, lang, page_url(dataset, "after-recharge")))
    page.evaluate("navigator.clipboard.writeText('')")
    block = page.locator(f"article h2#{smoke_test_step_id(dataset)} ~ .highlight").first
    block.locator("button[data-clipboard-target]").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    shown = smoke_test_command_on_page(site, dataset, lang)
    assert copied.removesuffix("\n") == shown
    server = dataset.team.server
    assert f"curl -sS {server.proxy_url}/v1/chat/completions" in copied
    assert f'"model": "{server.smoke_test_model}"' in copied


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_screenshots_show_each_page_at_desktop_size(browser, origin, dataset, tmp_path):
    written = take_screenshots(browser, origin, tmp_path, dataset)
    assert sorted(p.name for p in written) == sorted(shot.file_name for shot in shots(dataset))
    assert {_png_size(p) for p in written} == {(1280, 800)}


def test_the_readme_shows_the_committed_screenshots(dataset):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for shot in shots(dataset):
        committed = ROOT / "docs" / "assets" / "screenshots" / shot.file_name
        assert committed.is_file(), f"{committed} is missing: run `make screenshots`"
        assert _png_size(committed) == (1280, 800)
        assert f"docs/assets/screenshots/{shot.file_name}" in readme

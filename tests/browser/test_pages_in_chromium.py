"""Every page of both sites in Chromium, as a person uses it: no errors, no missing files, no page wider than a
phone, the colour scheme kept across languages, tables whose identifiers stay whole, and search terms
highlighted whole."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from runbooks import engine
from runbooks.observe.proxy import free_port

from ..conftest import ROOT
from .pages import (
    DESKTOP,
    PHONE,
    Problems,
    Visit,
    open_page,
    paths_of,
    problems_of,
    settle,
    table_problems,
    visit_all,
    widths,
)

SIZES = {"phone": PHONE, "desktop": DESKTOP}
"""The window sizes the team's pages are read at: each page is loaded on a phone, then its window widened."""


@pytest.fixture(scope="module")
def team_visits(browser, origin: str, site: Path) -> dict[str, Visit]:
    """Every page of the team's site, opened once for the tests below and read at each of `SIZES`, by path."""
    return visit_all(browser, origin, paths_of(site), SIZES)


@pytest.mark.parametrize("audience", ["internal", "public"])
def test_no_page_logs_an_error_or_requests_a_file_the_build_lacks(browser, request, audience):
    site = request.getfixturevalue("site" if audience == "internal" else "public_site")
    paths = paths_of(site)
    assert len(paths) > 20 and "404.html" in paths
    if audience == "internal":
        # The team's pages are opened once, for this test and the layout tests: at phone size, then widened.
        visits = request.getfixturevalue("team_visits")
        assert sorted(visits) == paths
        assert all(list(visit.layouts) == list(SIZES) for visit in visits.values())
        assert problems_of(visits) == {}
    else:
        assert problems_of(visit_all(browser, request.getfixturevalue("public_origin"), paths)) == {}


def test_the_watch_notices_a_missing_file_and_a_console_error(browser, origin):
    page = browser.new_page()
    problems = Problems()
    problems.watch(page)
    try:
        open_page(page, f"{origin}/")
        assert problems.seen == []
        page.evaluate("fetch('/no-such-dir/sitemap.xml').catch(() => {})")
        page.evaluate("console.error('something broke')")
        page.wait_for_timeout(300)
        assert any("HTTP 404" in p and "/no-such-dir/sitemap.xml" in p for p in problems.seen), problems.seen
        assert any(p == "console: something broke" for p in problems.seen), problems.seen
    finally:
        page.close()


class _Served:
    """`make serve` on a free port (live reload included), started at once; `origin` once both languages are served."""

    def __init__(self, log: Path) -> None:
        self.log, port = log, free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SITE_URL": f"{self.url}/"}
        with log.open("wb") as out:
            self.server = subprocess.Popen(
                engine.command("serve", *engine.config_args(ROOT / "mkdocs.yml"), "--dev-addr", f"127.0.0.1:{port}"),
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def origin(self) -> str:
        deadline = time.monotonic() + 120
        while "Serving on" not in self.log.read_text(encoding="utf-8", errors="replace"):
            assert self.server.poll() is None and time.monotonic() < deadline, self.log.read_text(encoding="utf-8")
            time.sleep(0.2)
        return self.url

    def stop(self) -> None:
        self.server.terminate()
        self.server.wait(timeout=30)


@pytest.fixture(scope="module", autouse=True)
def served(tmp_path_factory) -> Iterator[_Served]:
    """`make serve`, started with this module: its first build runs while the tests before its own visit pages."""
    serving = _Served(tmp_path_factory.mktemp("serve") / "serve.log")
    yield serving
    serving.stop()


def test_under_mkdocs_serve_no_page_requests_a_file_the_build_lacks(browser, site, dataset, served):
    # Served pages differ from built ones by the live-reload script only: one page of each kind in each language.
    first = next(iter(dataset.providers.providers))
    provider = re.compile(r"(?:[a-z]+/)?providers/([^/]+)/")
    paths = []
    for path in paths_of(site):
        match = provider.fullmatch(path)
        if not path.endswith("404.html") and (match is None or match[1] == first):
            paths.append(path)
    assert len(paths) > 10
    assert problems_of(visit_all(browser, served.origin(), paths)) == {}


# --- Width on a phone ---------------------------------------------------------------------------------


def test_no_page_scrolls_sideways_on_a_phone(team_visits):
    assert len(team_visits) > 20
    phone = {path: visit.layouts["phone"].widths for path, visit in team_visits.items()}
    assert all(client_width == PHONE["width"] for _, client_width in phone.values()), phone
    too_wide = {
        path: (scroll_width, client_width)
        for path, (scroll_width, client_width) in phone.items()
        if scroll_width > client_width
    }
    assert not too_wide, f"pages wider than {PHONE['width']} px (scrollWidth, clientWidth): {too_wide}"


def test_the_width_check_notices_a_page_that_scrolls_sideways(page, origin):
    page.set_viewport_size(PHONE)
    page.goto(f"{origin}/en/")
    scroll_width, client_width = widths(page)
    assert scroll_width <= client_width == PHONE["width"]
    page.evaluate(
        "document.querySelector('article').insertAdjacentHTML('beforeend', '<div style=\"width: 800px\">x</div>')"
    )
    scroll_width, client_width = widths(page)
    assert scroll_width > client_width


# --- The colour scheme across languages ---------------------------------------------------------------


def _scheme(page) -> str:
    return page.locator("body").get_attribute("data-md-color-scheme")


def _toggle_scheme(page) -> None:
    page.locator("form[data-md-component=palette] label:visible").first.click()


def _switch_language(page, lang: str) -> None:
    page.locator(".md-header .md-select").hover()
    with page.expect_navigation():
        page.locator(f'.md-header a.md-select__link[hreflang="{lang}"]').click()
    settle(page)


@pytest.fixture
def scheme_page(browser, origin):
    """A tab on the served site with no colour scheme chosen, and none left chosen for the tests after it."""
    page = browser.new_page()
    open_page(page, f"{origin}/")
    page.evaluate("localStorage.clear()")
    yield page
    page.evaluate("localStorage.clear()")
    page.close()


def test_the_colour_scheme_chosen_in_one_language_stays_in_the_other(scheme_page, origin):
    page = scheme_page
    open_page(page, f"{origin}/providers/openai/")
    light = _scheme(page)
    _toggle_scheme(page)
    dark = _scheme(page)
    assert dark != light
    _switch_language(page, "en")
    assert urlsplit(page.url).path == "/en/providers/openai/"
    assert _scheme(page) == dark, "the scheme chosen on the Chinese page is lost on the English one"
    _toggle_scheme(page)
    assert _scheme(page) == light
    _switch_language(page, "zh")
    assert urlsplit(page.url).path == "/providers/openai/"
    assert _scheme(page) == light, "the scheme chosen on the English page is lost on the Chinese one"


def test_the_scheme_check_notices_a_choice_the_other_language_does_not_know(scheme_page, origin):
    page = scheme_page
    light = _scheme(page)
    _toggle_scheme(page)
    # What a theme keeping the choice per language root does: the English pages have none stored.
    page.evaluate("localStorage.clear()")
    _switch_language(page, "en")
    assert _scheme(page) == light


# --- Tables --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", list(SIZES))
def test_identifiers_in_tables_stay_whole_and_tables_use_the_width(team_visits, viewport):
    layouts = {path: visit.layouts[viewport] for path, visit in team_visits.items()}
    assert sum(layout.table_count for layout in layouts.values()) > 30
    problems = {path: layout.tables for path, layout in layouts.items() if layout.tables}
    assert problems == {}, f"at {viewport} size: {problems}"


def test_tables_stacked_on_a_phone_are_laid_out_as_tables_again_when_the_window_widens(team_visits):
    stacked = {
        path: (visit.layouts["phone"].stacked, visit.layouts["desktop"].stacked) for path, visit in team_visits.items()
    }
    assert all(desktop <= phone for phone, desktop in stacked.values()), stacked
    unstacked = [path for path, (phone, desktop) in stacked.items() if desktop < phone]
    assert len(unstacked) > 10, f"widening the window laid out no stacked table as a table again: {stacked}"


def test_the_table_check_notices_a_broken_identifier_an_overflow_and_a_narrow_table(browser, origin):
    page = browser.new_page()
    page.set_viewport_size(PHONE)
    try:
        open_page(page, f"{origin}/en/")
        assert table_problems(page)[0] == {}
        long_id = "provider/" + "very-long-model-name-" * 6
        page.evaluate(
            """id => document.querySelector("article").insertAdjacentHTML("beforeend",
                 `<div class="md-typeset__scrollwrap"><div class="md-typeset__table"><table>
                    <tbody><tr><td><code style="white-space: normal; word-break: break-all">${id}</code></td></tr>
                  </tbody></table></div></div>
                  <div class="md-typeset__scrollwrap"><div class="md-typeset__table"><table>
                    <tbody><tr><td><code>${id}</code></td></tr></tbody></table></div></div>
                  <div class="md-typeset__scrollwrap"><div class="md-typeset__table">
                    <table style="width: 40%"><tbody><tr><td>x</td></tr></tbody></table></div></div>`)""",
            long_id,
        )
        found, _, _ = table_problems(page)
        assert found["broken"] == [long_id]
        assert len(found["overflowing"]) == 1
        assert len(found["narrow"]) == 1
    finally:
        page.close()


# --- Search highlighting ------------------------------------------------------------------------------


def _search_result_links(page, query: str) -> list[str]:
    box = page.locator("input.md-search__input")
    box.click()
    box.fill(query)
    box.press("End")
    page.wait_for_function("() => document.querySelectorAll('a.md-search-result__link').length > 0")
    page.wait_for_timeout(200)
    return page.locator("a.md-search-result__link").evaluate_all("links => links.map(a => a.href)")


@pytest.mark.parametrize("query", ["充值", "余额"])
def test_search_results_highlight_the_whole_chinese_term(browser, origin, site, query):
    page = browser.new_page()
    try:
        open_page(page, f"{origin}/")
        links = _search_result_links(page, query)
        assert links
        highlights = {parse_qs(urlsplit(link).query).get("h", [""])[0] for link in links}
        assert highlights == {query}, highlights
        page.goto(links[0])
        settle(page)
        marks = page.locator("article mark[data-md-highlight]").all_inner_texts()
        assert marks and set(marks) == {query}, marks
    finally:
        page.close()


def test_an_english_search_keeps_the_theme_s_highlighting(browser, origin):
    page = browser.new_page()
    try:
        open_page(page, f"{origin}/en/")
        links = _search_result_links(page, "recharge")
        highlights = {parse_qs(urlsplit(link).query).get("h", [""])[0] for link in links}
        assert highlights <= {"recharge", ""} and "recharge" in highlights, highlights
    finally:
        page.close()

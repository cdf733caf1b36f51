"""Every page of both sites in Chromium, as a person uses it: no errors, no missing files, the colour scheme
kept across languages, tables whose identifiers stay whole, and search terms highlighted whole."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from runbooks import engine

from ..conftest import ROOT

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _paths(site: Path) -> list[str]:
    """The path of every HTML page of a built site, as served (`faq/`, `en/404.html`)."""
    return sorted(p.relative_to(site).as_posix().removesuffix("index.html") for p in site.rglob("*.html"))


# --- Watching what a page does ----------------------------------------------------------------------


@dataclass
class Problems:
    """What went wrong while pages were open: console errors, uncaught exceptions, failed requests."""

    seen: list[str] = field(default_factory=list)

    def watch(self, page) -> None:
        """Record every problem of `page` and of the requests it and its workers make (the search index's)."""
        page.on("console", lambda message: message.type == "error" and self.seen.append(f"console: {message.text}"))
        page.on("pageerror", lambda error: self.seen.append(f"exception: {error}"))
        page.on("response", self._response)
        page.on("requestfailed", self._failed)

    def _response(self, response) -> None:
        if response.status >= 400:
            self.seen.append(f"HTTP {response.status}: {response.url}")

    def _failed(self, request) -> None:
        # A request cut short by leaving the page is not a missing file.
        if request.failure != "net::ERR_ABORTED":
            self.seen.append(f"failed ({request.failure}): {request.url}")


SEARCH_READY = """() => {
  const meta = document.querySelector(".md-search-result__meta");
  if (!meta) return true;
  // Once its worker holds the index, the search box says what the theme's translations call the placeholder.
  const config = JSON.parse(document.getElementById("__config").textContent);
  return meta.textContent.trim() === config.translations["search.result.placeholder"];
}"""


def _settle(page) -> None:
    """Wait until the page has done what it does on opening: the search index loaded, fonts and layout done."""
    page.wait_for_function(SEARCH_READY)
    page.evaluate("document.fonts.ready")
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def _open(page, url: str) -> None:
    """Open `url` and wait for it to settle."""
    page.goto(url)
    _settle(page)


def _visit_all(browser, origin: str, paths: list[str]) -> dict[str, list[str]]:
    """Open every page; return the problems of each page that had any."""
    page = browser.new_page()
    problems = Problems()
    problems.watch(page)
    found = {}
    try:
        for path in paths:
            problems.seen.clear()
            _open(page, f"{origin}/{path}")
            if problems.seen:
                found[path] = list(problems.seen)
    finally:
        page.close()
    return found


@pytest.mark.parametrize("audience", ["internal", "public"])
def test_no_page_logs_an_error_or_requests_a_file_the_build_lacks(browser, request, audience):
    site = request.getfixturevalue("site" if audience == "internal" else "public_site")
    origin = request.getfixturevalue("origin" if audience == "internal" else "public_origin")
    paths = _paths(site)
    assert len(paths) > 20 and "404.html" in paths
    assert _visit_all(browser, origin, paths) == {}


def test_the_watch_notices_a_missing_file_and_a_console_error(browser, origin):
    page = browser.new_page()
    problems = Problems()
    problems.watch(page)
    try:
        _open(page, f"{origin}/")
        assert problems.seen == []
        page.evaluate("fetch('/no-such-dir/sitemap.xml').catch(() => {})")
        page.evaluate("console.error('something broke')")
        page.wait_for_timeout(300)
        assert any("HTTP 404" in p and "/no-such-dir/sitemap.xml" in p for p in problems.seen), problems.seen
        assert any(p == "console: something broke" for p in problems.seen), problems.seen
    finally:
        page.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _mkdocs_serve(log: Path) -> Iterator[str]:
    """`make serve` on a free port (live reload included); yield its origin once both languages are served."""
    port = _free_port()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SITE_URL": f"http://127.0.0.1:{port}/"}
    with log.open("wb") as out:
        server = subprocess.Popen(
            engine.command("serve", *engine.config_args(ROOT / "mkdocs.yml"), "--dev-addr", f"127.0.0.1:{port}"),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while "Serving on" not in log.read_text(encoding="utf-8", errors="replace"):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_under_mkdocs_serve_no_page_requests_a_file_the_build_lacks(browser, site, dataset, tmp_path):
    # Served pages differ from built ones by the live-reload script only: one page of each kind in each language.
    first = next(iter(dataset.providers.providers))
    provider = re.compile(r"(?:[a-z]+/)?providers/([^/]+)/")
    paths = []
    for path in _paths(site):
        match = provider.fullmatch(path)
        if not path.endswith("404.html") and (match is None or match[1] == first):
            paths.append(path)
    assert len(paths) > 10
    with _mkdocs_serve(tmp_path / "serve.log") as served:
        assert _visit_all(browser, served, paths) == {}


# --- The colour scheme across languages ---------------------------------------------------------------


def _scheme(page) -> str:
    return page.locator("body").get_attribute("data-md-color-scheme")


def _toggle_scheme(page) -> None:
    page.locator("form[data-md-component=palette] label:visible").first.click()


def _switch_language(page, lang: str) -> None:
    page.locator(".md-header .md-select").hover()
    with page.expect_navigation():
        page.locator(f'.md-header a.md-select__link[hreflang="{lang}"]').click()
    _settle(page)


@pytest.fixture
def scheme_page(browser, origin):
    """A tab on the served site with no colour scheme chosen, and none left chosen for the tests after it."""
    page = browser.new_page()
    _open(page, f"{origin}/")
    page.evaluate("localStorage.clear()")
    yield page
    page.evaluate("localStorage.clear()")
    page.close()


def test_the_colour_scheme_chosen_in_one_language_stays_in_the_other(scheme_page, origin):
    page = scheme_page
    _open(page, f"{origin}/providers/openai/")
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

TABLES = """() => {
  const article = document.querySelector("article");
  const style = getComputedStyle(article);
  const column = article.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const out = {broken: [], overflowing: [], narrow: [], tables: 0};
  for (const table of article.querySelectorAll("table")) {
    out.tables += 1;
    for (const code of table.querySelectorAll("code")) {
      const lines = new Set([...code.getClientRects()].map((r) => Math.round(r.top)));
      if (lines.size > 1) out.broken.push(code.textContent);
    }
    const box = table.closest(".md-typeset__scrollwrap") || table.parentElement;
    if (table.scrollWidth > table.clientWidth + 1 || box.scrollWidth > box.clientWidth + 1) {
      out.overflowing.push([table.scrollWidth, table.clientWidth, box.scrollWidth, box.clientWidth]);
    }
    const width = table.getBoundingClientRect().width;
    if (Math.abs(width - column) > 2) out.narrow.push([Math.round(width), Math.round(column)]);
  }
  return out;
}"""


def _table_problems(page) -> dict:
    found = page.evaluate(TABLES)
    return {key: value for key, value in found.items() if key != "tables" and value}, found["tables"]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_identifiers_in_tables_stay_whole_and_tables_use_the_width(browser, origin, site, viewport):
    page = browser.new_page()
    page.set_viewport_size(viewport)
    problems, tables = {}, 0
    try:
        for path in _paths(site):
            _open(page, f"{origin}/{path}")
            found, count = _table_problems(page)
            tables += count
            if found:
                problems[path] = found
    finally:
        page.close()
    assert tables > 30
    assert problems == {}, f"at {viewport['width']} px: {problems}"


def test_the_table_check_notices_a_broken_identifier_an_overflow_and_a_narrow_table(browser, origin):
    page = browser.new_page()
    page.set_viewport_size(PHONE)
    try:
        _open(page, f"{origin}/en/")
        assert _table_problems(page)[0] == {}
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
        found, _ = _table_problems(page)
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
        _open(page, f"{origin}/")
        links = _search_result_links(page, query)
        assert links
        highlights = {parse_qs(urlsplit(link).query).get("h", [""])[0] for link in links}
        assert highlights == {query}, highlights
        page.goto(links[0])
        _settle(page)
        marks = page.locator("article mark[data-md-highlight]").all_inner_texts()
        assert marks and set(marks) == {query}, marks
    finally:
        page.close()


def test_an_english_search_keeps_the_theme_s_highlighting(browser, origin):
    page = browser.new_page()
    try:
        _open(page, f"{origin}/en/")
        links = _search_result_links(page, "recharge")
        highlights = {parse_qs(urlsplit(link).query).get("h", [""])[0] for link in links}
        assert highlights <= {"recharge", ""} and "recharge" in highlights, highlights
    finally:
        page.close()

"""Opening built pages in Chromium and reading what they did: problems, table layout and page width."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def paths_of(site: Path) -> list[str]:
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


def settle(page) -> None:
    """Wait until the page has done what it does on opening: the search index loaded, fonts and layout done."""
    page.wait_for_function(SEARCH_READY)
    page.evaluate("document.fonts.ready")
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def open_page(page, url: str) -> None:
    """Open `url` and wait for it to settle."""
    page.goto(url)
    settle(page)


# --- What a settled page shows ------------------------------------------------------------------------

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


def table_problems(page) -> tuple[dict, int]:
    """What is wrong with the tables of the open page (identifiers broken, overflowing, narrow), and how many."""
    found = page.evaluate(TABLES)
    return {key: value for key, value in found.items() if key != "tables" and value}, found["tables"]


def widths(page) -> tuple[int, int]:
    """How wide the page's content is, and how wide the window shows it."""
    return tuple(page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"))


@dataclass
class Visit:
    """One page opened at one window size: its problems, the problems of its tables and its widths."""

    problems: list[str]
    tables: dict
    table_count: int
    widths: tuple[int, int]


def visit_all(
    browser, origin: str, paths: list[str], viewport: dict[str, int] = DESKTOP, tabs: int = 2
) -> dict[str, Visit]:
    """Open every page at `viewport`'s size, let it settle, and read what it shows; `tabs` pages load at a time.

    Each page settles in front, since a hidden tab draws no frames; meanwhile the other tabs load their next page.
    """
    queue, loading, opened, visits = deque(paths), deque(), [], {}

    def load_next(page, problems: Problems) -> None:
        if queue:
            path = queue.popleft()
            problems.seen.clear()
            page.goto(f"{origin}/{path}", wait_until="commit")
            loading.append((page, problems, path))

    try:
        for _ in range(min(tabs, len(paths))):
            page = browser.new_page()
            opened.append(page)
            page.set_viewport_size(viewport)
            problems = Problems()
            problems.watch(page)
            load_next(page, problems)
        while loading:
            page, problems, path = loading.popleft()
            page.bring_to_front()
            page.wait_for_load_state("load")
            settle(page)
            tables, count = table_problems(page)
            visits[path] = Visit(list(problems.seen), tables, count, widths(page))
            load_next(page, problems)
    finally:
        for page in opened:
            page.close()
    return visits


def problems_of(visits: dict[str, Visit]) -> dict[str, list[str]]:
    """The problems of each visited page that had any."""
    return {path: visit.problems for path, visit in visits.items() if visit.problems}

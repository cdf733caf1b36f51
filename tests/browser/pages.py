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


NEXT_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
"""Wait for two frames: what a change asked for (a resize, a late font) is laid out by then."""


def settle(page) -> None:
    """Wait until the page has done what it does on opening: the search index loaded, fonts and layout done."""
    page.wait_for_function(SEARCH_READY)
    page.evaluate("document.fonts.ready")
    page.evaluate(NEXT_FRAMES)


def resize(page, size: dict[str, int]) -> None:
    """Resize the window of a settled page to `size`; return once the page has answered the resize and laid out."""
    page.evaluate("() => { window.__resized = new Promise(done => addEventListener('resize', done, {once: true})); }")
    page.set_viewport_size(size)
    page.evaluate(f"() => window.__resized.then({NEXT_FRAMES})")


def open_page(page, url: str) -> None:
    """Open `url` and wait for it to settle."""
    page.goto(url)
    settle(page)


# --- What a settled page shows ------------------------------------------------------------------------

TABLES = """() => {
  const article = document.querySelector("article");
  const style = getComputedStyle(article);
  const column = article.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const out = {broken: [], overflowing: [], narrow: [], tables: 0, stacked: 0};
  for (const table of article.querySelectorAll("table")) {
    out.tables += 1;
    if (table.dataset.layout === "stacked") out.stacked += 1;
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


def table_problems(page) -> tuple[dict, int, int]:
    """What is wrong with the tables of the open page (identifiers broken, overflowing, narrow), how many there
    are, and how many of them are laid out as one card per row."""
    found = page.evaluate(TABLES)
    counts = ("tables", "stacked")
    return (
        {key: value for key, value in found.items() if key not in counts and value},
        found["tables"],
        found["stacked"],
    )


def widths(page) -> tuple[int, int]:
    """How wide the page's content is, and how wide the window shows it."""
    return tuple(page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"))


@dataclass
class Layout:
    """What a settled page shows at one window size: its tables' problems, how many and how many stacked, its widths."""

    tables: dict
    table_count: int
    stacked: int
    widths: tuple[int, int]


def layout(page) -> Layout:
    """The layout of the open, settled page."""
    return Layout(*table_problems(page), widths(page))


@dataclass
class Visit:
    """One page opened once: what went wrong while it was open, and its layout at each window size."""

    problems: list[str]
    layouts: dict[str, Layout]


def visit_all(
    browser, origin: str, paths: list[str], sizes: dict[str, dict[str, int]] | None = None, tabs: int = 2
) -> dict[str, Visit]:
    """Open every page once and read its layout at each of `sizes` in turn (desktop only by default).

    A page is loaded at the first size and settles; the window is then resized to each further size, as
    when a phone turns or a window is widened, and the page gets two frames to lay itself out again; it
    is resized back before its tab loads the next page, so that what it does then is counted as its own.
    Each page settles in front, since a hidden tab draws no frames; meanwhile the other tabs load their next
    page (`tabs` at a time).
    """
    sizes = sizes or {"desktop": DESKTOP}
    first = next(iter(sizes.values()))
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
            page.set_viewport_size(first)
            problems = Problems()
            problems.watch(page)
            load_next(page, problems)
        while loading:
            page, problems, path = loading.popleft()
            page.bring_to_front()
            page.wait_for_load_state("load")
            settle(page)
            layouts = {}
            for name, size in sizes.items():
                if size != page.viewport_size:
                    resize(page, size)
                layouts[name] = layout(page)
            if page.viewport_size != first:
                resize(page, first)  # back to the size the tab's next page loads at, while this page is watched
            visits[path] = Visit(list(problems.seen), layouts)
            load_next(page, problems)
    finally:
        for page in opened:
            page.close()
    return visits


def problems_of(visits: dict[str, Visit]) -> dict[str, list[str]]:
    """The problems of each visited page that had any."""
    return {path: visit.problems for path, visit in visits.items() if visit.problems}

"""Reading facts back out of the built HTML, the way a reader sees them (shared by the live and browser tests)."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup

from runbooks.loader import Dataset
from runbooks.schema import LANGUAGES
from runbooks.site import Site


def page_file(site: Path, lang: str, url: str) -> Path:
    """The built `index.html` of the page at `url` (relative to its language's root) in `lang`."""
    base = site if lang == LANGUAGES[0] else site / lang
    return base / url / "index.html"


def page_url(dataset: Dataset, kind: str) -> str:
    """The URL of the one page of `kind` (`after-recharge`, `faq`…), relative to its language's root."""
    urls = [page.url for page in Site.of(dataset).pages if page.kind == kind]
    assert len(urls) == 1, f"expected one page of kind {kind!r}, found {urls}"
    return urls[0]


def smoke_test_step_id(dataset: Dataset) -> str:
    """The anchor of the after-recharge step that shows the smoke-test command."""
    ids = [step.id for step in dataset.team.after_recharge if step.command == "smoke_test"]
    assert len(ids) == 1, f"expected exactly one after-recharge step with the smoke-test command, found {ids}"
    return ids[0]


def command_under_heading(html_file: Path, anchor: str) -> str:
    """The text of the first code block after the heading `#anchor`, as the copy button would take it."""
    soup = BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser")
    heading = soup.select_one(f"article h2#{anchor}")
    assert heading is not None, f"{html_file} has no heading #{anchor}"
    block = heading.find_next(["pre", "h2"])
    assert block is not None and block.name == "pre", f"{html_file}: the step #{anchor} shows no code block"
    return block.select_one("code").get_text().removesuffix("\n")


def smoke_test_command_on_page(site: Path, dataset: Dataset, lang: str) -> str:
    """The smoke-test command exactly as the built after-recharge page in `lang` shows it."""
    return command_under_heading(
        page_file(site, lang, page_url(dataset, "after-recharge")), smoke_test_step_id(dataset)
    )
